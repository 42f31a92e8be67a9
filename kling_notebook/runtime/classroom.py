"""A class on one paid account: a capped key per student, their spend, and the end of the class.

The teacher's side (:class:`Classroom`) holds the management key and never hands it out: it
creates one API key per student (scope ``model:video``, a USD limit per day, week, month or in
total), writes a roster (student, key prefix, limit: no secrets) and, only when asked, the keys
themselves in a file only its owner can read (mode 0600); it reads each student's spend in the
current period and revokes the keys when the class ends.

The student's side (:func:`read_allowance`, :func:`apply_allowance`) is a free read of the key's
own limit and spend (``GET /v1/key``, and ``GET /v2/usage`` for a limit per day, week or in total,
since ``/v1/key`` counts the month), minus what this client's unfinished generations will be
charged when they complete; applied, it becomes the client's budget, so a submit that would pass
the limit is refused before anything is sent. The account's one concurrency limit is shared by
every key: a student's job the gateway refuses with 429 is held, "waiting for a free slot at the
gateway", and submitted again (see :mod:`~kling_notebook.runtime.jobs`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from ..domain import errors
from ..domain.cost import Budget
from ..domain.polling import PollPolicy
from ..domain.retry import RetryPolicy
from ..gateway.keys import (
    MANAGEMENT_KEY_ENV_VAR,
    KeyLimit,
    KeyRecord,
    ManagementClient,
    Period,
    period_start,
    usage_params,
    usage_window,
)
from .client import AsyncKlingClient
from .connect import demo_wanted

__all__ = [
    "Allowance",
    "Classroom",
    "PartialClassError",
    "Roster",
    "Seat",
    "SeatUsage",
    "apply_allowance",
    "read_allowance",
]

ROSTER_COLUMNS = ("student", "key_prefix", "limit_usd", "period")
KEYS_COLUMNS = ("student", "key_prefix", "key")


@dataclass(frozen=True)
class Seat:
    """One student's key: who, its prefix and its limit; ``key`` only right after creation."""

    student: str
    prefix: str
    limit: KeyLimit | None
    key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Roster:
    """The class: its name and one seat per student, in order."""

    name: str
    seats: tuple[Seat, ...]

    def __len__(self) -> int:
        return len(self.seats)

    def seat(self, student: str) -> Seat:
        for seat in self.seats:
            if seat.student == student:
                return seat
        raise KeyError(student)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """The roster as CSV (student, key prefix, limit; never a key)."""
        target = Path(path)
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(ROSTER_COLUMNS)
            for seat in self.seats:
                limit = seat.limit
                writer.writerow([seat.student, seat.prefix, f"{limit.usd:g}" if limit else "",
                                 limit.period if limit else ""])  # fmt: skip
        return target

    def write_keys(self, path: str | os.PathLike[str]) -> Path:
        """The keys as CSV (student, key prefix, key) in a new file only its owner can read or
        write (mode 0600); an existing file is never overwritten."""
        missing = [seat.student for seat in self.seats if seat.key is None]
        if missing:
            raise errors.ConfigurationError(
                f"The keys of {', '.join(missing)} are not known: a key is shown only when it is created."
            )
        target = Path(path)
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise errors.ConfigurationError(
                f"{target} exists: the keys are written only to a new file.",
                hint="Choose another path, or move the old file away first.",
            ) from None
        os.chmod(target, 0o600)  # whatever the umask made of it
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(KEYS_COLUMNS)
            writer.writerows([seat.student, seat.prefix, seat.key] for seat in self.seats)
        return target

    @classmethod
    def read(cls, path: str | os.PathLike[str], name: str | None = None) -> Roster:
        """A roster written by :meth:`write` (or a keys file: its keys come along)."""
        source = Path(path)
        try:
            with source.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as error:
            raise errors.ConfigurationError(f"Cannot read the roster {source}: {error.strerror}.") from None
        seats = []
        for number, row in enumerate(rows, 2):
            if not row.get("student") or not row.get("key_prefix"):
                raise errors.ConfigurationError(f"{source}, line {number}: a student and a key_prefix are needed.")
            limit = None
            if row.get("limit_usd"):
                try:
                    limit = KeyLimit(float(row["limit_usd"]), row.get("period") or "none")  # type: ignore[arg-type]
                except (ValueError, errors.ValidationError):
                    raise errors.ConfigurationError(f"{source}, line {number}: a bad limit.") from None
            seats.append(Seat(row["student"], row["key_prefix"], limit, row.get("key") or None))
        return cls(name or source.stem, tuple(seats))


@dataclass(frozen=True)
class SeatUsage:
    """A student's spend in the current period of their key's limit."""

    seat: Seat
    spent_usd: float
    requests: int
    limit: KeyLimit | None
    disabled: bool = False
    exists: bool = True  # False once the key was revoked

    @property
    def left_usd(self) -> float | None:
        if self.limit is None or not self.exists:
            return None
        return max(0.0, round(self.limit.usd - self.spent_usd, 6))

    @property
    def status(self) -> str:
        if not self.exists:
            return "revoked"
        return "disabled" if self.disabled else "active"


class PartialClassError(errors.KlingError):
    """Creating the class stopped part way: ``roster`` holds the keys made so far (write them
    down: a key is shown only once)."""

    def __init__(self, roster: Roster, cause: BaseException) -> None:
        self.roster = roster
        self.cause = cause
        super().__init__(
            f"{len(roster)} key(s) were created before this failed: {cause}",
            hint="The roster of those keys is kept; revoke them or create the rest.",
        )


def _students(students: int | Sequence[str]) -> list[str]:
    if isinstance(students, int) and not isinstance(students, bool):
        if not 1 <= students <= 500:
            raise errors.ValidationError("students", students, "between 1 and 500")
        width = len(str(students))
        return [f"student-{number:0{width}d}" for number in range(1, students + 1)]
    if isinstance(students, (bool, str)) or not isinstance(students, Sequence):
        raise errors.ValidationError("students", students, "a number of students or a list of names")
    names = [str(name).strip() for name in students]
    if not names or any(not name for name in names) or len(set(names)) != len(names):
        raise errors.ValidationError("students", names, "distinct, non-empty names")
    return names


class Classroom:
    """The teacher's side. ``management_key``: else ``$AIMLAPI_MANAGEMENT_KEY``; with neither,
    nor a base URL or API key configured, the demo emulator's (``demo=True`` forces it)."""

    def __init__(
        self,
        management_key: str | None = None,
        base_url: str | None = None,
        *,
        demo: bool | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if demo is None:
            given = management_key or os.environ.get(MANAGEMENT_KEY_ENV_VAR)
            demo = not given and demo_wanted(base_url=base_url)
        self.demo = demo
        self._time_scale = 1.0
        if demo:
            from ..emulator import demo_emulator

            emulator = demo_emulator()
            management_key, base_url = emulator.management_key, emulator.base_url
            self._time_scale = emulator.time_scale
        self.management = ManagementClient(management_key, base_url, retry=retry, transport=transport)
        self.base_url = self.management.base_url

    def __repr__(self) -> str:  # never the key
        return f"Classroom(base_url={self.base_url!r}{', demo=True' if self.demo else ''})"

    async def aclose(self) -> None:
        await self.management.aclose()

    async def __aenter__(self) -> Classroom:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def student(self, seat: Seat, **options: Any) -> AsyncKlingClient:
        """A client with ``seat``'s key on this class's gateway, to try the class out (a
        student's own notebook uses ``connect()`` with the key the hub put in its environment).
        Its generations are charged to the key like a student's, limit included."""
        if seat.key is None:
            raise errors.ConfigurationError(f"The key of {seat.student} is not known here.")
        options.setdefault("poll", PollPolicy(time_scale=self._time_scale))
        return AsyncKlingClient(seat.key, self.base_url, **options)

    async def create(
        self,
        students: int | Sequence[str],
        limit_usd: float | None,
        period: Period = "none",
        *,
        name: str = "class",
    ) -> Roster:
        """One key per student (``students``: a count or names), each capped at ``limit_usd``
        per ``period`` (None: no limit) and scoped to video. The keys are in the returned
        roster's seats, this once. A failure part way raises :class:`PartialClassError`."""
        limit = None if limit_usd is None else KeyLimit(limit_usd, period)
        made: list[Seat] = []
        for student in _students(students):
            try:
                record = await self.management.create(f"{name}: {student}", limit)
            except errors.KlingError as error:
                if not made:
                    raise
                raise PartialClassError(Roster(name, tuple(made)), error) from error
            made.append(Seat(student, record.prefix, record.limit or limit, record.key))
        return Roster(name, tuple(made))

    async def usage(self, roster: Roster) -> list[SeatUsage]:
        """Each student's spend in the current period of their limit, and what is left."""
        records = {record.prefix: record for record in await self.management.keys()}
        now = datetime.now(timezone.utc)
        found = []
        for seat in roster.seats:
            record = records.get(seat.prefix)
            if record is None:
                found.append(SeatUsage(seat, 0.0, 0, seat.limit, exists=False))
                continue
            spent, requests = await self.management.spend(record, now)
            found.append(SeatUsage(seat, spent, requests, record.limit, record.disabled))
        return found

    async def revoke(self, roster: Roster) -> list[str]:
        """Delete every key of ``roster``; returns the prefixes that were still there."""
        return [seat.prefix for seat in roster.seats if await self.management.delete(seat.prefix)]


@dataclass(frozen=True)
class Allowance:
    """What a key may still spend: its limit, its spend in the current period, what this
    client's unfinished generations will be charged, and when the period resets."""

    prefix: str
    name: str | None
    limit: KeyLimit | None
    spent_usd: float
    unfinished_usd: float = 0.0
    resets_at: datetime | None = None

    @property
    def remaining_usd(self) -> float | None:
        """None: the key has no limit (the account's balance is the only cap)."""
        if self.limit is None:
            return None
        return max(0.0, round(self.limit.usd - self.spent_usd - self.unfinished_usd, 6))

    def __str__(self) -> str:
        if self.limit is None:
            return f"no spending limit on this key (${self.spent_usd:.2f} spent this month)"
        resets = f", resets {self.resets_at:%Y-%m-%d %H:%M} UTC" if self.resets_at else ""
        unfinished = f" (${self.unfinished_usd:.2f} of it for unfinished videos)" if self.unfinished_usd else ""
        return f"${self.remaining_usd:.2f} of {self.limit} left{unfinished}{resets}"


def _resets(period: Period, now: datetime) -> datetime | None:
    start = period_start(period, now)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return None


async def _unfinished_usd(client: AsyncKlingClient) -> float:
    """What this client's submitted, not yet completed generations will be charged."""
    total = 0.0
    for job in list(client.runner.jobs):
        event = job.last_event
        charged = event is not None and (event.status == "completed" or event.is_final)
        if job.request is not None and job.generation_id and not job.done() and not charged:
            total += (await client.estimate(job.request)).usd
    return round(total, 6)


async def read_allowance(client: AsyncKlingClient) -> Allowance:
    """The client's key's allowance, from free reads (``GET /v1/key``; ``GET /v2/usage`` for a
    limit per day, week or in total). Nothing is changed."""
    reply = await client.service_get("/v1/key")
    record = KeyRecord.from_json(reply.get("data"))
    now = datetime.now(timezone.utc)
    spent = record.monthly_usage
    if record.limit is not None and record.limit.period != "month":
        usage = await client.service_get("/v2/usage", usage_params(usage_window(record, now)))
        value = usage.get("spend")
        spent = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    return Allowance(
        prefix=record.prefix,
        name=record.name,
        limit=record.limit,
        spent_usd=round(spent, 6),
        unfinished_usd=await _unfinished_usd(client),
        resets_at=_resets(record.limit.period, now) if record.limit else None,
    )


async def apply_allowance(client: AsyncKlingClient) -> Allowance:
    """Read the allowance and make it the client's budget: a submit that would pass the key's
    limit is then refused before anything is sent (BudgetExceededError). Call it again to
    refresh (after the period resets, or the teacher raises the limit)."""
    allowance = await read_allowance(client)
    remaining = allowance.remaining_usd
    client.budget = None if remaining is None else Budget(usd=remaining)
    return allowance

