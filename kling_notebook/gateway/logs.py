"""Looking attempts up in the gateway's usage logs (``GET /v2/logs``): did a create whose answer
was lost make a generation?

Every create carries an ``X-Client-Request-Id`` that the journal kept first; the logs list each
request the gateway received with that id and the generation's id (``inference_id``). The logs
come from an analytics pipeline and lag behind: an attempt that is not listed counts as never
made only once the logs provably reach past it (they list a later request of this key) or it is
older than :data:`LOGS_LAG`. A free read, but limited (200 per minute): one query serves every
attempt of a window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["LOGS_LAG", "LOGS_PATH", "Sighting", "pages_done", "query", "search_logs"]

LOGS_PATH = "/v2/logs"
#: How long a request may take to reach the logs (none is published; a generous bound).
LOGS_LAG = timedelta(minutes=10)
_PAGE = 100
_MAX_PAGES = 20


@dataclass(frozen=True)
class Sighting:
    """What the logs say of one attempt: its generation id when listed (``failed``: the gateway
    refused or the generation failed, so nothing was billed), or whether they reach past it."""

    generation_id: str | None
    failed: bool
    logs_reach_past: bool


def _when(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def query(start: datetime, end: datetime, model: str, page: int) -> dict[str, Any]:
    """The parameters of one page of the logs between ``start`` and ``end`` for ``model``."""
    return {"start": _iso(start), "end": _iso(end), "model": model, "limit": _PAGE, "offset": page * _PAGE}


def search_logs(rows: Iterable[Any], attempts: dict[str, datetime]) -> dict[str, Sighting]:
    """What ``rows`` (the logs of a window) say of each attempt in ``attempts`` (client request id
    -> when it was sent)."""
    latest: datetime | None = None
    listed: dict[str, tuple[str | None, bool]] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        created = _when(row.get("created"))
        if created is not None and (latest is None or created > latest):
            latest = created
        ours = row.get("client_request_id")
        if isinstance(ours, str) and ours in attempts:
            inference = row.get("inference_id")
            listed[ours] = (inference if isinstance(inference, str) else None, row.get("status") == "failed")
    sightings = {}
    for request_id, sent in attempts.items():
        generation_id, failed = listed.get(request_id, (None, False))
        sightings[request_id] = Sighting(generation_id, failed, latest is not None and latest > sent)
    return sightings


def pages_done(body: Any, page: int) -> bool:
    """Whether the logs have no page after ``page`` (or the reply cannot say)."""
    pagination = body.get("pagination") if isinstance(body, dict) else None
    return not (isinstance(pagination, dict) and pagination.get("has_more") is True) or page + 1 >= _MAX_PAGES
