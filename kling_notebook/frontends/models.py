"""``kling_notebook.models()``: the model listing as a notebook table and as text.

One row per model: its id and name, what it takes beyond the image, its durations and its price
(the gateway's live price where it could be read, else the built-in figure; the label says
which). Every value is escaped: ids and labels come from the network.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.models import DEFAULT_MODEL
from ..runtime.catalogue import ModelListing, list_models
from ..runtime.engine import run_blocking

__all__ = ["ModelTable", "models"]

_CELL = "text-align:left;padding:2px 10px 2px 0;vertical-align:top"


@dataclass(frozen=True)
class ModelTable:
    """The listing: iterate it for :class:`~kling_notebook.runtime.catalogue.ModelListing` rows,
    or show it as a cell's last line."""

    rows: tuple[ModelListing, ...]

    def __iter__(self) -> Iterator[ModelListing]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, model: str) -> ModelListing:
        """The row of ``model`` (an id)."""
        for row in self.rows:
            if row.model.id == model:
                return row
        raise KeyError(model)

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "id": row.model.id,
                "name": row.model.name,
                "family": row.model.family,
                "default": row.model.id == DEFAULT_MODEL,
                "takes": row.takes,
                "prompt_required": row.model.prompt_required,
                "durations": list(row.model.durations),
                "end_frame": row.model.end_frame,
                "usd_per_second": row.rate.usd_per_second,
                "audio_usd_per_second": row.rate.audio_usd_per_second if row.model.audio else None,
                "price_source": row.rate.label,
            }
            for row in self.rows
        ]

    def __str__(self) -> str:
        lines = []
        for row in self.rows:
            default = " (default)" if row.model.id == DEFAULT_MODEL else ""
            required = " (prompt required)" if row.model.prompt_required else ""
            lines += [
                f"{row.model.id}{default}: {row.model.name}",
                f"  takes: {', '.join(row.takes)}{required}",
                f"  durations: {row.model.duration_text} s; price: {row.price_text()}",
            ]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        head = "".join(f'<th style="{_CELL}">{name}</th>'
                       for name in ("Model", "Takes", "Durations (s)", "Price"))  # fmt: skip
        body = "".join(_row_html(row) for row in self.rows)
        table = (
            '<table class="kling-models" style="border-collapse:collapse;font-size:90%">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
        return {"text/plain": str(self), "text/html": table}


def _row_html(row: ModelListing) -> str:
    name = html.escape(row.model.name) + (" <b>(default)</b>" if row.model.id == DEFAULT_MODEL else "")
    takes = ", ".join(row.takes) + (" (prompt required)" if row.model.prompt_required else "")
    cells = [
        f"{name}<br><code>{html.escape(row.model.id)}</code>",
        html.escape(takes),
        html.escape(row.model.duration_text),
        html.escape(row.price_text()),
    ]
    return "<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in cells) + "</tr>"


def models(
    base_url: str | None = None, *, demo: bool | None = None, live: bool = True
) -> ModelTable:
    """Every Kling image-to-video model with what it takes, its durations and its price (live
    from the gateway's pricing route, else built-in, labelled). Needs no key; demo mode (no key,
    no base URL) lists the demo emulator's simulated prices."""
    rows: Sequence[ModelListing] = run_blocking(list_models(base_url, demo=demo, live=live))
    return ModelTable(tuple(rows))
