"""``kling_notebook.classroom``: a class on one paid account, from Python (blocking calls).

The teacher, with a management key in ``$AIMLAPI_MANAGEMENT_KEY`` (never in a notebook)::

    from kling_notebook import classroom
    roster = classroom.create(students=30, limit_usd=3, period="week")
    roster.write("roster.csv")              # student, key prefix, limit: no secrets
    roster.write_keys("keys.csv")           # the keys, mode 0600, for the hub (see the README)
    classroom.usage(roster)                 # spend and what is left, per student
    classroom.revoke(roster)                # the end of the class

A student, whose key the hub put in ``$AIMLAPI_KEY``::

    client = kling_notebook.connect()
    classroom.allowance(client)             # "$1.60 of $3.00 per week left, resets ..."
    classroom.limit_to_allowance(client)    # submits past it are refused before sending

Without a management key (and no API key or base URL configured) it runs on the demo emulator.
The async versions are :class:`~kling_notebook.runtime.classroom.Classroom`,
:func:`~kling_notebook.runtime.classroom.read_allowance` and
:func:`~kling_notebook.runtime.classroom.apply_allowance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .frontends.classroom import UsageTable
from .gateway.keys import PERIODS, KeyLimit, Period
from .runtime.classroom import (
    Allowance,
    Classroom,
    PartialClassError,
    Roster,
    Seat,
    SeatUsage,
    apply_allowance,
    read_allowance,
)
from .runtime.client import AsyncKlingClient
from .runtime.engine import run_blocking
from .runtime.sync import KlingClient

__all__ = [
    "PERIODS",
    "Allowance",
    "Classroom",
    "KeyLimit",
    "PartialClassError",
    "Roster",
    "Seat",
    "SeatUsage",
    "UsageTable",
    "allowance",
    "create",
    "limit_to_allowance",
    "revoke",
    "usage",
]


def _with_classroom(options: dict[str, Any], work: Any) -> Any:
    async def run() -> Any:
        async with Classroom(**options) as teacher:
            return await work(teacher)

    return run_blocking(run())


def create(
    students: int | Sequence[str],
    limit_usd: float | None,
    period: Period = "none",
    *,
    name: str = "class",
    **options: Any,
) -> Roster:
    """One capped key per student (see :meth:`Classroom.create`); ``options`` go to
    :class:`Classroom` (``management_key=``, ``base_url=``, ``demo=``)."""
    return _with_classroom(options, lambda teacher: teacher.create(students, limit_usd, period, name=name))


def usage(roster: Roster, **options: Any) -> UsageTable:
    """Each student's spend in the current period and what is left (a table in a notebook)."""
    return UsageTable(tuple(_with_classroom(options, lambda teacher: teacher.usage(roster))))


def revoke(roster: Roster, **options: Any) -> list[str]:
    """Delete every key of ``roster``; returns the prefixes that were still there."""
    return _with_classroom(options, lambda teacher: teacher.revoke(roster))


def _async(client: AsyncKlingClient | KlingClient) -> AsyncKlingClient:
    return client.async_client if isinstance(client, KlingClient) else client


def allowance(client: AsyncKlingClient | KlingClient) -> Allowance:
    """What the client's key may still spend (free reads; nothing changes)."""
    return run_blocking(read_allowance(_async(client)))


def limit_to_allowance(client: AsyncKlingClient | KlingClient) -> Allowance:
    """Make the key's allowance the client's budget (refused before sending past it)."""
    return run_blocking(apply_allowance(_async(client)))
