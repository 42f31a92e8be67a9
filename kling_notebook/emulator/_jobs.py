"""Generations and their lifecycle, computed from the clock at request time.

A job's whole timeline is fixed when it is created (queued until ``started_at``, generating until
``finished_at``), so answering a poll is arithmetic: no timer per job, and a thousand waiting jobs
cost nothing. Durations follow each model's timing (for v2.1 master the gateway's docs: 5-6 min
for a 5 s video, 11-14 min for 10 s), drawn uniformly from a seeded RNG and divided by
``time_scale``; ``job_seconds`` overrides them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ._ids import new_id, new_token
from ._models import ModelSpec
from ._replies import ReplyShape
from ._validation import Flavor, GenerationRequest

__all__ = ["Clock", "Job", "JobStore", "Outcome", "Status"]

Status = Literal["queued", "generating", "completed", "error"]
QUEUED_FRACTION = 0.1  # the first tenth of a job is spent queued


class Clock:
    """Monotonic seconds (or an injected source) plus an offset tests can :meth:`advance`."""

    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._offset = 0.0
        self._epoch = time.time() - source()

    def now(self) -> float:
        return self._source() + self._offset

    def wall(self) -> float:
        """Unix time on this clock: the real time at start, moved on by :meth:`advance` too (what
        expiries, timestamps and daily resets are measured on)."""
        return self._epoch + self.now()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds


@dataclass(frozen=True)
class Outcome:
    """How production ended: a clip (and for a video whose CDN object changes, its second
    version), or the error a client will see."""

    video: bytes | None = None
    error_name: str = ""
    error_message: str = ""
    revision: bytes | None = None


@dataclass
class Job:
    """One generation: what was asked, its timeline, its injected fate, and its product."""

    id: str
    flavor: Flavor
    request: GenerationRequest
    created_at: float
    started_at: float
    finished_at: float
    token: str  # the secret part of its video URL
    shape: ReplyShape = field(default_factory=ReplyShape)  # how its replies look
    fault: str | None = None  # "error" or "no_video" (fault scope ``job``)
    download_fault: str | None = None  # "fail_once" or "reset_once" (scope ``download``)
    outcome: Outcome | None = None  # None while the clip is being produced
    downloads: int = 0  # GET requests for its video so far

    client_request_id: str | None = None  # the X-Client-Request-Id its create carried
    usd: float = 0.0  # its price when it was created
    credits: int = 0

    def final_at(self, known_at: float) -> float:
        """When the status turns final, the outcome having been known since ``known_at``: a bad
        input fails as it leaves the queue, anything else ends at ``finished_at``."""
        failed_input = self.outcome is not None and self.outcome.video is None
        return max(self.started_at if failed_input else self.finished_at, known_at)

    def status(self, now: float) -> Status:
        """The status a poll at ``now`` sees. Production must be done before the job is."""
        if now < self.started_at:
            return "queued"
        if self.outcome is not None and self.outcome.video is None:
            return "error"  # a bad input image fails as soon as the job leaves the queue
        if now < self.finished_at or self.outcome is None:
            return "generating"
        return "error" if self.fault == "error" else "completed"


class JobStore:
    """Creates jobs with seeded ids and durations, and finds them by id or video token."""

    def __init__(
        self, clock: Clock, time_scale: float, job_seconds: float | None, seed: int | None
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if job_seconds is not None and job_seconds < 0:
            raise ValueError("job_seconds must not be negative")
        self.clock = clock
        self.time_scale = time_scale
        self.job_seconds = job_seconds
        self._rng = random.Random(seed)
        self.jobs: dict[str, Job] = {}
        self.by_token: dict[str, Job] = {}

    def _length(self, spec: ModelSpec, duration: int) -> float:
        if self.job_seconds is not None:
            return self.job_seconds
        return self._rng.uniform(*spec.timing.window(duration)) / self.time_scale

    def create(
        self,
        flavor: Flavor,
        request: GenerationRequest,
        shape: ReplyShape,
        spec: ModelSpec,
        price: tuple[float, int],
    ) -> Job:
        """A new job of ``spec``'s model costing ``price`` (USD, credits); an ``instant`` one is
        done as soon as its clip is."""
        length = 0.0 if shape.create == "instant" else self._length(spec, request.duration)
        timeline = (QUEUED_FRACTION * length, length)
        generation_id = new_id(shape.id, spec.id_suffix)
        return self.adopt(generation_id, flavor, request, 0.0, timeline, shape, price)

    def adopt(
        self,
        generation_id: str,
        flavor: Flavor,
        request: GenerationRequest,
        since: float,
        timeline: tuple[float, float],
        shape: ReplyShape,
        price: tuple[float, int],
    ) -> Job:
        """Keep a job created ``since`` seconds ago that leaves the queue and ends ``timeline``
        seconds after its creation (a new one, or one another emulator made: it keeps its id,
        timeline and shape; its video gets a URL of this emulator's)."""
        created = self.clock.now() - since
        queued_for, length = timeline
        job = Job(
            id=generation_id,
            flavor=flavor,
            request=request,
            created_at=created,
            started_at=created + queued_for,
            finished_at=created + length,
            token=new_token(),
            shape=shape,
            usd=price[0],
            credits=price[1],
        )
        self.jobs[job.id] = job
        self.by_token[job.token] = job
        return job

    def last_finish(self) -> float:
        return max((job.finished_at for job in self.jobs.values()), default=self.clock.now())
