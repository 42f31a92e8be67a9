"""Side by side: one image and prompt across several models, shown as a grid of players.

A comparison is a sweep over ``model`` run as one batch, so it has the batch's rules: nothing is
sent until the count and the summed estimate are confirmed (``confirm=True``), the estimate must
fit every budget in force, and the jobs share the account's concurrency cap. Each cell shows the
model, its player (see :mod:`~kling_notebook.frontends.display`), the time it took and its cost:
the estimate before the submit (labelled with where the price came from) and the credits the
gateway reported. A model whose generation failed shows why instead of a player.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.cost import CostEstimate, credits_text
from ..domain.formatting import format_seconds
from ..domain.images import ImageInput
from ..domain.models import get_model
from ..runtime.batch import BatchItem, BatchResult, sweep
from ..runtime.client import AsyncKlingClient
from ..runtime.connect import connect
from ..runtime.engine import run_blocking
from .display import DisplayMode, video_html

__all__ = ["Comparison", "ModelRun", "compare_models", "compare_models_async"]

#: What a comparison offers when no models are named: one of each kind, v2.1 master first.
DEFAULT_COMPARISON = (
    "klingai/v2.1-master-image-to-video",
    "kling-video/v2.1/pro/image-to-video",
    "klingai/video-v2-6-pro-image-to-video",
    "klingai/video-v3-standard-image-to-video",
)


@dataclass(frozen=True)
class ModelRun:
    """One model's cell: what became of its generation and what it was expected to cost."""

    item: BatchItem
    estimate: CostEstimate
    simulated: bool

    @property
    def model(self) -> str:
        return self.item.request.model

    @property
    def name(self) -> str:
        return get_model(self.model).name

    @property
    def seconds(self) -> float | None:
        result = self.item.result
        return result.elapsed if result is not None else None

    def cost_text(self) -> str:
        """The estimate, and the credits the gateway reported once it was done."""
        text = f"estimated ${self.estimate.usd:.2f} ({self.estimate.label})"
        result = self.item.result
        if result is not None and result.generation.credits_used is not None:
            text += f"; credits used {credits_text(result.generation.credits_used, simulated=self.simulated)}"
        return text

    def outcome_text(self) -> str:
        if self.item.result is not None:
            return f"saved to {self.item.result.path.name} in {format_seconds(self.seconds or 0.0)}"
        return f"failed: {self.item.error}"


@dataclass(frozen=True)
class Comparison:
    """The runs in the order of the models asked for, and the batch behind them."""

    runs: tuple[ModelRun, ...]
    batch: BatchResult

    def __iter__(self) -> Iterator[ModelRun]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, model: str) -> ModelRun:
        for run in self.runs:
            if run.model == model:
                return run
        raise KeyError(model)

    def __str__(self) -> str:
        lines = [f"{len(self.runs)} models side by side (estimated {self.batch.estimate})"]
        for run in self.runs:
            lines += [f"{run.name} ({run.model})", f"  {run.outcome_text()}", f"  {run.cost_text()}"]
        return "\n".join(lines)

    def html(self, mode: DisplayMode | None = None) -> str:
        """The grid: a cell per model, every value escaped."""
        cells = [_cell_html(run, mode) for run in self.runs]
        return (
            '<div class="kling-compare" style="display:grid;gap:16px;'
            'grid-template-columns:repeat(auto-fill,minmax(260px,1fr));align-items:start">'
            + "".join(cells)
            + "</div>"
        )

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return {"text/plain": str(self), "text/html": self.html()}


def _cell_html(run: ModelRun, mode: DisplayMode | None) -> str:
    title = (
        f'<div style="font-weight:600">{html.escape(run.name)}</div>'
        f'<div style="font-size:80%;color:#555"><code>{html.escape(run.model)}</code></div>'
    )
    if run.item.result is not None:
        body = video_html(run.item.result, mode)
        taken = f"Time taken: {format_seconds(run.seconds or 0.0)}"
    else:
        body = f'<div style="color:#b91c1c">{html.escape(str(run.item.error))}</div>'
        taken = "No video"
    facts = (
        f'<div style="font-size:90%;margin-top:4px">{html.escape(taken)}<br>'
        f"Cost: {html.escape(run.cost_text())}</div>"
    )
    return f'<div class="kling-compare-cell">{title}{body}{facts}</div>'


async def compare_models_async(
    client: AsyncKlingClient,
    image: ImageInput,
    prompt: str | None = None,
    *,
    models: Sequence[str] = DEFAULT_COMPARISON,
    duration: int = 5,
    confirm: bool = False,
    **common: Any,
) -> Comparison:
    """Run ``image`` and ``prompt`` through every model of ``models`` as one confirmed batch.
    Without ``confirm=True`` the count and estimate are raised in ConfirmationRequiredError and
    nothing is sent; every request is validated against its model first."""
    requests = sweep(images=image, prompts=prompt, durations=duration, models=list(models), **common)
    table = await client.price_table(request.model for request in requests)
    estimates = [table.estimate_request(request) for request in requests]
    batch = await client.batch(requests, confirm=confirm)
    runs = tuple(
        ModelRun(item, estimate, client.demo) for item, estimate in zip(batch.items, estimates, strict=True)
    )
    return Comparison(runs, batch)


def compare_models(
    image: ImageInput,
    prompt: str | None = None,
    *,
    models: Sequence[str] = DEFAULT_COMPARISON,
    duration: int = 5,
    confirm: bool = False,
    client: AsyncKlingClient | None = None,
    **common: Any,
) -> Comparison:
    """The blocking :func:`compare_models_async`; ``client`` defaults to :func:`connect()
    <kling_notebook.connect>` (demo mode without a key)."""
    chosen = client or connect()
    return run_blocking(
        compare_models_async(chosen, image, prompt, models=models, duration=duration, confirm=confirm, **common)
    )
