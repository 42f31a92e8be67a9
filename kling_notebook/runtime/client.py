"""``AsyncKlingClient``: the gateway's calls, plus whole generations run as jobs of one runner.

The HTTP half lives in :class:`~kling_notebook.gateway.client.GatewayClient`, which knows nothing
of pipelines or jobs. This subclass adds what runs *many* calls for one generation, always through
the client's one :class:`~kling_notebook.runtime.jobs.JobRunner`: ``generate()`` is a job awaited,
``start()`` a job left running, ``batch()`` many jobs confirmed together.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..domain.cost import Budget
from ..domain.events import EventHandler
from ..domain.generation import GenerationResult
from ..domain.polling import PollPolicy
from ..domain.request import GenerationRequest, Prepared, request_from
from ..gateway.client import GatewayClient
from .batch import BatchResult, run_batch
from .jobs import Job, JobRunner

__all__ = ["AsyncKlingClient"]

log = logging.getLogger("kling_notebook")

_runner_lock = threading.Lock()


class AsyncKlingClient(GatewayClient):
    """Async client for Kling v2.1 master image-to-video on the AI/ML API gateway.

    ``api_key``: else AIMLAPI_KEY / AIML_API_KEY / AIMLAPI_API_KEY. ``base_url``: else
    AIMLAPI_BASE_URL / AIML_API_BASE, else https://api.aimlapi.com. ``endpoint``: "universal"
    (``/v2/video/generations``) or "legacy" (``/v2/generate/video/kling/generation``).
    ``journal``: True (a journal in ``out_dir``), False, or a :class:`Journal`.
    ``budget``: an optional :class:`Budget` every submit reserves from (refused past it);
    ``prices``: the table behind the estimate journalled with every submit. ``concurrency``:
    how many generations the client runs at once, from submit to saved file (lowered while the
    gateway answers 429); the rest wait, held locally, without being sent.
    """

    _runner: JobRunner | None = None

    @property
    def runner(self) -> JobRunner:
        """The one runner of every job this client starts: one cap and one 429 queue."""
        with _runner_lock:
            if self._runner is None:
                self._runner = JobRunner(self, self.concurrency)
            return self._runner

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
        """Start the whole job in the background and return it at once (see :meth:`generate`)."""
        work = request if isinstance(request, Prepared) else request_from(request, fields)
        return self.runner.start(work, out_dir=out_dir, poll=poll, timeout=timeout, on_event=on_event)

    async def generate(
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
        ``duration=``...). ``on_event`` receives :class:`~kling_notebook.domain.events.JobEvent`
        objects (progress) on the engine thread. Cancelling the call stops waiting; a submitted
        generation goes on at the gateway and ``resume()`` saves it.
        """
        job = self.start(request, out_dir=out_dir, poll=poll, timeout=timeout, on_event=on_event, **fields)
        try:
            return await job.wait()
        except asyncio.CancelledError:  # an interrupted cell: say what goes on, and how to get it
            log.warning("%s", job.stopped_waiting())
            raise

    async def batch(
        self,
        requests: Iterable[GenerationRequest],
        *,
        confirm: bool = False,
        budget: Budget | None = None,
        on_job: Callable[[Job], None] | None = None,
        **options: Any,
    ) -> BatchResult:
        """Run many generations as jobs of this client (its cap, lowered on 429, holds for all).

        ``confirm=True`` is required: without it the count and estimated cost are raised in an
        error and nothing is sent. ``on_job`` gets each job as it starts. ``options``:
        ``out_dir``, ``poll``, ``timeout``.
        """
        return await run_batch(self.runner, requests, confirm=confirm, budget=budget, on_job=on_job, **options)
