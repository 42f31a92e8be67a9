"""Generations the journal says are unfinished, each with a Resume button, and Resume all.

A generation that was paid for must never be lost to a restarted kernel, a timeout or a Cancel:
this lists what ``survey()`` finds in the journal for the current gateway (the panel refreshes it
whenever one of its jobs ends). Resume hands one id to the client's ``JobRunner.resume`` through
the panel, Resume all every one not resumed yet (polling is free, nothing is submitted again). Entries made through another address are counted
in ``notes``, and those a job of another panel in this kernel is waiting for are shown as running
there, without a button: resuming them here would save the same video twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import ipywidgets as widgets

from ...store.journal import JournalEntry
from ._html import code, esc, note
from ._style import spaced

__all__ = ["PendingView", "sent_at"]


def sent_at(entry: JournalEntry) -> str:
    """When the attempt was recorded (just before its POST), to the minute, for people."""
    return f"{entry.created_at[:16].replace('T', ' ')} UTC"


def _describe(entry: JournalEntry) -> str:
    prompt = str(entry.request.get("prompt") or "no prompt")
    short = prompt if len(prompt) <= 50 else prompt[:47] + "\u2026"
    return f"{sent_at(entry)} \u00b7 {entry.status} \u00b7 \u201c{short}\u201d"


def _mark_resumed(button: widgets.Button) -> None:
    button.disabled = True
    button.description = "Resumed"
    button.button_style = ""


class PendingView(widgets.VBox):
    """Hidden while there is nothing to resume."""

    def __init__(self, on_resume: Callable[[JournalEntry], object], on_resume_all: Callable[[], object]) -> None:
        self._on_resume = on_resume
        self._listed: list[tuple[widgets.Button, JournalEntry]] = []
        self.resume_all_button = widgets.Button(
            description="Resume all", icon="forward", tooltip="wait for and save every generation listed here",
            layout=widgets.Layout(width="120px"),
        )
        self.resume_all_button.on_click(lambda _button: on_resume_all())
        super().__init__(layout=widgets.Layout(display="none", width="100%"))

    def show(
        self, entries: Iterable[JournalEntry], notes: Iterable[str] = (), running: Iterable[JournalEntry] = ()
    ) -> None:
        """List ``entries`` (resumable here), the ones ``running`` in another panel, and the
        ``notes`` about entries made elsewhere."""
        self._listed = []
        rows: list[widgets.Widget] = []
        for entry in entries:
            button = widgets.Button(
                description="Resume", icon="play", button_style="info",
                tooltip="resume: wait for it and save the video (nothing is paid again)",
                layout=widgets.Layout(width="120px"),
            )
            button.on_click(lambda b, entry=entry: self._resume(b, entry))
            label = widgets.HTML(f"{esc(_describe(entry))}<br>{code(entry.generation_id or '')}")
            rows.append(spaced(widgets.HBox([button, label], layout=widgets.Layout(align_items="center")), 8))
            self._listed.append((button, entry))
        lines = [
            widgets.HTML(f"{note('Running in another panel (or cell) of this kernel, saved there:')} "
                         f"{esc(_describe(entry))}<br>{code(entry.generation_id or '')}")
            for entry in running
        ]
        lines += [widgets.HTML(note(text, "warn")) for text in notes]
        if not rows and not lines:
            self.children, self.layout.display = (), "none"
            return
        title = widgets.HTML(
            "<b>Unfinished generations</b> "
            + note("(submitted earlier, already paid: resuming only waits and downloads)")
        )
        self.resume_all_button.disabled = not rows
        self.resume_all_button.description = "Resume all"
        header = spaced(widgets.HBox([title, self.resume_all_button], layout=widgets.Layout(align_items="center")), 12)
        self.children = (header, *rows, *lines)
        self.layout.display = ""

    def take_unresumed(self) -> list[JournalEntry]:
        """The listed entries not resumed yet, now marked resumed (what Resume all works on)."""
        waiting = [(button, entry) for button, entry in self._listed if not button.disabled]
        for button, _entry in waiting:
            _mark_resumed(button)
        _mark_resumed(self.resume_all_button)
        return [entry for _button, entry in waiting]

    def _resume(self, button: widgets.Button, entry: JournalEntry) -> None:
        _mark_resumed(button)
        self._on_resume(entry)
