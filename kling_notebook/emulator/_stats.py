"""What the emulator received, created and injected, for exact accounting in tests and benchmarks.

"The client created exactly N generations" is only checkable from the server side; this is that
side's ledger. It lives on the emulator's loop; :meth:`Stats.snapshot` hands out plain copies.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple, TypedDict

__all__ = ["BillingSnapshot", "ConcurrencySnapshot", "LedgerEntry", "Stats", "StatsSnapshot"]


class LedgerEntry(NamedTuple):
    """One movement of money: a ``hold`` at create, then a ``charge`` or a ``release``."""

    generation_id: str
    event: str
    model: str
    usd: float
    credits: int
    key_prefix: str
    wall: float  # Unix time on the emulator's clock


class Amount(TypedDict):
    usd: float
    credits: int


class BillingSnapshot(TypedDict):
    """``holds``, ``charges``, ``releases``: how many of each; ``held`` (still open),
    ``charged``, ``released``: their sums; ``ledger``: every entry in order."""

    holds: int
    charges: int
    releases: int
    held: Amount
    charged: Amount
    released: Amount
    ledger: list[dict[str, object]]


class ConcurrencySnapshot(TypedDict):
    """The account's concurrency: its ``limit`` (None: none), the generations ``running`` now,
    the ``peak`` ever running at once, and how many creates were ``refused`` (429) for it."""

    limit: int | None
    running: int
    peak: int
    refused: int


class StatsSnapshot(TypedDict):
    """The shape of ``Emulator.stats()``.

    ``requests`` maps a route (``"POST /v2/video/generations"``, ``"GET /cdn"``, ...) to counts by
    outcome: the status code as a string, or ``"reset"`` when the connection was reset.
    ``created`` lists generation ids in creation order. ``faults`` counts injected faults by
    ``"scope:kind"`` (and ``"credits_after"``). ``downloads`` counts video responses served
    (``served``: 200 and 206) and body bytes sent. ``renders`` counts clips rendered, renders
    saved by the cache, and renders that failed. ``billing`` is the account's ledger,
    ``concurrency`` its running generations.
    """

    requests: dict[str, dict[str, int]]
    created: list[str]
    faults: dict[str, int]
    downloads: dict[str, int]
    renders: dict[str, int]
    billing: BillingSnapshot
    concurrency: ConcurrencySnapshot


def _total(entries: list[LedgerEntry]) -> Amount:
    return Amount(
        usd=round(sum(e.usd for e in entries), 6), credits=sum(e.credits for e in entries)
    )


class Stats:
    """Counters; every ``count_*`` is O(1) so accounting costs nothing at scale."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.created: list[str] = []
        self.faults: Counter[str] = Counter()
        self.downloads: Counter[str] = Counter()
        self.renders: Counter[str] = Counter()
        self.ledger: list[LedgerEntry] = []
        self.concurrency = ConcurrencySnapshot(limit=None, running=0, peak=0, refused=0)

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
            billing=self._billing(),
            concurrency=ConcurrencySnapshot(**self.concurrency),
        )

    def _billing(self) -> BillingSnapshot:
        by_event: dict[str, list[LedgerEntry]] = {"hold": [], "charge": [], "release": []}
        for entry in self.ledger:
            by_event[entry.event].append(entry)
        settled = {e.generation_id for e in by_event["charge"] + by_event["release"]}
        return BillingSnapshot(
            holds=len(by_event["hold"]),
            charges=len(by_event["charge"]),
            releases=len(by_event["release"]),
            held=_total([e for e in by_event["hold"] if e.generation_id not in settled]),
            charged=_total(by_event["charge"]),
            released=_total(by_event["release"]),
            ledger=[entry._asdict() for entry in self.ledger],
        )
