"""What the journal holds as unfinished, as JSON for the view: generations to resume and
submissions whose outcome is unknown.

A generation that was paid for must never be lost to a restarted kernel, a timeout or a Cancel:
the panel lists what :func:`~kling_notebook.runtime.resume.survey` finds for the current gateway
(refreshed whenever one of its jobs ends), each with Resume, and Resume all (polling is free,
nothing is submitted again). Entries made through another address are counted in ``notes``, and
those a job of another panel in this kernel is waiting for are shown as running there, without a
button: resuming them here would save the same video twice.

After a lost answer or a kernel restart mid-submit, the journal cannot know whether a paid
generation was created; only the gateway's dashboard can. Those entries are listed with what to
check and the two ways to settle each (the panel calls
:func:`~kling_notebook.runtime.settle.settle_uncertain`, as ``kling-notebook settle`` does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...store.history import HistoryItem
from ...store.journal import SUBMITTING, JournalEntry

__all__ = ["pending_state", "uncertain_state", "sent_at"]


def sent_at(entry: JournalEntry) -> str:
    """When the attempt was recorded (just before its POST), to the minute, for people."""
    return f"{entry.created_at[:16].replace('T', ' ')} UTC"


def _describe(entry: JournalEntry) -> str:
    prompt = str(entry.request.get("prompt") or "no prompt")
    short = prompt if len(prompt) <= 50 else prompt[:47] + "\u2026"
    return f"{sent_at(entry)} \u00b7 {entry.status} \u00b7 \u201c{short}\u201d"


def pending_state(
    entries: Iterable[JournalEntry],
    notes: Iterable[str] = (),
    running: Iterable[JournalEntry] = (),
    resumed: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The Unfinished section (plain text: the view escapes it): ``entries`` resumable here
    (``resumed``: the ids already taken up), those ``running`` in another panel, and ``notes``."""
    return {
        "entries": [
            {"id": entry.generation_id or "", "text": _describe(entry), "resumed": entry.generation_id in resumed}
            for entry in entries
        ],
        "running": [{"id": entry.generation_id or "", "text": _describe(entry)} for entry in running],
        "notes": list(notes),
    }


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


def uncertain_state(entries: Iterable[JournalEntry]) -> list[dict[str, Any]]:
    """One item per submission of unknown outcome (plain text: the view escapes it)."""
    items = []
    for entry in entries:
        item = HistoryItem(entry)
        prompt = f"\u201c{item.prompt}\u201d" if item.prompt else "no prompt"
        items.append({
            "row": entry.row,
            "title": f"Row {entry.row} \u00b7 sent {sent_at(entry)} \u00b7 {prompt} \u00b7 "
                     f"{item.duration or '?'} s \u00b7 to {entry.base_url}",
            "what": _what_happened(entry),
            "check": (
                "What to check: the usage (generations) list on your AI/ML API dashboard, for a "
                f"generation started around {sent_at(entry)}. Found it: paste its id and click "
                "Record id; it is then waited for and saved. Nothing there after a few minutes: "
                "click Not created, and generating again is safe."
            ),
            "cli": [f"kling-notebook settle {entry.row} --id ID", f"kling-notebook settle {entry.row} --not-created"],
        })
    return items
