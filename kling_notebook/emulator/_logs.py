"""The usage logs behind ``GET /v2/logs``: one row per model call that reached the gateway.

A row is kept for every authorized create (whatever its answer, also one whose answer was lost
to a reset after it was processed: how a client learns whether a create it never heard back from
made a generation) and every status read of a known generation. Requests a fault in front of the
gateway answered never reached it and leave no row. Rows come from an analytics pipeline: each
becomes visible ``lag`` seconds (on the emulator's clock) after its request.

A create's row follows its generation: ``failed`` with cost zero once it ends in error (a failed
generation is billed nothing), its charge once it completes, zero while it runs. Rows list newest
first, filtered by window, ``model`` (repeatable, up to 50, ``source/alias`` or the bare alias)
and ``status`` (repeatable), ``limit`` 1-100 per page from ``offset``. Each key may read its logs
at most 200 times in 60 s (429 with Retry-After beyond).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._http import Request
from ._jobs import Clock, Job
from ._payloads import Refused
from ._tracing import Call
from ._validation import Issue
from ._window import QueryInvalid, integer, iso, window

__all__ = ["LOGS_RATE", "Logs", "RateLimit"]

LOGS_RATE = (200, 60.0)  # requests per seconds, per key
MAX_MODELS = 50
STATUSES = ("succeeded", "failed")

#: What a generation's charge is so far, in USD and credits (zero until it lands).
Charged = Callable[[Job], tuple[float, int]]


class RateLimit:
    """At most ``count`` requests per ``seconds`` per key, on the emulator's clock."""

    def __init__(self, count: int, seconds: float, clock: Clock) -> None:
        self._count, self._seconds, self._clock = count, seconds, clock
        self._seen: dict[str, deque[float]] = {}

    def check(self, key: str, what: str) -> None:
        """Count one request of ``key``, or raise 429 (counting nothing) once over the limit."""
        now = self._clock.now()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self._seconds:
            seen.popleft()
        if len(seen) >= self._count:
            wait = max(1, math.ceil(seen[0] + self._seconds - now))
            message = f"Too many requests: {what} allows {self._count} per {self._seconds:g} s."
            raise Refused(429, message, {"Retry-After": str(wait)})
        seen.append(now)


@dataclass(frozen=True)
class LogRow:
    """One logged call; a create's ``job`` decides its cost and fate as the generation runs."""

    at: float  # emulator clock, for the visibility lag
    wall: float
    key_prefix: str
    model: str
    http_status: int | None  # None: processed, then the connection was reset
    request_id: str
    inference_id: str
    client_request_id: str | None
    job: Job | None


def _matches(model: str, wanted: list[str]) -> bool:
    alias = model.partition("/")[2]
    return any(value in (model, alias) for value in wanted)


class Logs:
    """The rows, and the queries over them; lives on the emulator's loop."""

    def __init__(self, clock: Clock, lag: float, charged: Charged) -> None:
        if lag < 0:
            raise ValueError("logs_lag must not be negative")
        self._clock = clock
        self._lag = lag
        self._charged = charged
        self._rows: list[LogRow] = []
        self.rate = RateLimit(*LOGS_RATE, clock)

    def record(self, call: Call, http_status: int | None) -> None:
        """Keep a row for ``call`` if it is one the logs list (see the module docstring)."""
        if call.key_prefix is None or call.model is None:
            return
        row = LogRow(
            at=self._clock.now(),
            wall=self._clock.wall(),
            key_prefix=call.key_prefix,
            model=call.model,
            http_status=http_status,
            request_id=call.request_id,
            inference_id=call.inference_id,
            client_request_id=call.client_request_id,
            job=call.job if call.request.method == "POST" else None,
        )
        self._rows.append(row)

    def _status(self, row: LogRow) -> str:
        if row.http_status is not None and row.http_status >= 400:
            return "failed"
        if row.job is not None and row.job.status(self._clock.now()) == "error":
            return "failed"
        return "succeeded"

    def _json(self, row: LogRow) -> dict[str, Any]:
        usd, credits = self._charged(row.job) if row.job is not None else (0.0, 0)
        return {
            "created": iso(row.wall),
            "status": self._status(row),
            "origin": "api",
            "model": row.model,
            "cost": {"usd": usd, "credits": credits},
            "tokens": {"input": 0, "output": 0, "total": 0},
            "request_id": row.request_id,
            "inference_id": row.inference_id,
            "client_request_id": row.client_request_id,
        }

    def page(self, request: Request, key_prefix: str) -> dict[str, Any]:
        """The ``GET /v2/logs`` body for the rows of ``key_prefix`` the query asks for."""
        start, end = window(request, self._clock.wall())
        models = request.query.get("model", [])
        if len(models) > MAX_MODELS:
            raise QueryInvalid([Issue("model", f"at most {MAX_MODELS} values", str(len(models)))])
        statuses = request.query.get("status", [])
        for status in statuses:
            if status not in STATUSES:
                raise QueryInvalid([Issue("status", " | ".join(STATUSES), repr(status))])
        limit = integer(request, "limit", 50, 1, 100)
        offset = integer(request, "offset", 0, 0)
        visible_before = self._clock.now() - self._lag
        rows = [
            row
            for row in reversed(self._rows)
            if row.key_prefix == key_prefix
            and row.at <= visible_before
            and start <= row.wall <= end
            and (not models or _matches(row.model, models))
            and (not statuses or self._status(row) in statuses)
        ]
        return {
            "data": [self._json(row) for row in rows[offset : offset + limit]],
            "pagination": {
                "limit": limit,
                "offset": offset,
                "total": len(rows),
                "has_more": offset + limit < len(rows),
            },
        }
