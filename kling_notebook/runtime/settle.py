"""Settle an uncertain submission once the user has checked the gateway's dashboard.

A create POST whose answer was lost may or may not have started a paid generation, and only the
account's generations list can tell. Recording what the user found there closes the loop: an id
makes the entry pending, so ``resume`` waits for it and saves its video; "not created" stops it
being listed as needing attention.
"""

from __future__ import annotations

import os

from ..domain import errors
from ..store.journal import Journal, JournalEntry

__all__ = ["settle_uncertain"]


def settle_uncertain(
    row: int,
    *,
    generation_id: str | None = None,
    not_created: bool = False,
    out_dir: str | os.PathLike[str] | None = None,
) -> JournalEntry:
    """Record the user's verdict on the uncertain attempt at journal ``row`` (``resume`` lists
    the rows): the ``generation_id`` they found, or ``not_created=True``. Returns the updated
    entry. Raises ValidationError for a row that awaits no check or an id another attempt owns."""
    found = (generation_id or "").strip()
    if bool(found) == not_created:
        raise errors.ValidationError(
            "outcome", generation_id, "give either the generation id found or not_created=True"
        )
    with Journal.in_dir(out_dir) as journal:
        try:
            if found:
                journal.found(row, found)
            else:
                journal.not_created(row)
        except ValueError as exc:
            raise errors.ValidationError("row", row, str(exc)) from exc
        entry = journal.get_row(row)
    assert entry is not None  # the row was just updated
    return entry
