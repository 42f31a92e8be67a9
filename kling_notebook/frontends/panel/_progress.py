"""One progress row per job: phase, bar, elapsed and ETA, the copyable id, Cancel, then the result.

The row takes any :class:`~kling_notebook.runtime.jobs.Job` (new, resumed or from a batch) and is driven
only by its events, which arrive on the engine thread; it sets widget values directly, which
reaches the browser even while a notebook cell blocks. A one-second ticker on the engine loop
keeps the elapsed clock moving between status polls.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ...domain.events import JobEvent
from ...domain.formatting import format_bytes, format_seconds
from ...runtime.engine import spawn
from ._html import Tone, code, error_html, esc, note
from ._result import ResultView
from ._style import spaced

if TYPE_CHECKING:
    from ...domain.generation import GenerationResult
    from ...domain.request import GenerationRequest
    from ...runtime.jobs import Job

__all__ = ["ProgressRow", "PHASE_WORDS", "request_title"]

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
_BAR_STYLE = {"completed": "success", "failed": "danger", "cancelled": "warning"}
_TONES: dict[str, Tone] = {"completed": "ok", "failed": "bad", "cancelled": "warn"}
_TICK_SECONDS = 1.0


def request_title(number: int, request: GenerationRequest) -> str:
    """``#3 · 5 s · “the prompt…”``: how a job is named in rows and lists (text, escape it)."""
    prompt = (request.prompt or "no prompt").strip()
    short = prompt if len(prompt) <= 60 else prompt[:57] + "\u2026"
    return f"#{number} \u00b7 {request.duration} s \u00b7 \u201c{short}\u201d"


def _title(job: Job) -> str:
    if job.request is None:
        return f"#{job.number} resumed: {job.generation_id}"
    return request_title(job.number, job.request)


def cancelled_words(generation_id: str | None, previous: str | None) -> str:
    """What stopping means for this job: nothing sent, maybe sent, or still running remotely."""
    if generation_id and previous == "downloading":
        return (
            f"Stopped downloading. Generation {generation_id} is finished (and charged): "
            f"`kling-notebook wait '{generation_id}'` downloads it again."
        )
    if generation_id:
        return (
            f"Stopped waiting. There is no cancel endpoint: generation {generation_id} may "
            "still finish on the server (and is charged). Its id is kept in the journal: pick it "
            f"up later with `kling-notebook wait '{generation_id}'` or `kling-notebook resume`."
        )
    if previous == "submitting":
        return (
            "Stopped while the request was being sent: it may or may not have started a paid "
            "generation. Check your account's generations list before generating again."
        )
    return "Stopped before anything was sent: nothing was charged."


class ProgressRow(widgets.VBox):
    """The live view of one job. ``code_text`` is the "copy as code" text shown with its result;
    ``on_result`` is called (on the engine thread) with the result when the job completes."""

    def __init__(
        self,
        job: Job,
        *,
        code_text: str | None = None,
        on_result: Callable[[GenerationResult], None] | None = None,
    ) -> None:
        self.job = job
        self.code_text = code_text
        self.on_result = on_result
        self.title = widgets.HTML(f"<b>{esc(_title(job))}</b>", layout=widgets.Layout(flex="1 1 auto"))
        self.phase = widgets.HTML(layout=widgets.Layout(width="150px", flex="0 0 auto")).add_class("kling-phase")
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="140px", flex="0 0 auto"))
        self.clock = widgets.HTML(layout=widgets.Layout(width="170px", flex="0 0 auto")).add_class("kling-clock")
        self.cancel_button = widgets.Button(
            description="Cancel", icon="stop", tooltip="Stop waiting (the server has no cancel call)",
            layout=widgets.Layout(width="96px", flex="0 0 auto"),
        )
        self.ident = widgets.HTML()
        self.message = widgets.HTML()
        self.result_box = widgets.VBox()
        self._lock = threading.Lock()
        self._event: JobEvent | None = None
        self._seen_at = time.monotonic()
        self._created = self._seen_at
        self.cancel_button.on_click(lambda _button: self.job.cancel())
        super().__init__(
            [
                spaced(widgets.HBox(
                    [self.title, self.phase, self.bar, self.clock, self.cancel_button],
                    layout=widgets.Layout(align_items="center", width="100%"),
                ), 8),
                self.ident,
                self.message,
                self.result_box,
            ],
            layout=widgets.Layout(padding="6px 10px", margin="4px 0", width="100%"),
        )
        self.add_class("kling-row")
        self._draw_clock()
        self.phase.value = note("starting")
        job.subscribe(self._on_event)
        if not job.done():
            spawn(self._tick())

    @property
    def phase_name(self) -> str:
        return self._event.phase if self._event else "held"

    def _elapsed(self) -> float:
        """Seconds since the job started, extrapolated between events."""
        if self._event is None:
            return time.monotonic() - self._created
        if self._event.is_final:
            return self._event.elapsed
        return self._event.elapsed + time.monotonic() - self._seen_at

    def _draw_clock(self) -> None:
        with self._lock:
            event = self._event
            text = f"{format_seconds(self._elapsed())} elapsed"
            if event is not None and event.phase in ("queued", "generating") and event.eta is not None:
                left = event.eta - (time.monotonic() - self._seen_at)
                text += f" \u00b7 ~{format_seconds(left)} left" if left >= 1 else " \u00b7 any moment now"
        self.clock.value = note(text)

    async def _tick(self) -> None:
        while not self.job.done():
            self._draw_clock()
            await asyncio.sleep(_TICK_SECONDS)
        if self._event is None or not self._event.is_final:
            # Cancelled while held for a free slot: the pipeline never started, so no event.
            self._on_event(JobEvent(phase="cancelled", elapsed=self._elapsed()))

    def _on_event(self, event: JobEvent) -> None:
        with self._lock:
            previous = self.phase_name
            self._event, self._seen_at = event, time.monotonic()
        words = PHASE_WORDS[event.phase]
        if event.phase == "downloading" and event.bytes_done is not None:
            total = f" of {format_bytes(event.bytes_total)}" if event.bytes_total else ""
            words += f" ({format_bytes(event.bytes_done)}{total})"
        self.phase.value = note(words, _TONES.get(event.phase, "info"))
        if event.fraction is not None:
            self.bar.value = round(event.fraction, 2)  # fewer messages: polls can be dense
        self.bar.bar_style = _BAR_STYLE.get(event.phase, "")
        if event.generation_id:
            self.ident.value = note("generation id: ") + code(event.generation_id)
        self._draw_clock()
        if event.phase in ("held", "queued", "generating"):
            self.message.value = note(event.message, "warn") if event.message else ""
        elif event.phase == "checking":
            self.message.value = ""  # the wait is over
        if event.is_final:
            self.cancel_button.layout.display = "none"  # nothing left to stop
            self._finish(event, previous)

    def _finish(self, event: JobEvent, previous: str | None) -> None:
        if event.phase == "completed" and event.result is not None:
            self.bar.value = 1.0
            self.message.value = ""
            self.result_box.children = (ResultView(event.result, code_text=self.code_text),)
            if self.on_result is not None:
                self.on_result(event.result)
        elif event.phase == "failed":
            self.message.value = error_html(event.error, event.message)
        elif event.phase == "cancelled":
            self.message.value = note(cancelled_words(self.job.generation_id, previous), "warn")

    def __repr__(self) -> str:
        return f"<ProgressRow {self.job!r}>"
