"""Settle an uncertain submission: did a create whose answer was lost make a (paid) generation?

First by asking the gateway: its usage logs list every request with the ``X-Client-Request-Id``
the journal kept, and the generation it made (:func:`settle_from_logs`; ``resume()``, the panel
and ``kling-notebook resume`` do this by themselves). Only when the logs cannot tell (unreachable,
a key without access, an attempt from before request ids were kept) is the user asked to check
the dashboard and record what they found (:func:`settle_uncertain`). Either way an id makes the
entry unfinished, so resume waits for it and saves its video; "not created" stops it being listed.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from ..domain import errors
from ..gateway.client import GatewayClient
from ..gateway.logs import LOGS_LAG
from ..store.journal import Journal, JournalEntry

__all__ = ["Settled", "settle_from_logs", "settle_uncertain"]

log = logging.getLogger("kling_notebook")


@dataclass(frozen=True)
class Settled:
    """What the gateway's logs said of one uncertain attempt (the journal row is updated)."""

    entry: JournalEntry
    verdict: Literal["found", "not_created", "unknown"]
    #: The generation the attempt made (``found``), or why the logs could not tell (``unknown``).
    detail: str = ""

    def __str__(self) -> str:
        if self.verdict == "found":
            return f"row {self.entry.row}: the gateway's logs list it as {self.detail}; resume saves its video"
        if self.verdict == "not_created":
            return f"row {self.entry.row}: the gateway's logs show it created nothing{self.detail}"
        return f"row {self.entry.row}: the gateway's logs could not tell ({self.detail}); check the dashboard"


def _sent_at(entry: JournalEntry) -> datetime:
    moment = datetime.fromisoformat(entry.created_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def settle_from_logs(client: GatewayClient, entries: list[JournalEntry]) -> list[Settled]:
    """Look ``entries`` (uncertain attempts made through ``client``'s address) up in the gateway's
    logs and record what they say: found (the id; resume finishes it), not created (the logs reach
    past the attempt, or it is older than their lag, and do not list it; or it failed, billed
    nothing), or unknown (the logs could not be read, or have not caught up yet)."""
    journal = client.journal
    traced = {entry.client_request_id: entry for entry in entries if entry.client_request_id}
    settled = [Settled(entry, "unknown", "it was sent without a request id") for entry in entries
               if not entry.client_request_id]
    if journal is None or not traced:
        return settled
    try:
        sightings = await client.sightings({request_id: _sent_at(e) for request_id, e in traced.items()})
    except errors.KlingError as exc:
        return settled + [Settled(entry, "unknown", exc.message) for entry in traced.values()]
    now = datetime.now(timezone.utc)
    for request_id, entry in traced.items():
        seen = sightings[request_id]
        if seen.generation_id and not seen.failed:
            await journal.run(functools.partial(journal.found, entry.row, seen.generation_id))
            settled.append(Settled(entry, "found", seen.generation_id))
        elif seen.failed or seen.logs_reach_past or now - _sent_at(entry) > LOGS_LAG:
            await journal.run(functools.partial(journal.not_created, entry.row))
            settled.append(Settled(entry, "not_created", " (it failed: nothing was billed)" if seen.failed else ""))
        else:
            settled.append(Settled(entry, "unknown", "they have not caught up with it yet"))
    for outcome in settled:
        log.info("settling by the logs: %s", outcome)
    return settled


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
