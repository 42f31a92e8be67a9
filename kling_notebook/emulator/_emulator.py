"""The public emulator: the gateway on a loopback port, served from its own thread and loop.

Its own event loop on its own daemon thread makes it work the same from a script, a test, or a
Jupyter cell whose loop is already running (where ``asyncio.run`` would raise). All state lives on
that loop; the public methods hop onto it, so they are safe to call from any thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from ._accounts import Account
from ._billing import DEFAULT_BALANCE
from ._faults import parse_faults
from ._gateway import Gateway
from ._http import HttpServer
from ._jobs import Clock, JobStore
from ._models import CREDITS_PER_USD, Catalogue
from ._payloads import GenerationSummary
from ._registry import Registry
from ._renders import RenderCache
from ._replies import parse_replies
from ._stats import Stats, StatsSnapshot
from ._studio import Studio

__all__ = ["Emulator"]

T = TypeVar("T")
START_TIMEOUT = 30.0


def _display_host(host: str) -> str:
    """The host to put in URLs: a wildcard bind is reached through loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close the way ``asyncio.run`` does: a call that reached the loop while it was stopping is
    ended (cancelled) rather than destroyed pending, which would leave its caller waiting."""
    leftovers = asyncio.all_tasks(loop)
    for task in leftovers:
        task.cancel()
    if leftovers:
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
    loop.close()


class Emulator:
    """A loopback HTTP server that behaves like the AI/ML API gateway for Kling image-to-video.

    ``with Emulator(time_scale=60) as emu:`` serves at ``emu.base_url`` with key ``emu.api_key``
    (or call :meth:`start` / :meth:`stop`). ``time_scale`` divides each model's generation times
    (v2.1 master: the documented 5-6 min for 5 s of video); ``job_seconds`` instead makes every
    job take exactly that long. ``seed`` makes timings, faults and reply mixes repeatable (ids
    are unique in every run); ``faults`` is a spec as documented in
    ``kling_notebook.emulator._faults``; ``replies`` a reply profile as documented in
    ``kling_notebook.emulator._replies`` (default ``""``: every reply as the schemas say,
    ``"real"``: a seeded mix of the shapes the real gateway sends); ``clock`` is a source of
    seconds to replace ``time.monotonic`` in tests. Videos are ``video_width`` px wide,
    captioned ``caption`` (None: no caption), rendered by ``render_workers`` threads (default:
    up to 2), and shared through ``render_cache`` with the emulators given the same one; an
    ``image_url`` is fetched with a ``fetch_timeout`` in seconds.

    ``GET /v2/logs`` shows a request's row ``logs_lag`` seconds (on the emulator's clock) after
    it was made. Prices are USD per second of video (``GET /v1/models?include=pricing``,
    :meth:`set_price`); credits are USD times ``credits_per_usd``. A create holds its price
    against the account's ``balance`` (USD; 403 once it would go below zero), the charge lands
    when the generation completes, a failed one is released: ``stats()["billing"]`` has the
    exact ledger. Emulators given the same ``registry`` folder answer for each other's
    generations (see ``_registry``): the demo emulators share one per user, so a demo id works
    in the next process too.

    The account has one API key to start with (``api_key``) and a ``management_key`` that makes
    more (``/v1/keys``: a class can share one account, each student with a key and a spending
    limit). ``concurrency`` caps the generations running at once on the account, whatever key
    made them: a create beyond it gets 429 with Retry-After and creates nothing.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 60.0,
        job_seconds: float | None = None,
        api_key: str | None = None,
        faults: str = "",
        replies: str = "",
        seed: int | None = None,
        video_width: int = 640,
        caption: str | None = "demo",
        clock: Callable[[], float] | None = None,
        render_workers: int | None = None,
        render_cache: RenderCache | None = None,
        fetch_timeout: float = 5.0,
        logs_lag: float = 0.0,
        credits_per_usd: float = CREDITS_PER_USD,
        balance: float = DEFAULT_BALANCE,
        registry: Path | str | None = None,
        management_key: str | None = None,
        concurrency: int | None = None,
    ) -> None:
        if video_width < 64 or video_width % 2:
            raise ValueError("video_width must be an even number of pixels, at least 64")
        self.api_key = api_key or "emu-" + secrets.token_urlsafe(18)
        self.management_key = management_key or "emu-mgmt-" + secrets.token_urlsafe(18)
        self._host = host
        self._clock = Clock(clock or time.monotonic)
        account = Account(self._clock, self.api_key, self.management_key)
        self._stats = Stats()
        self._store = JobStore(self._clock, time_scale, job_seconds, seed)
        self._studio = Studio(
            self._stats,
            width=video_width,
            caption=caption,
            workers=render_workers,
            fetch_timeout=fetch_timeout,
            shared=render_cache,
        )
        self._gateway = Gateway(
            account=account,
            store=self._store,
            studio=self._studio,
            stats=self._stats,
            faults=parse_faults(faults),
            replies=parse_replies(replies),
            seed=seed,
            logs_lag=logs_lag,
            catalogue=Catalogue(credits_per_usd),
            balance=balance,
            registry=None if registry is None else Registry(registry),
            concurrency=concurrency,
        )
        self._server = HttpServer(self._gateway.handle, host, port)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._stopped = False

    def __repr__(self) -> str:
        where = self._gateway.base_url or "not started"
        return f"<Emulator {where} jobs={len(self._store.jobs)}>"

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopped

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: what a client uses instead of ``https://api.aimlapi.com``."""
        if not self._gateway.base_url:
            raise RuntimeError("the emulator is not started; call start() or use 'with'")
        return self._gateway.base_url

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def time_scale(self) -> float:
        """How much faster than the real service jobs run (clients poll on the same scale)."""
        return self._store.time_scale

    def start(self) -> Emulator:
        """Bind and serve on a daemon thread; returns once requests are accepted."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped Emulator cannot be restarted; create a new one")
            if self._thread is None:
                started: concurrent.futures.Future[None] = concurrent.futures.Future()
                self._thread = threading.Thread(
                    target=self._run, args=(started,), name="kling-emulator", daemon=True
                )
                self._thread.start()
                started.result(timeout=START_TIMEOUT)  # re-raises a failed bind
        return self

    def stop(self) -> None:
        """Stop serving (idempotent). Stats and generations stay readable."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is not None and stopping is not None and thread is not None:
            loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout=START_TIMEOUT)

    def _run(self, started: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(started))
        finally:
            _close_loop(loop)

    async def _serve(self, started: concurrent.futures.Future[None]) -> None:
        try:
            await self._server.start()
        except BaseException as error:
            self._stopped = True
            started.set_exception(error)
            return
        self._gateway.base_url = f"http://{_display_host(self._host)}:{self._server.port}"
        self._stopping = asyncio.Event()
        started.set_result(None)
        await self._stopping.wait()
        await self._server.close()
        await self._studio.close()

    def _on_loop(self, call: Callable[[], T]) -> T:
        """Run ``call`` on the emulator's loop (directly once stopped) and return its value."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return call()
        if threading.current_thread() is thread:
            return call()

        async def run() -> T:
            return call()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=START_TIMEOUT)

    def stats(self) -> StatsSnapshot:
        """Requests by route and outcome, created ids, injected faults, downloads, renders, and
        the billing ledger (settled up to now)."""
        return self._on_loop(self._gateway.snapshot)

    def generations(self) -> dict[str, GenerationSummary]:
        """Every generation created so far, by id, with its current status."""

        return self._on_loop(self._gateway.summaries)

    def set_faults(self, spec: str) -> None:
        """Replace the fault spec at run time (ValueError if it does not parse); its scripts
        (``post#1:...``) count requests from now on. ``""`` turns faults off."""
        parsed = parse_faults(spec)
        self._on_loop(lambda: self._gateway.set_faults(parsed))

    def set_replies(self, profile: str) -> None:
        """Replace the reply profile at run time (ValueError if it does not parse); it shapes the
        generations created from now on. ``""`` makes replies schema-exact again."""
        parsed = parse_replies(profile)
        self._on_loop(lambda: self._gateway.set_replies(parsed))

    def set_price(
        self, model: str, usd_per_second: float, *, generate_audio: bool | None = None
    ) -> None:
        """Change ``model``'s live price in USD per second of video (for a model that takes
        ``generate_audio``: with audio, without, or both when None). ValueError for an unknown
        model or a negative price; generations created from now on cost the new price, and the
        catalogue's ETag changes."""
        self._on_loop(lambda: self._gateway.set_price(model, usd_per_second, generate_audio))

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (in the seconds clients experience)."""
        self._on_loop(lambda: self._clock.advance(seconds))

    def _run_async(self, work: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
        loop = self._loop
        if loop is None or not self.running:
            raise RuntimeError("the emulator is not running")
        return asyncio.run_coroutine_threadsafe(work(), loop).result(timeout=timeout)

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Wait until every clip asked for so far is produced (or failed); the clock stays."""
        self._run_async(self._studio.drain, timeout)

    def complete_all_now(self, timeout: float = 120.0) -> int:
        """Move the clock past every job's end and wait for their clips; returns the job count.

        Afterwards every generation created so far reports ``completed`` (or ``error``).
        """

        async def finish() -> int:
            self._clock.advance(max(0.0, self._store.last_finish() - self._clock.now()))
            await self._studio.drain()
            return len(self._store.jobs)

        return self._run_async(finish, timeout)
