"""One progress row per job as JSON for the view, and the list of rows a view publishes, throttled.

A row takes any :class:`~kling_notebook.runtime.jobs.Job` (new, resumed or from a batch) and is
driven only by its events, which arrive on the engine thread. The row list publishes at most a
few times a second (a download reports every chunk) and at once for a job's end; between
updates the browser moves the clock itself from the elapsed time and the estimate it was sent,
so the clock moves even while the kernel is blocked.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...domain.events import JobEvent
from ...domain.formatting import format_bytes
from ..display import _remote_url, concrete_mode, details_html, relative_url
from ._html import Tone, error_html, note
from ._video import VideoShelf

if TYPE_CHECKING:
    from ...domain.generation import GenerationResult
    from ...domain.request import GenerationRequest
    from ...runtime.jobs import Job

__all__ = ["JobRow", "RowList", "PHASE_WORDS", "request_title", "cancelled_words", "THROTTLE_SECONDS"]

#: What each phase means to the user.
PHASE_WORDS = {
    "held": "queued locally",
    "checking": "checking the image",
    "submitting": "submitting (paid step)",
    "queued": "queued at the gateway",
    "generating": "generating",
    "downloading": "downloading the video",
    "completed": "done",
    "failed": "failed",
    "cancelled": "stopped waiting",
}
_TONES: dict[str, Tone] = {"completed": "ok", "failed": "bad", "cancelled": "warn"}
#: At most one update of the rows per this many seconds reaches the browser (ends: at once).
THROTTLE_SECONDS = 0.25


def request_title(number: int, request: GenerationRequest) -> str:
    """``#3 · 5 s · “the prompt…”``: how a job is named in rows and lists (text, escape it)."""
    prompt = (request.prompt or "no prompt").strip()
    short = prompt if len(prompt) <= 60 else prompt[:57] + "\u2026"
    return f"#{number} \u00b7 {request.duration} s \u00b7 \u201c{short}\u201d"


def _title(job: Job) -> str:
    if job.request is None:
        return f"#{job.number} resumed: {job.generation_id}"
    return request_title(job.number, job.request)


def cancelled_words(generation_id: str | None, previous: str | None, demo: bool = False) -> str:
    """What stopping means for this job: nothing sent, maybe sent, or still running remotely."""
    charged = "" if demo else " (and charged)"
    if generation_id and previous == "downloading":
        return (
            f"Stopped downloading. Generation {generation_id} is finished{charged}: "
            f"`kling-notebook wait '{generation_id}'` downloads it again."
        )
    if generation_id:
        return (
            f"Stopped waiting. There is no cancel endpoint: generation {generation_id} may "
            f"still finish on the server{charged}. Its id is kept in the journal: pick it "
            f"up later with `kling-notebook wait '{generation_id}'` or `kling-notebook resume`."
        )
    if previous == "submitting":
        return (
            "Stopped while the request was being sent: it may or may not have started a "
            f"{'simulated' if demo else 'paid'} generation. Check your account's generations list "
            "before generating again."
        )
    return "Stopped before anything was sent: nothing was charged."


class JobRow:
    """The state of one job's row. ``code_text`` is the "copy as code" text shown with its
    result; ``on_result`` is called (on the engine thread) with the result when the job completes."""

    def __init__(
        self,
        job: Job,
        changed: Callable[[bool], None],
        videos: VideoShelf,
        *,
        code_text: str | None = None,
        on_result: Callable[[GenerationResult], None] | None = None,
    ) -> None:
        self.job = job
        self.code_text = code_text
        self.on_result = on_result
        self._changed = changed
        self._videos = videos
        self._lock = threading.Lock()
        self._event: JobEvent | None = None
        self._seen_at = self._created = time.monotonic()
        self._words = "starting"
        self._message = ""
        self._result: dict[str, Any] | None = None
        self.demo = bool(getattr(job.client, "demo", False))

    def follow(self) -> None:
        """Subscribe to the job (its latest event comes at once); a job that ends with no final
        event (cancelled while held for a slot: the pipeline never started) is said so too."""
        self.job.subscribe(self._on_event)
        with contextlib.suppress(RuntimeError):  # a job never started has no end to wait for
            self.job.add_done_callback(self._ended)

    @property
    def phase(self) -> str:
        return self._event.phase if self._event else "held"

    def _elapsed(self) -> float:
        """Seconds since the job started, extrapolated between events."""
        if self._event is None:
            return time.monotonic() - self._created
        if self._event.is_final:
            return self._event.elapsed
        return self._event.elapsed + time.monotonic() - self._seen_at

    def state(self) -> dict[str, Any]:
        """The row as JSON: the browser's clock runs on from ``elapsed`` and ``eta``."""
        with self._lock:
            event = self._event
            eta = None
            if event is not None and event.phase in ("queued", "generating") and event.eta is not None:
                eta = max(0.0, event.eta - (time.monotonic() - self._seen_at))
            phase = self.phase
            return {
                "number": self.job.number,
                "title": _title(self.job),
                "phase": phase,
                "words": self._words,
                "tone": _TONES.get(phase, "info"),
                "fraction": 1.0 if phase == "completed" else (
                    round(event.fraction, 3) if event and event.fraction is not None else None),
                "elapsed": round(self._elapsed(), 2),
                "eta": round(eta, 1) if eta is not None else None,
                "final": bool(event and event.is_final),
                "generation_id": self.job.generation_id or "",
                "message_html": self._message,
                "result": self._result,
            }

    def _ended(self, _job: Job) -> None:
        if self._event is None or not self._event.is_final:
            self._on_event(JobEvent(phase="cancelled", elapsed=self._elapsed()))

    def _on_event(self, event: JobEvent) -> None:
        with self._lock:
            previous = self.phase
            if self._event is not None and self._event.is_final:
                return  # the end is drawn once
            self._event, self._seen_at = event, time.monotonic()
            words = PHASE_WORDS[event.phase]
            if event.phase == "downloading" and event.bytes_done is not None:
                total = f" of {format_bytes(event.bytes_total)}" if event.bytes_total else ""
                words += f" ({format_bytes(event.bytes_done)}{total})"
            self._words = words
            if event.phase in ("held", "queued", "generating"):
                self._message = note(event.message, "warn") if event.message else ""
            elif event.phase == "checking":
                self._message = ""  # the wait is over
        if event.is_final:
            self._finish(event, previous)
        self._changed(event.is_final or event.phase != previous)

    def _finish(self, event: JobEvent, previous: str) -> None:
        result = event.result
        if event.phase == "completed" and result is not None:
            with self._lock:
                self._message = ""
                self._result = result_state(result, self._videos.add(result.path), self.code_text)
            if self.on_result is not None:
                self.on_result(result)
        elif event.phase == "failed":
            with self._lock:
                self._message = error_html(event.error, event.message)
        elif event.phase == "cancelled":
            with self._lock:
                self._message = note(cancelled_words(self.job.generation_id, previous, self.demo), "warn")


def result_state(result: GenerationResult, token: str, code_text: str | None = None) -> dict[str, Any]:
    """A finished video for the view: how to get it, its details (escaped HTML) and the code."""
    remote = _remote_url(result)
    return {
        "token": token,
        "name": result.path.name,
        "remote": remote if concrete_mode() == "url" and remote else None,
        "path": relative_url(result.path),
        "details_html": details_html(result),
        "code": code_text or "",
    }


class RowList:
    """The rows a view shows, newest last, published through ``publish(states)`` at most every
    :data:`THROTTLE_SECONDS` (a job's end or a new phase: at once)."""

    def __init__(self, publish: Callable[[list[dict[str, Any]]], None], interval: float = THROTTLE_SECONDS) -> None:
        self._publish = publish
        self.interval = interval
        self.videos = VideoShelf()
        self.rows: list[JobRow] = []
        self._lock = threading.Lock()
        self._sending = threading.Lock()  # one publish at a time, so a newer one is never overtaken
        self._last = 0.0
        self._timer: threading.Timer | None = None
        #: How many times the rows were sent (tests check the throttle with it).
        self.published = 0

    def add(self, job: Job, *, code_text: str | None = None,
            on_result: Callable[[GenerationResult], None] | None = None) -> JobRow:
        row = JobRow(job, self._poke, self.videos, code_text=code_text, on_result=on_result)
        with self._lock:
            self.rows.append(row)
        row.follow()
        self._poke(True)
        return row

    @property
    def jobs(self) -> list[Job]:
        with self._lock:
            return [row.job for row in self.rows]

    def cancel(self, number: Any) -> bool:
        """The view's Cancel for job ``number``."""
        for job in self.jobs:
            if job.number == number:
                return job.cancel()
        return False

    def _poke(self, now: bool = False) -> None:
        """Publish now when ``now`` or the interval has passed, else once when it has."""
        with self._lock:
            wait = self.interval - (time.monotonic() - self._last)
            if not now and wait > 0:
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._flush()

    def _flush(self) -> None:
        with self._sending:
            with self._lock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                self._last = time.monotonic()
                self.published += 1
                rows = list(self.rows)
            self._publish([row.state() for row in rows])
