"""Many generations at once, confirmed first: every request a job of the client's one runner.

Nothing is sent until the count and the estimated cost are confirmed (``confirm=True``) and the
whole estimate fits every budget in force (the client's session budget and the batch's own). The
jobs then share the account's concurrency cap and 429 queue with everything else the client runs
(see :mod:`~kling_notebook.runtime.jobs`), so a batch, a panel and a resume in one notebook never
send more than that cap together.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain import errors
from ..domain.cost import Budget, CostEstimate, PriceTable
from ..domain.events import JobEvent
from ..domain.generation import GenerationResult
from ..domain.models import DEFAULT_MODEL
from ..domain.request import GenerationRequest
from .jobs import Job, JobRunner

if TYPE_CHECKING:
    from ..domain.images import ImageInput

__all__ = [
    "BatchItem",
    "BatchResult",
    "ConfirmationRequiredError",
    "estimate_requests",
    "run_batch",
    "sweep",
]


class ConfirmationRequiredError(errors.KlingError):
    """A batch was started without ``confirm=True``; nothing was sent."""

    def __init__(self, estimate: CostEstimate) -> None:
        self.estimate = estimate
        super().__init__(
            f"This batch would submit {estimate.count} generations: {estimate}.",
            hint="Nothing was sent. Pass confirm=True to submit them.",
        )


@dataclass(frozen=True)
class BatchItem:
    """What became of one request: a saved result or the error that ended it."""

    index: int
    request: GenerationRequest
    result: GenerationResult | None = None
    error: BaseException | None = None
    refusals: int = 0  # times its submit was refused with 429 and queued again

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass(frozen=True)
class BatchResult:
    """Every item in request order, the estimate that was confirmed, and how the cap moved."""

    items: tuple[BatchItem, ...]
    estimate: CostEstimate
    limits: tuple[int, ...]  # the account's cap over the batch's time, from its value at the start
    peak_in_flight: int  # the batch's own jobs between submit and their end, at most

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[BatchItem]:
        return iter(self.items)

    @property
    def results(self) -> list[GenerationResult]:
        return [item.result for item in self.items if item.result is not None]

    @property
    def failures(self) -> list[BatchItem]:
        return [item for item in self.items if item.error is not None]

    def __str__(self) -> str:
        return (
            f"batch of {len(self.items)}: {len(self.results)} saved, {len(self.failures)} failed "
            f"(estimated {self.estimate})"
        )


def _as_list(values: Any) -> list[Any]:
    """A single prompt, path or image is one value, not a sequence of characters or bytes."""
    single = (str, bytes, bytearray, memoryview, Path)
    if isinstance(values, single) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def sweep(
    *,
    images: ImageInput | Sequence[ImageInput],
    prompts: str | Sequence[str | None] | None = None,
    durations: int | Sequence[int] = (5,),
    models: str | Sequence[str] | None = None,
    **common: Any,
) -> list[GenerationRequest]:
    """Every combination of ``prompts`` x ``images`` x ``durations`` x ``models`` (in that
    nesting order), each with the ``common`` fields (``negative_prompt=``, ``provider=``...);
    ``models`` None is the one model of ``common`` (v2.1 master by default). Each request is validated against its model as it is
    built, so a bad value fails here, before anything is estimated or sent."""
    chosen = _as_list(models) if models is not None else [common.pop("model", DEFAULT_MODEL)]
    return [
        GenerationRequest.from_kwargs(image=image, prompt=prompt, duration=duration, model=model, **common)
        for prompt, image, duration, model in itertools.product(
            _as_list(prompts), _as_list(images), _as_list(durations), chosen
        )
    ]


def estimate_requests(requests: Iterable[GenerationRequest], prices: PriceTable) -> CostEstimate:
    """The summed estimate of ``requests`` (what the user confirms), each by its model."""
    total = prices.estimate(5, count=0)
    for request in requests:
        total = total + prices.estimate_request(request)
    return total


class _InFlight:
    """How many of a batch's jobs are between their first step and their end (or back to held)."""

    def __init__(self) -> None:
        self._running: set[int] = set()
        self.peak = 0

    def watcher(self, index: int) -> Callable[[JobEvent], None]:
        def watch(event: JobEvent) -> None:
            if event.is_final or event.phase == "held":
                self._running.discard(index)
            else:
                self._running.add(index)
                self.peak = max(self.peak, len(self._running))

        return watch


async def run_batch(
    runner: JobRunner,
    requests: Iterable[GenerationRequest],
    *,
    confirm: bool = False,
    budget: Budget | None = None,
    on_job: Callable[[Job], None] | None = None,
    **options: Any,
) -> BatchResult:
    """Submit, wait for and save every request as a job of ``runner``.

    Raises :class:`ConfirmationRequiredError` without ``confirm=True`` and
    :class:`~kling_notebook.errors.BudgetExceededError` when the estimate does not fit the
    client's or the batch's ``budget``; in both cases nothing is sent. Otherwise every item ends
    with a result or its error (see :class:`BatchResult`); ``on_job`` is given each job as it
    starts, in request order (a view subscribes to it). ``options`` go to each job:
    ``out_dir``, ``poll``, ``timeout``. Cancelling the batch cancels its jobs.
    """
    client = runner.client
    batch = list(requests)
    estimate = estimate_requests(batch, await client.price_table(r.model for r in batch))
    if not confirm:
        raise ConfirmationRequiredError(estimate)
    caps = () if client.demo else (client.budget, budget)  # demo generations cost nothing
    for cap in caps:
        if cap is not None:
            cap.check(estimate)
    gate = runner.gate
    first_limit = len(gate.limits) - 1
    in_flight = _InFlight()
    jobs = []
    for index, request in enumerate(batch):
        job = runner.start(request, budget=None if client.demo else budget, on_event=in_flight.watcher(index), **options)
        jobs.append(job)
        if on_job is not None:
            on_job(job)
    try:
        outcomes = await asyncio.gather(*(job.wait() for job in jobs), return_exceptions=True)
    finally:
        for job in jobs:  # a cancelled batch stops waiting for all of its jobs
            job.cancel()
    items = tuple(
        BatchItem(index, request, result=outcome, refusals=job.refusals)
        if isinstance(outcome, GenerationResult)
        else BatchItem(index, request, error=outcome, refusals=job.refusals)
        for index, (request, job, outcome) in enumerate(zip(batch, jobs, outcomes, strict=True))
    )
    return BatchResult(
        items=items, estimate=estimate, limits=tuple(gate.limits[first_limit:]), peak_in_flight=in_flight.peak
    )
