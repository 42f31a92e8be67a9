"""Progress as plain text: for the CLI, for logs, and for front ends without widgets."""

from __future__ import annotations

import sys
from typing import TextIO

from .events import JobEvent

__all__ = ["describe", "format_seconds", "format_bytes", "TextProgress"]


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs}s"


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def describe(event: JobEvent) -> str:
    """One line saying where a job is: phase, elapsed, estimate, id."""
    parts = [event.phase, f"{format_seconds(event.elapsed)} elapsed"]
    if event.phase in ("queued", "generating") and event.eta is not None:
        parts.append(f"~{format_seconds(event.eta)} left" if event.eta > 0 else "any moment now")
    if event.phase == "downloading" and event.bytes_done is not None:
        total = f" of {format_bytes(event.bytes_total)}" if event.bytes_total else ""
        parts.append(f"{format_bytes(event.bytes_done)}{total}")
    if event.phase == "completed" and event.result is not None:
        parts.append(f"saved {event.result.path}")
    if event.message and event.phase != "failed":
        parts.append(event.message)
    if event.generation_id:
        parts.append(f"id {event.generation_id}")
    return " | ".join(parts)


class TextProgress:
    """A JobEvent handler writing a line per change (rewriting one line on a terminal)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._last_phase: str | None = None

    def __call__(self, event: JobEvent) -> None:
        if event.phase == "failed":
            return  # the caller reports the error itself, with what to do
        line = describe(event)
        if self.live:
            end = "\n" if event.is_final else ""
            self.stream.write("\r\x1b[2K" + line + end)
        elif event.phase != self._last_phase or event.is_final:
            self.stream.write(line + "\n")
        self._last_phase = event.phase
        self.stream.flush()
