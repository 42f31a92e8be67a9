"""What the emulator received, created and injected, for exact accounting in tests and benchmarks.

"The client created exactly N generations" is only checkable from the server side; this is that
side's ledger. It lives on the emulator's loop; :meth:`Stats.snapshot` hands out plain copies.
"""

from __future__ import annotations

from collections import Counter
from typing import TypedDict

__all__ = ["Stats", "StatsSnapshot"]


class StatsSnapshot(TypedDict):
    """The shape of ``Emulator.stats()``.

    ``requests`` maps a route (``"POST /v2/video/generations"``, ``"GET /cdn"``, ...) to counts by
    outcome: the status code as a string, or ``"reset"`` when the connection was reset.
    ``created`` lists generation ids in creation order. ``faults`` counts injected faults by
    ``"scope:kind"`` (and ``"credits_after"``). ``downloads`` counts video responses served
    (``served``: 200 and 206) and body bytes sent. ``renders`` counts clips rendered, renders
    saved by the cache, and renders that failed.
    """

    requests: dict[str, dict[str, int]]
    created: list[str]
    faults: dict[str, int]
    downloads: dict[str, int]
    renders: dict[str, int]


class Stats:
    """Counters; every ``count_*`` is O(1) so accounting costs nothing at scale."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.created: list[str] = []
        self.faults: Counter[str] = Counter()
        self.downloads: Counter[str] = Counter()
        self.renders: Counter[str] = Counter()

    def count_request(self, route: str, outcome: str) -> None:
        self.requests[(route, outcome)] += 1

    def snapshot(self) -> StatsSnapshot:
        requests: dict[str, dict[str, int]] = {}
        for (route, outcome), count in sorted(self.requests.items()):
            requests.setdefault(route, {})[outcome] = count
        return StatsSnapshot(
            requests=requests,
            created=list(self.created),
            faults=dict(self.faults),
            downloads={"served": 0, "bytes": 0, **self.downloads},
            renders={"rendered": 0, "cache_hits": 0, "failed": 0, **self.renders},
        )
