"""How a class's spend is shown: one row per student, in a notebook (HTML) and as text.

Student names come from the teacher's roster and prefixes from the network: every value is
escaped. Keys are never shown.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..runtime.classroom import SeatUsage

__all__ = ["UsageTable"]

_CELL = "text-align:left;padding:2px 12px 2px 0"
_HEADERS = ("student", "key prefix", "spent", "limit", "left", "generations", "key")


def _cells(row: SeatUsage) -> list[str]:
    left = row.left_usd
    return [
        row.seat.student,
        row.seat.prefix,
        f"${row.spent_usd:.2f}",
        str(row.limit) if row.limit else "no limit",
        "" if left is None else f"${left:.2f}",
        str(row.requests),
        row.status,
    ]


@dataclass(frozen=True)
class UsageTable:
    """The class's spend per student (iterate it for :class:`SeatUsage` rows)."""

    rows: tuple[SeatUsage, ...]

    def __iter__(self) -> Iterator[SeatUsage]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def spent_usd(self) -> float:
        return round(sum(row.spent_usd for row in self.rows), 6)

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "student": row.seat.student,
                "key_prefix": row.seat.prefix,
                "spent_usd": row.spent_usd,
                "limit_usd": row.limit.usd if row.limit else None,
                "period": row.limit.period if row.limit else None,
                "left_usd": row.left_usd,
                "generations": row.requests,
                "status": row.status,
            }
            for row in self.rows
        ]

    def __str__(self) -> str:
        table = [list(_HEADERS), *(_cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(_HEADERS))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                 for line in table]  # fmt: skip
        lines.append(f"total spent: ${self.spent_usd:.2f}")
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        head = "".join(f'<th style="{_CELL}">{html.escape(name)}</th>' for name in _HEADERS)
        body = "".join(
            "<tr>" + "".join(f'<td style="{_CELL}">{html.escape(cell)}</td>' for cell in _cells(row)) + "</tr>"
            for row in self.rows
        )
        total = f"<p>Total spent: ${self.spent_usd:.2f}</p>"
        table = f'<table class="kling-class" style="border-collapse:collapse"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        return {"text/plain": str(self), "text/html": table + total}
