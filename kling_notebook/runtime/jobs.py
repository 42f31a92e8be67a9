"""Jobs: generations running in the background, observable and cancellable from any thread.

Every generation runs as a :class:`Job` of its client's one :class:`JobRunner`: the panel's, a
Python ``generate()``, each item of a batch or sweep, each generation a resume waits for. So one
account has one concurrency cap and one queue for submits the gateway refuses, whatever started
them. A job is a task on the engine loop (see :mod:`~kling_notebook.runtime.engine`), so a
notebook cell returns at once and the job keeps going while another cell blocks. Subscribers
(panel rows, text progress, batch tables) get every :class:`~kling_notebook.domain.events.JobEvent`;
a late subscriber is first given the latest event so it can draw the current state. ::

    job = client.start(image="cat.jpg", prompt="the cat waves")
    job  # a live progress row as a cell's last line; later job.result() or await job.wait()

A submit refused with 429 created nothing: the job is then *held* (queued locally) and submits
again with backoff until it goes through or is cancelled (a slot at the gateway frees only when
one of the account's generations ends, minutes later), rather than failing after the client's
few retries; the runner's cap halves on each refusal and creeps back up as submits go through.
A resumed generation already holds a slot at the gateway: its job counts against the cap at once
and never waits for it (polling is free, and its video URL may expire).

Every job that is running is known process-wide (:func:`live_generation_ids`): a second panel
made by re-running its cell, or ``resume()`` from a cell, leaves alone the generations a live job
is already waiting for, so no video is polled and saved twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from ..domain import errors
from ..domain.cost import Budget
from ..domain.errors import shell_quote
from ..domain.events import EventHandler, JobEvent, Phase, describe
from ..domain.generation import GenerationResult
from ..domain.polling import PollPolicy
from ..domain.request import GenerationRequest, Prepared
from ..gateway.client import GatewayClient
from .engine import spawn
from .gate import AdaptiveLimit
from .pipeline import Reporter, resume_generation, run_generation

__all__ = ["Job", "JobRunner", "live_generation_ids", "MAX_REFUSALS", "WAITING_FOR_A_SLOT"]

log = logging.getLogger("kling_notebook")

#: How often one job's submit may be refused with 429 (and queued again) before the job fails
#: with that RateLimitError; None: until it goes through or is cancelled.
MAX_REFUSALS: int | None = None
#: What a job held by the gateway's 429 says first (the account's keys share one limit: a class
#: on one account queues, it does not fail).
WAITING_FOR_A_SLOT = "waiting for a free slot at the gateway"
#: Backoff grows no further after this many refusals (the retry policy's max_delay caps it anyway).
_MAX_BACKOFF_STEP = 10

_numbers = itertools.count(1)
_live: weakref.WeakSet[Job] = weakref.WeakSet()
_live_lock = threading.Lock()


def live_generation_ids() -> set[str]:
    """The generation ids that running jobs of this process are waiting for or downloading."""
    with _live_lock:
        jobs = list(_live)
    return {job.generation_id for job in jobs if job.generation_id and not job.done()}


class Job:
    """One generation on the engine loop. Made by :meth:`JobRunner.start` or :meth:`JobRunner.resume`.

    ``request`` is what was asked (None for a resumed id nobody journalled); ``generation_id``
    is known once the submit went through (or from the start, when resuming); ``refusals``
    counts the submits the gateway refused with 429 that were queued again.
    """

    def __init__(
        self,
        runner: JobRunner,
        work: GenerationRequest | Prepared | None,
        *,
        generation_id: str | None = None,
        duration: int | None = None,
        budget: Budget | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        poll: PollPolicy | None = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        if work is None and generation_id is None:
            raise ValueError("a Job needs a request to submit or a generation id to resume")
        self.number = next(_numbers)
        self.runner = runner
        self.client = runner.client
        self._work = work
        self.request = work.request if isinstance(work, Prepared) else work
        self.generation_id = generation_id
        self.resumed = generation_id is not None
        self.duration = duration or (self.request.duration if self.request else None)
        self.refusals = 0
        self._budget = budget
        self._options: dict[str, Any] = {"out_dir": out_dir, "poll": poll, "timeout": timeout}
        self._lock = threading.Lock()
        self._subscribers: list[EventHandler] = [on_event] if on_event else []
        self.last_event: JobEvent | None = None
        self._future: concurrent.futures.Future[GenerationResult] | None = None

    def __repr__(self) -> str:
        phase = self.last_event.phase if self.last_event else "new"
        return f"<Job #{self.number} {phase} {self.generation_id or ''}>".replace(" >", ">")

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        """A live progress row that becomes the video (widget front ends); a line of text elsewhere."""
        event = self.last_event
        text = {"text/plain": f"Job #{self.number}: {describe(event) if event else 'starting'}"}
        try:
            from ..frontends.panel._progress import JobsView
        except ImportError:  # no widget library installed: text is all there is
            return text
        return {**JobsView([self]).widget_bundle(), **text}

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
            except Exception:  # a display problem must not lose a paid generation, nor starve
                log.exception("progress handler failed")  # the other views of their events

    def _say(self, phase: Phase, started: float, message: str) -> None:
        """An event of the job's own, outside the pipeline (nothing is sent in these phases)."""
        self._emit(JobEvent(phase=phase, elapsed=time.monotonic() - started, message=message))

    # -- running ------------------------------------------------------------------------------

    def start(self) -> Job:
        if self._future is None:
            with _live_lock:
                _live.add(self)
            self._future = spawn(self._run())
        return self

    async def _run(self) -> GenerationResult:
        started = time.monotonic()
        report = Reporter(self._forward, started)
        gate = self.runner.gate
        if self.resumed:
            assert self.generation_id is not None
            gate.occupy()
            try:
                return await resume_generation(
                    self.client, self.generation_id, report, duration=self.duration,
                    request=self.request, **self._options,
                )
            finally:
                gate.release()
        assert self._work is not None
        while True:
            await self._held(started, self._acquire(started))
            try:
                return await run_generation(self.client, self._work, report, budget=self._budget, **self._options)
            except errors.RateLimitError as exc:
                if self.generation_id is not None:  # a status read ran out of retries, not a refusal
                    raise
                refused = exc
            finally:
                gate.release()
            if MAX_REFUSALS is not None and self.refusals >= MAX_REFUSALS:
                self._emit(JobEvent(phase="failed", elapsed=report.elapsed, error=refused, message=str(refused)))
                raise refused
            self.refusals += 1
            gate.backed_off()
            delay = self.client.retry.delay(min(self.refusals, _MAX_BACKOFF_STEP), refused.retry_after)
            self._say("held", started, f"{WAITING_FOR_A_SLOT}: the account's concurrency limit is reached "
                      f"(HTTP 429, nothing was created); submitting again in {delay:.0f} s. Cancel stops "
                      "it; nothing is charged.")
            await self._held(started, self.client.clock.sleep(delay))

    def _forward(self, event: JobEvent) -> None:
        """The pipeline's events, to the subscribers; a refused submit does not end the job."""
        if event.generation_id and self.generation_id is None:
            self.runner.gate.succeeded()
        refused = isinstance(event.error, errors.RateLimitError) and self.generation_id is None
        if not (event.phase == "failed" and refused):
            self._emit(event)

    async def _acquire(self, started: float) -> None:
        """Take a slot of the runner's cap, saying so while none is free."""
        gate = self.runner.gate
        if gate.in_flight >= gate.limit:
            self._say("held", started,
                      f"waiting for a free slot: {gate.in_flight} generations of this account are running")
        await gate.acquire()

    async def _held(self, started: float, waiting: Awaitable[None]) -> None:
        """Wait while nothing is sent; a cancel then ends the job with its final event."""
        try:
            await waiting
        except asyncio.CancelledError:
            self._say("cancelled", started, "cancelled before it was sent")
            raise

    def cancel(self) -> bool:
        """Stop waiting. There is no cancel endpoint: a submitted job may still finish server-side."""
        return self._future.cancel() if self._future else False

    def stopped_waiting(self) -> str:
        """What stopping this job means, in one sentence (said when a wait for it is interrupted)."""
        if self.generation_id:
            return (
                f"Stopped waiting: generation {self.generation_id} goes on at the gateway (and is "
                "charged); kling_notebook.resume() or "
                f"`kling-notebook wait {shell_quote(self.generation_id)}` saves its video later."
            )
        if self.last_event is not None and self.last_event.phase == "submitting":
            return ("Stopped while the request was being sent: it may or may not have started a generation; "
                    "kling_notebook.resume() looks it up before anything is sent again.")
        return "Stopped before anything was sent: nothing is charged."

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
        """Await the job from any event loop (a notebook cell: ``await job.wait()``). Cancelling
        the awaiting task cancels the job."""
        if self._future is None:
            raise RuntimeError("job not started")
        return await asyncio.wrap_future(self._future)


class JobRunner:
    """Every job of one client, under one concurrency cap for its account: at most
    ``concurrency`` generations from submit to saved file, halved while the gateway refuses
    submits with 429 and raised again as they go through. Get it as ``client.runner``."""

    def __init__(self, client: GatewayClient, concurrency: int = 4) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.concurrency = concurrency
        self.jobs: list[Job] = []
        # Used on the engine loop only, wherever the runner is created.
        self.gate = AdaptiveLimit(concurrency)

    def start(self, work: GenerationRequest | Prepared, **options: Any) -> Job:
        """A job that submits ``work`` (checked first unless it is already :class:`Prepared`).
        ``options``: ``budget``, ``out_dir``, ``poll``, ``timeout``, ``on_event``."""
        return self._started(Job(self, work, **options))

    def resume(self, generation_id: str, *, request: GenerationRequest | None = None, **options: Any) -> Job:
        """A job that waits for (and saves) an already submitted generation; nothing is sent.
        ``options``: ``duration``, ``out_dir``, ``poll``, ``timeout``, ``on_event``."""
        return self._started(Job(self, request, generation_id=generation_id, **options))

    def _started(self, job: Job) -> Job:
        self.jobs.append(job)
        return job.start()
