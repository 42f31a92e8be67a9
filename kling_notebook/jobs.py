"""Jobs: generations running in the background, observable and cancellable from any thread.

A :class:`Job` runs :func:`~kling_notebook.pipeline.run_generation` (or, when resuming,
``finish_generation``) as a task on the engine loop, so a notebook cell returns at once and the
job keeps going even while another cell blocks. Subscribers (panel rows, text progress, batch
tables) get every :class:`~kling_notebook.events.JobEvent`; a late subscriber is first given the
latest event so it can draw the current state.

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
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .engine import spawn
from .events import EventHandler, JobEvent
from .models import GenerationRequest, GenerationResult
from .pipeline import finish_generation, run_generation

if TYPE_CHECKING:
    import os

    from .client import AsyncKlingClient
    from .polling import PollPolicy

__all__ = ["Job", "JobRunner", "live_generation_ids"]

log = logging.getLogger("kling_notebook")

_numbers = itertools.count(1)
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
        gate: asyncio.Semaphore | None = None,
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
        if self._gate is None:
            return await self._pipeline()
        try:
            await self._gate.acquire()
        except asyncio.CancelledError:  # cancelled while queued: subscribers still see the end
            self._emit(JobEvent(phase="cancelled", elapsed=0.0, message="cancelled before it started"))
            raise
        try:
            return await self._pipeline()
        finally:
            self._gate.release()

    async def _pipeline(self) -> GenerationResult:
        if self.generation_id is not None:
            return await finish_generation(
                self.client,
                self.generation_id,
                duration=self.duration,
                request=self.request,
                on_event=self._emit,
                **self._options,
            )
        assert self.request is not None
        return await run_generation(self.client, self.request, on_event=self._emit, **self._options)

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


class JobRunner:
    """Starts jobs on the engine loop with at most ``concurrency`` running at once."""

    def __init__(self, client: AsyncKlingClient, concurrency: int = 4) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.concurrency = concurrency
        self.jobs: list[Job] = []
        # Binds to the engine loop on first use (Python >= 3.10), wherever it is created.
        self._gate = asyncio.Semaphore(concurrency)

    def start(self, request: GenerationRequest, **options: Any) -> Job:
        job = Job(self.client, request, gate=self._gate, **options)
        self.jobs.append(job)
        return job.start()

    def pick_up(self, generation_id: str, **options: Any) -> Job:
        """A job that waits for (and saves) an already submitted generation."""
        job = Job(self.client, None, generation_id=generation_id, gate=self._gate, **options)
        self.jobs.append(job)
        return job.start()
