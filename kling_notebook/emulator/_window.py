"""Query parameters the service endpoints share: the time window and the paging numbers.

A window is ``period`` (a positive integer and ``h`` or ``d``: ``24h``, ``7d``) or both ``start``
and ``end`` (ISO-8601; no UTC offset means UTC), never both, at most 92 days; without either it is
the last 24 hours. Times are Unix seconds on the emulator's wall clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ._http import Request
from ._payloads import Refused
from ._validation import Issue

__all__ = ["MAX_WINDOW_DAYS", "QueryInvalid", "integer", "iso", "window"]

MAX_WINDOW_DAYS = 92
DEFAULT_PERIOD = 24 * 3600.0
_PERIOD = re.compile(r"(?P<count>[1-9][0-9]*)(?P<unit>[hd])")


class QueryInvalid(Refused):
    """The query breaks the endpoint's parameters: 400 "Query validation error"."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(400, "Query validation error", errors=[i.as_json() for i in issues])


def iso(seconds: float) -> str:
    """``2026-07-02T03:04:05.000Z``: how the service endpoints write times."""
    stamp = datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _instant(name: str, text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise QueryInvalid([Issue(name, "an ISO-8601 time", repr(text))]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def window(request: Request, now: float) -> tuple[float, float]:
    """The (start, end) the query asks for, at wall time ``now``; :class:`QueryInvalid` if the
    parameters break the rules in the module docstring."""
    period = request.query_value("period")
    start, end = request.query_value("start"), request.query_value("end")
    if period is not None and (start is not None or end is not None):
        raise QueryInvalid([Issue("period", "either period or start and end", "both")])
    if (start is None) != (end is None):
        missing = "end" if end is None else "start"
        raise QueryInvalid([Issue(missing, "start and end together", "only one of them")])
    if start is not None and end is not None:
        first, last = _instant("start", start), _instant("end", end)
        if last < first:
            raise QueryInvalid([Issue("end", "a time not earlier than start", end)])
    else:
        match = _PERIOD.fullmatch(period) if period is not None else None
        if period is not None and match is None:
            raise QueryInvalid([Issue("period", "a positive integer and h or d, e.g. 24h", period)])
        length = DEFAULT_PERIOD
        if match is not None:
            length = int(match["count"]) * (3600.0 if match["unit"] == "h" else 86400.0)
        first, last = now - length, now
    if last - first > MAX_WINDOW_DAYS * 86400:
        longest = f"a window of at most {MAX_WINDOW_DAYS} days"
        raise QueryInvalid([Issue("period" if start is None else "end", longest, "longer")])
    return first, last


def integer(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    """An integer query parameter between ``low`` and ``high``."""
    text = request.query_value(name)
    if text is None:
        return default
    if (
        not re.fullmatch(r"-?[0-9]+", text)
        or int(text) < low
        or (high is not None and int(text) > high)
    ):
        bounds = f"an integer from {low}" + (f" to {high}" if high is not None else "")
        raise QueryInvalid([Issue(name, bounds, repr(text))])
    return int(text)
