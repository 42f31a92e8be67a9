"""Which journal entries the panel can resume itself, and what to say about the others.

The panel resumes only entries made through its own base URL and endpoint: a key is never sent to
an address it was not given for. Entries made elsewhere are not hidden but counted, per address,
with what it takes to resume them (usually: enter the key, when the panel is in demo mode).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...runtime.resume import is_loopback

if TYPE_CHECKING:
    from ...runtime.client import AsyncKlingClient
    from ...store.journal import JournalEntry

__all__ = ["is_here", "elsewhere_notes"]


def is_here(entry: JournalEntry, client: AsyncKlingClient) -> bool:
    """Whether ``entry`` was made through ``client``'s base URL and endpoint."""
    return (entry.base_url, entry.endpoint) == (client.base_url, client.endpoint)


def _generations(count: int) -> str:
    return f"{count} generation{'s' if count != 1 else ''}"


def elsewhere_notes(entries: Iterable[JournalEntry], client: AsyncKlingClient) -> list[str]:
    """One sentence per other address holding unfinished entries: how many, and how to resume them."""
    groups = Counter((entry.base_url, entry.endpoint) for entry in entries if not is_here(entry, client))
    notes = []
    for (base_url, endpoint), count in sorted(groups.items()):
        if is_loopback(base_url):
            notes.append(
                f"{_generations(count)} from an earlier demo session ({base_url}): they cost nothing "
                "and cannot be resumed once that emulator has stopped."
            )
        elif client.demo:
            need = "needs" if count == 1 else "need"
            notes.append(f"{_generations(count)} from the gateway ({base_url}) {need} your key; enter it above to resume them.")
        else:
            notes.append(
                f"{_generations(count)} were made through {base_url} ({endpoint} endpoint), not this panel's "
                f"{client.base_url} ({client.endpoint}); the key is never sent to another address, so "
                "resume them with `kling-notebook resume` and the key for that gateway."
            )
    return notes
