"""Jobs: generations running in the background, observable and cancellable from any thread.

A :class:`Job` runs :func:`~kling_notebook.runtime.pipeline.run_generation` (or, when resuming,
``finish_generation``) as a task on the engine loop, so a notebook cell returns at once and the
job keeps going even while another cell blocks. Subscribers (panel rows, text progress, batch
tables) get every :class:`~kling_notebook.domain.events.JobEvent`; a late subscriber is first given the
latest event so it can draw the current state.

From plain Python in a notebook, ``JobRunner(client).start(request)`` returns at once; a job as
a cell's last line shows itself as a live progress row that becomes the video when it is done
(the panel's views, loaded only then: this module never imports ipywidgets), and as a line of
text where there are no widgets::

    runner = JobRunner(kling_notebook.connect())
    job = runner.start(GenerationRequest(image="cat.jpg", prompt="the cat waves"))
    job  # later: job.result() or await job.wait()

A submit refused with 429 created nothing: the job then waits, queued locally, and submits
again with backoff until it goes through or is cancelled (a slot at the gateway frees only when
one of the account's generations ends, minutes later), rather than failing after the client's
few retries. The :class:`JobRunner`'s cap halves on such a refusal, as a batch's does.

Every job that is running is known process-wide (:func:`live_generation_ids`): a second panel
made by re-running its cell, or ``resume()`` from a cell, leaves alone the generations a live job
is already waiting for, so no video is polled and saved twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..domain import errors
from ..domain.events import EventHandler, JobEvent, Phase, describe
from ..domain.generation import GenerationResult
from ..domain.request import GenerationRequest
from .engine import spawn
from .gate import AdaptiveLimit
from .pipeline import finish_generation, run_generation

if TYPE_CHECKING:
    import os

    from ..domain.polling import PollPolicy
    from .client import AsyncKlingClient

__all__ = ["Job", "JobRunner", "live_generation_ids"]

log = logging.getLogger("kling_notebook")

_numbers = itertools.count(1)
#: Backoff grows no further after this many refusals (the retry policy's max_delay caps it anyway).
_MAX_BACKOFF_STEP = 10
_live: weakref.WeakSet[Job] = weakref.WeakSet()
_live_lock = threading.Lock()


def live_generation_ids() -> set[str]:
    """The generation ids that running jobs of this process are waiting for or downloading."""
    with _live_lock:
        jobs = list(_live)
    return {job.generation_id for job in jobs if job.generation_id and not job.done()}


class Job:
    """One generation on the engine loop. Create it with :meth:`JobRunner.start`."""

    def __init__(
        self,
        client: AsyncKlingClient,
        request: GenerationRequest | None,
        *,
        generation_id: str | None = None,
        duration: int | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        poll: PollPolicy | None = None,
        timeout: float | None = None,
        gate: AdaptiveLimit | None = None,
    ) -> None:
        if request is None and generation_id is None:
            raise ValueError("a Job needs a request to submit or a generation id to pick up")
        self.number = next(_numbers)
        self.client = client
        self.request = request
        self.generation_id = generation_id
        self.duration = duration or (request.duration if request else None)
        self._options: dict[str, Any] = {"out_dir": out_dir, "poll": poll, "timeout": timeout}
        self._gate = gate
        self._lock = threading.Lock()
        self._subscribers: list[EventHandler] = []
        self.last_event: JobEvent | None = None
        self._future: concurrent.futures.Future[GenerationResult] | None = None

    def __repr__(self) -> str:
        phase = self.last_event.phase if self.last_event else "new"
        return f"<Job #{self.number} {phase} {self.generation_id or ''}>".replace(" >", ">")

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        """A live progress row, then the result view (widget front ends); a line of text elsewhere."""
        event = self.last_event
        text = {"text/plain": f"Job #{self.number}: {describe(event) if event else 'starting'}"}
        try:
            from ..frontends.panel._progress import ProgressRow
        except ImportError:  # no ipywidgets installed: text is all there is
            return text
        return {**ProgressRow(self)._repr_mimebundle_(include=include, exclude=exclude), **text}

    # -- events -------------------------------------------------------------------------------

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler`` with every event (and now with the latest one); returns an unsubscribe."""
        with self._lock:
            self._subscribers.append(handler)
            last = self.last_event
        if last is not None:
            handler(last)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._subscribers:
                    self._subscribers.remove(handler)

        return unsubscribe

    def _emit(self, event: JobEvent) -> None:
        with self._lock:
            if event.generation_id:
                self.generation_id = event.generation_id
            self.last_event = event
            subscribers = list(self._subscribers)
        for handler in subscribers:
            try:
                handler(event)
            except Exception:  # one broken view must not starve the others of events
                log.exception("job subscriber failed")

    # -- running ------------------------------------------------------------------------------

    def start(self) -> Job:
        if self._future is None:
            self._future = spawn(self._run())
            self._track()
        return self

    def _track(self) -> None:
        """Count this job in :func:`live_generation_ids` until it is done."""
        with _live_lock:
            _live.add(self)

    async def _run(self) -> GenerationResult:
        started = time.monotonic()
        refusals = 0
        while True:
            await self._queued(started, self._acquire(started))
            try:
                return await self._attempt()
            except _Refused as refused:
                refusals += 1
                delay = self.client.retry.delay(min(refusals, _MAX_BACKOFF_STEP), refused.error.retry_after)
                if self._gate is not None:
                    self._gate.backed_off()
            finally:
                if self._gate is not None:
                    self._gate.release()
            self._say("waiting", started, "queued locally: the gateway's concurrency limit is reached "
                      f"(HTTP 429, nothing was created); submitting again in {delay:.0f} s. Cancel stops "
                      "it; nothing is charged.")
            await self._queued(started, self.client.clock.sleep(delay))

    async def _acquire(self, started: float) -> None:
        """Take a slot of the runner's cap, saying so while none is free."""
        gate = self._gate
        if gate is None:
            return
        if gate.in_flight >= gate.limit:
            self._say("waiting", started,
                      f"waiting for a free slot: {gate.in_flight} generations of this runner are running")
        await gate.acquire()

    async def _queued(self, started: float, waiting: Awaitable[None]) -> None:
        """Wait while nothing is sent; a cancel then ends the job with its final event."""
        try:
            await waiting
        except asyncio.CancelledError:
            self._say("cancelled", started, "cancelled before it was sent")
            raise

    def _say(self, phase: Phase, started: float, message: str) -> None:
        """An event of the job's own, before the pipeline runs (nothing is sent in these phases)."""
        self._emit(JobEvent(phase=phase, elapsed=time.monotonic() - started, message=message))

    async def _attempt(self) -> GenerationResult:
        """One run of the pipeline; a submit refused with 429 raises _Refused (nothing created)."""

        def forward(event: JobEvent) -> None:
            if event.generation_id and self.generation_id is None and self._gate is not None:
                self._gate.succeeded()
            if not (event.phase == "failed" and _refused_submit(self, event.error)):
                self._emit(event)  # a refused submit does not end the job: it queues again

        try:
            return await self._pipeline(forward)
        except errors.RateLimitError as exc:
            if _refused_submit(self, exc):
                raise _Refused(exc) from exc
            raise

    async def _pipeline(self, on_event: EventHandler) -> GenerationResult:
        if self.generation_id is not None:
            return await finish_generation(
                self.client,
                self.generation_id,
                duration=self.duration,
                request=self.request,
                on_event=on_event,
                **self._options,
            )
        assert self.request is not None
        return await run_generation(self.client, self.request, on_event=on_event, **self._options)

    def cancel(self) -> bool:
        """Stop waiting. There is no cancel endpoint: a submitted job may still finish server-side."""
        return self._future.cancel() if self._future else False

    def done(self) -> bool:
        return self._future is not None and self._future.done()

    def add_done_callback(self, callback: Callable[[Job], None]) -> None:
        """Call ``callback(job)`` (on the engine thread) once the job has ended, however it ended:
        views refresh what they list then (a job that ended without its video is unfinished)."""
        if self._future is None:
            raise RuntimeError("job not started")
        self._future.add_done_callback(lambda _future: callback(self))

    def result(self, timeout: float | None = None) -> GenerationResult:
        """Block until the job ends (from any thread but the engine's)."""
        if self._future is None:
            raise RuntimeError("job not started")
        return self._future.result(timeout)

    async def wait(self) -> GenerationResult:
        """Await the job from any event loop (a notebook cell: ``await job.wait()``)."""
        if self._future is None:
            raise RuntimeError("job not started")
        return await asyncio.wrap_future(self._future)


class _Refused(Exception):
    """The submit was refused with 429 after the client's own retries: nothing was created."""

    def __init__(self, error: errors.RateLimitError) -> None:
        super().__init__(str(error))
        self.error = error


def _refused_submit(job: Job, error: BaseException | None) -> bool:
    """A 429 before the job had a generation id: the submit was refused, nothing created."""
    return isinstance(error, errors.RateLimitError) and job.generation_id is None


class JobRunner:
    """Starts jobs on the engine loop with at most ``concurrency`` running at once (halved while
    the gateway refuses submits with 429, raised again as they go through)."""

    def __init__(self, client: AsyncKlingClient, concurrency: int = 4) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.concurrency = concurrency
        self.jobs: list[Job] = []
        # Used on the engine loop only, wherever the runner is created.
        self._gate = AdaptiveLimit(concurrency)

    def start(self, request: GenerationRequest, **options: Any) -> Job:
        job = Job(self.client, request, gate=self._gate, **options)
        self.jobs.append(job)
        return job.start()

    def pick_up(self, generation_id: str, **options: Any) -> Job:
        """A job that waits for (and saves) an already submitted generation."""
        job = Job(self.client, None, generation_id=generation_id, gate=self._gate, **options)
        self.jobs.append(job)
        return job.start()
