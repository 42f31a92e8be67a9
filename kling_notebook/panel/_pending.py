"""Generations the journal says are unfinished, each with a Resume button.

A generation that was paid for must never be lost to a restarted kernel: this lists what
``client.journal.pending()`` holds for the current gateway, and Resume hands the id to
``JobRunner.pick_up`` through the panel (polling is free, nothing is submitted again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import ipywidgets as widgets

from ..journal import JournalEntry
from ._html import code, esc, note
from ._style import spaced

__all__ = ["PendingView"]


def _describe(entry: JournalEntry) -> str:
    prompt = str(entry.request.get("prompt") or "no prompt")
    short = prompt if len(prompt) <= 50 else prompt[:47] + "\u2026"
    return f"{entry.created_at[:16].replace('T', ' ')} UTC \u00b7 {entry.status} \u00b7 \u201c{short}\u201d"


class PendingView(widgets.VBox):
    """Hidden while there is nothing to resume."""

    def __init__(self, on_resume: Callable[[JournalEntry], None]) -> None:
        self._on_resume = on_resume
        super().__init__(layout=widgets.Layout(display="none", width="100%"))

    def show(self, entries: Iterable[JournalEntry]) -> None:
        rows: list[widgets.Widget] = []
        for entry in entries:
            button = widgets.Button(description="Resume", icon="play", layout=widgets.Layout(width="100px"))
            button.on_click(lambda b, entry=entry: self._resume(b, entry))
            label = widgets.HTML(f"{esc(_describe(entry))}<br>{code(entry.generation_id or '')}")
            rows.append(spaced(widgets.HBox([button, label], layout=widgets.Layout(align_items="center")), 8))
        if not rows:
            self.children, self.layout.display = (), "none"
            return
        title = widgets.HTML(
            "<b>Unfinished generations</b> "
            + note("(submitted earlier, already paid: resuming only waits and downloads)")
        )
        self.children = (title, *rows)
        self.layout.display = ""

    def _resume(self, button: widgets.Button, entry: JournalEntry) -> None:
        button.disabled = True
        button.description = "Resumed"
        self._on_resume(entry)
