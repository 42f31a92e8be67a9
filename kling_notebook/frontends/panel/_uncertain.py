"""Submissions whose outcome is unknown, said plainly, with the two ways to settle each one.

After a lost answer or a kernel restart mid-submit, the journal cannot know whether a paid
generation was created; only the gateway's dashboard can. This view says so before the user
clicks Generate again, and records what they found through the functions behind
``kling-notebook settle`` (the panel calls :func:`kling_notebook.runtime.settle.settle_uncertain`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import ipywidgets as widgets

from ...store.history import HistoryItem
from ...store.journal import SUBMITTING, JournalEntry
from ._html import code, esc, note
from ._pending import sent_at
from ._style import spaced

__all__ = ["UncertainView"]

Settle = Callable[[JournalEntry, str | None], str | None]


def _what_happened(entry: JournalEntry) -> str:
    if entry.status == SUBMITTING:
        return (
            "The process that sent it stopped before the answer came back (a kernel restart or a "
            "crash), so a paid generation may or may not have been created. If another notebook "
            "or terminal is still submitting it, let that finish first."
        )
    reason = entry.error or "no answer"
    return (
        f"The request was sent but its answer was lost ({reason}), so a paid generation may or "
        "may not have been created."
    )


def _describe(entry: JournalEntry) -> str:
    item = HistoryItem(entry)
    prompt = f"\u201c{item.prompt}\u201d" if item.prompt else "no prompt"
    return f"Row {entry.row} \u00b7 sent {sent_at(entry)} \u00b7 {prompt} \u00b7 {item.duration or '?'} s \u00b7 to {entry.base_url}"


class UncertainView(widgets.VBox):
    """Hidden while nothing awaits a check. ``settle(entry, generation_id)`` records the verdict
    (an id found, or None for "not created") and returns an error to show, or None."""

    def __init__(self, settle: Settle) -> None:
        self._settle = settle
        super().__init__(layout=widgets.Layout(display="none", width="100%"))

    def show(self, entries: Iterable[JournalEntry]) -> None:
        rows = [self._row(entry) for entry in entries]
        if not rows:
            self.children, self.layout.display = (), "none"
            return
        title = widgets.HTML(
            "<b>Submissions with an unknown outcome</b> "
            + note("(check these before you click Generate again: generating again may pay twice)", "warn")
        )
        self.children = (title, *rows)
        self.layout.display = ""

    def _row(self, entry: JournalEntry) -> widgets.VBox:
        row = entry.row
        text = widgets.HTML(
            f"<b>{esc(_describe(entry))}</b><br>"
            f"{esc(_what_happened(entry))}<br>"
            "What to check: the usage (generations) list on your AI/ML API dashboard, for a Kling "
            f"v2.1 master generation started around {esc(sent_at(entry))}. Found it: paste its id "
            "and click Record id; it is then waited for and saved. Nothing there after a few "
            "minutes: click Not created, and generating again is safe.<br>"
            f"From a terminal: {code(f'kling-notebook settle {row} --id ID')} or "
            f"{code(f'kling-notebook settle {row} --not-created')}"
        )
        found = widgets.Text(placeholder="generation id from the dashboard", layout=widgets.Layout(width="280px"))
        record = widgets.Button(description="Record id", icon="check", layout=widgets.Layout(width="auto"))
        absent = widgets.Button(description="Not created", icon="times", layout=widgets.Layout(width="auto"))
        status = widgets.HTML()

        def settle(generation_id: str | None) -> None:
            if generation_id is not None and not generation_id.strip():
                status.value = note("Paste the generation id first.", "bad")
                return
            problem = self._settle(entry, generation_id)
            if problem:
                status.value = note(problem, "bad")

        record.on_click(lambda _button: settle(found.value))
        absent.on_click(lambda _button: settle(None))
        buttons = spaced(widgets.HBox([found, record, absent, status], layout=widgets.Layout(align_items="center")), 8)
        return spaced(widgets.VBox([text, buttons], layout=widgets.Layout(margin="4px 0")), 4)
