"""Billing as the gateway does it: a create places a hold, the charge lands when the generation
completes, and a failed generation is not billed (its hold is released).

Nothing runs on a timer: when a generation's outcome is known, the moment its status turns final
is known too, and :meth:`Ledger.settle` (called before every request is answered and before
accounts are read) settles every generation whose moment has come. Every hold, charge and
release is written to the stats' ledger with the key it belongs to and its wall time, so tests
can check the accounts exactly and spend can be summed per key and per window.
"""

from __future__ import annotations

import heapq
import itertools

from ._jobs import Clock, Job
from ._stats import LedgerEntry, Stats

__all__ = ["DEFAULT_BALANCE", "Ledger"]

DEFAULT_BALANCE = 10_000.0  # USD: room for a thousand-job benchmark


class Ledger:
    """The account's money: its balance, the holds of running generations, the charges."""

    def __init__(self, clock: Clock, stats: Stats, balance: float = DEFAULT_BALANCE) -> None:
        if balance < 0:
            raise ValueError("balance must not be negative")
        self.clock = clock
        self._stats = stats
        self.balance = balance
        self._held: dict[str, tuple[Job, str]] = {}  # by id, while the hold is open: (job, key)
        self._charged: set[str] = set()
        self.spent = 0.0  # USD charged so far
        self._due: list[tuple[float, int, Job]] = []  # (when its status turns final, order, job)
        self._order = itertools.count()

    def _write(self, job: Job, event: str, key_prefix: str, wall: float) -> None:
        entry = LedgerEntry(
            job.id, event, job.request.model, job.usd, job.credits, key_prefix, wall
        )
        self._stats.ledger.append(entry)

    @property
    def available(self) -> float:
        """USD the account can still commit: its balance less charges and open holds."""
        held = sum(job.usd for job, _ in self._held.values())
        return round(self.balance - self.spent - held, 6)

    def hold(self, job: Job, key_prefix: str) -> None:
        """``job`` was created: hold its price."""
        self._held[job.id] = (job, key_prefix)
        self._write(job, "hold", key_prefix, self.clock.wall())
        self._count_running()

    def outcome_known(self, job: Job) -> None:
        """``job``'s clip is produced (or failed): schedule its settlement."""
        if job.id in self._held and job.outcome is not None:
            ends = job.final_at(self.clock.now())
            heapq.heappush(self._due, (ends, next(self._order), job))

    def settle(self) -> list[Job]:
        """Charge or release every generation whose status has turned final; returns them."""
        now = self.clock.now()
        settled = []
        while self._due and self._due[0][0] <= now:
            ends, _, job = heapq.heappop(self._due)
            _, key_prefix = self._held.pop(job.id)
            wall = self.clock.wall() - (now - ends)  # when it ended, not when it was noticed
            if job.status(ends) == "completed":
                self._charged.add(job.id)
                self.spent = round(self.spent + job.usd, 6)
                self._write(job, "charge", key_prefix, wall)
            else:
                self._write(job, "release", key_prefix, wall)
            settled.append(job)
        self._count_running()
        return settled

    def _count_running(self) -> None:
        counts = self._stats.concurrency
        counts["running"] = len(self._held)
        counts["peak"] = max(counts["peak"], counts["running"])

    def running(self) -> int:
        """Generations holding money, and so an account's concurrency slot: created, not ended."""
        return len(self._held)

    def next_end(self) -> float | None:
        """The clock time the next running generation is known to end, if any is known."""
        return self._due[0][0] if self._due else None

    def held_by(self, key_prefix: str) -> float:
        """USD held for ``key_prefix``'s running generations."""
        return round(sum(job.usd for job, key in self._held.values() if key == key_prefix), 6)

    def charged_by(self, key_prefix: str, since: float, until: float = float("inf")) -> float:
        """USD charged to ``key_prefix`` between the wall times ``since`` and ``until``."""
        return round(
            sum(
                entry.usd
                for entry in self._stats.ledger
                if entry.event == "charge"
                and entry.key_prefix == key_prefix
                and since <= entry.wall <= until
            ),
            6,
        )

    def charged(self, job: Job) -> tuple[float, int]:
        """What ``job`` has been charged: its price once it completed, else nothing."""
        return (job.usd, job.credits) if job.id in self._charged else (0.0, 0)
