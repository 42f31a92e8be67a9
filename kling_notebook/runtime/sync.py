"""``KlingClient``: the same methods as the async client, blocking.

Each call runs on the shared engine loop (see :mod:`kling_notebook.runtime.engine`), so it works the same in
a plain script and inside a running notebook cell, and the async code exists only once.
Callbacks (``on_update``, ``on_progress``, ``on_event``) are called on the engine thread.
Each method has the signature of its :class:`AsyncKlingClient` twin, so ``help()`` and tab
completion show the real arguments here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..domain.cost import Budget, CostEstimate, PriceTable
from ..domain.events import EventHandler
from ..domain.generation import Generation, GenerationResult
from ..domain.images import ImageInfo
from ..domain.polling import PollPolicy
from ..domain.request import GenerationRequest, Prepared
from ..gateway.settings import Endpoint
from .batch import BatchResult
from .client import AsyncKlingClient
from .engine import run_blocking
from .jobs import Job

__all__ = ["KlingClient"]


class KlingClient:
    """Blocking client: every method of :class:`AsyncKlingClient`, returning when it is done.

    ``KlingClient(client=connect())`` wraps a client (your key from the environment, else demo
    mode); otherwise the arguments are :class:`AsyncKlingClient`'s (``api_key``, ``base_url``,
    ``endpoint``, and keywords such as ``out_dir=``, ``budget=``, ``concurrency=``). Use it as a
    context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        endpoint: Endpoint = "universal",
        *,
        client: AsyncKlingClient | None = None,
        **options: Any,
    ) -> None:
        #: The async client doing the work (its settings, journal and budget are this one's).
        self.async_client = client or AsyncKlingClient(api_key, base_url, endpoint, **options)

    def __repr__(self) -> str:
        inner = self.async_client
        mode = ", demo=True" if inner.demo else ""
        return f"KlingClient(base_url={inner.base_url!r}, endpoint={inner.endpoint!r}{mode})"

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def demo(self) -> bool:
        """True when talking to the local emulator (simulated videos, no credits used)."""
        return self.async_client.demo

    @property
    def out_dir(self) -> Path:
        """Where videos, sidecars and the journal go."""
        return self.async_client.out_dir

    @property
    def mode_label(self) -> str:
        """Where generations go, and whether they cost, in one line."""
        return self.async_client.mode_label

    def close(self) -> None:
        """Close the HTTP connections (and a journal this client opened itself)."""
        run_blocking(self.async_client.aclose())

    def price_table(self, models: Iterable[str] = ()) -> PriceTable:
        """The price table in force for ``models``: the client's, with the gateway's live prices
        over it when this client reads them (``live_prices=True``)."""
        return run_blocking(self.async_client.price_table(models))

    def estimate(self, request: GenerationRequest, count: int = 1) -> CostEstimate:
        """What ``request`` is expected to cost, following its model (and audio), labelled with
        where the price comes from. Sends nothing paid."""
        return run_blocking(self.async_client.estimate(request, count))

    def check(
        self, request: GenerationRequest | None = None, /, *, probed: ImageInfo | None = None, **fields: Any
    ) -> Prepared:
        """Check everything that can be checked before paying, and estimate the price; nothing is
        sent to the gateway. :meth:`submit` takes the result. Fields as in :class:`GenerationRequest`
        (``image=``, ``prompt=``, ``duration=``...)."""
        return run_blocking(self.async_client.check(request, probed=probed, **fields))

    def submit(
        self,
        request: GenerationRequest | Prepared | None = None,
        /,
        *,
        budget: Budget | None = None,
        **fields: Any,
    ) -> Generation:
        """Create a generation (the call that costs money) and return it with its id, which is
        in the journal before this returns. Takes what :meth:`check` returned, a
        :class:`GenerationRequest`, or its fields as keywords. Refused before anything is sent
        when the estimate does not fit the client's budget or ``budget``."""
        return run_blocking(self.async_client.submit(request, budget=budget, **fields))

    def get(self, generation: Generation | str) -> Generation:
        """The current state of a generation, by object or id: a free read that writes nothing."""
        return run_blocking(self.async_client.get(generation))

    def wait(
        self,
        generation: Generation | str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        on_update: Callable[[Generation], None] | None = None,
        duration: int | None = None,
    ) -> Generation:
        """Poll until the generation completes and return it with its video URL.

        Raises GenerationFailedError, MissingVideoError, or WaitTimeoutError once ``timeout``
        seconds pass (default: 15 min for a 5 s video, 30 for 10 s); the id stays valid.
        ``on_update`` sees every status read. Transient faults never end the wait early.
        """
        return run_blocking(
            self.async_client.wait(generation, timeout=timeout, poll=poll, on_update=on_update, duration=duration)
        )

    def download(
        self,
        generation: Generation,
        path: str | os.PathLike[str],
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Stream the video to ``path`` (through ``path.part``, continued after a fault); the file
        appears under its name only when complete. ``on_progress(bytes_done, total)``."""
        return run_blocking(self.async_client.download(generation, path, on_progress))

    def start(
        self,
        request: GenerationRequest | Prepared | None = None,
        /,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        poll: PollPolicy | None = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
        **fields: Any,
    ) -> Job:
        """Start the whole generation in the background and return its :class:`Job` at once
        (``job.result()`` blocks until the video is saved)."""
        return self.async_client.start(
            request, out_dir=out_dir, poll=poll, timeout=timeout, on_event=on_event, **fields
        )

    def generate(
        self,
        request: GenerationRequest | Prepared | None = None,
        /,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        poll: PollPolicy | None = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
        **fields: Any,
    ) -> GenerationResult:
        """Submit, wait, download and record: the whole job. Returns the saved result.

        Takes a :class:`GenerationRequest` or its fields as keywords (``image=``, ``prompt=``,
        ``duration=``...). ``on_event`` receives progress events on the engine thread. Ctrl-C
        stops waiting and says which generation goes on at the gateway; ``resume()`` saves it.
        """
        job = self.start(request, out_dir=out_dir, poll=poll, timeout=timeout, on_event=on_event, **fields)
        try:
            return run_blocking(job.wait())
        except KeyboardInterrupt:  # Ctrl-C, or Jupyter's stop button: say what goes on
            job.cancel()
            raise KeyboardInterrupt(job.stopped_waiting()) from None

    def batch(
        self,
        requests: Iterable[GenerationRequest],
        *,
        confirm: bool = False,
        budget: Budget | None = None,
        on_job: Callable[[Job], None] | None = None,
        **options: Any,
    ) -> BatchResult:
        """Run many generations under this client's concurrency cap. ``confirm=True`` is required:
        without it the count and estimated cost are raised in an error and nothing is sent.
        ``options``: ``out_dir``, ``poll``, ``timeout``."""
        return run_blocking(
            self.async_client.batch(requests, confirm=confirm, budget=budget, on_job=on_job, **options)
        )
