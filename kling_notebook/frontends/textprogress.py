"""Progress as plain text: for the CLI, for logs, and for front ends without widgets."""

from __future__ import annotations

import sys
from typing import TextIO

from ..domain.events import JobEvent, describe

__all__ = ["TextProgress"]


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
