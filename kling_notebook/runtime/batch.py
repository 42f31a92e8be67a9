"""Many generations at once: a concurrency cap that backs off on 429, one event stream, one result.

Why the cap moves: the gateway answers 429 when an account runs too many generations and publishes
no numbers. A submit refused with 429 (after the client's own retries) provably created nothing,
so the batch halves its cap, puts that request back in the queue, and raises the cap again by one
after every few successful submits (additive increase, multiplicative decrease, as TCP does).

Nothing is sent until the count and the estimated cost are confirmed (``confirm=True``) and the
whole estimate fits every budget in force (the client's session budget and the batch's own).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain import errors
from ..domain.cost import Budget, CostEstimate, PriceTable
from ..domain.events import JobEvent, Phase
from ..domain.generation import GenerationResult
from ..domain.request import GenerationRequest
from .gate import AdaptiveLimit
from .pipeline import run_generation

if TYPE_CHECKING:
    from ..domain.images import ImageInput
    from .client import AsyncKlingClient

__all__ = [
    "BatchEvent",
    "BatchHandler",
    "BatchItem",
    "BatchResult",
    "ConfirmationRequiredError",
    "MAX_RATE_LIMITED",
    "estimate_requests",
    "run_batch",
    "sweep",
]

#: How often one request may be put back after a 429 before the batch gives up on it.
MAX_RATE_LIMITED = 10


@dataclass(frozen=True)
class BatchEvent:
    """One job's event, tagged with its place in the batch (the one stream a batch view reads)."""

    index: int
    event: JobEvent


BatchHandler = Callable[[BatchEvent], None]


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
    error: Exception | None = None
    rate_limited: int = 0  # times it was put back in the queue after a 429

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass(frozen=True)
class BatchResult:
    """Every item in request order, the estimate that was confirmed, and how the cap moved."""

    items: tuple[BatchItem, ...]
    estimate: CostEstimate
    limits: tuple[int, ...]  # the cap over time: starts at the asked concurrency
    peak_in_flight: int

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
    **common: Any,
) -> list[GenerationRequest]:
    """Every combination of ``prompts`` x ``images`` x ``durations`` (in that nesting order),
    each with the ``common`` fields (``negative_prompt=``, ``provider=``...). Each request is
    validated as it is built, so a bad value fails here, before anything is estimated or sent."""
    return [
        GenerationRequest.from_kwargs(image=image, prompt=prompt, duration=duration, **common)
        for prompt, image, duration in itertools.product(
            _as_list(prompts), _as_list(images), _as_list(durations)
        )
    ]


def estimate_requests(requests: Iterable[GenerationRequest], prices: PriceTable) -> CostEstimate:
    """The summed estimate of ``requests`` (what the user confirms)."""
    total = prices.estimate(5, count=0)
    for request in requests:
        total = total + prices.estimate(request.duration)
    return total


class _RateLimited(Exception):
    """A submit refused with 429 after the client's own retries: provably nothing was created."""

    def __init__(self, error: errors.RateLimitError) -> None:
        super().__init__(str(error))
        self.error = error


class _Batch:
    """The state of one running batch: the cap, the budgets, the event stream."""

    def __init__(
        self,
        client: AsyncKlingClient,
        limit: AdaptiveLimit,
        budget: Budget | None,
        on_event: BatchHandler | None,
        options: dict[str, Any],
    ) -> None:
        self.client = client
        self.limit = limit
        self.budget = budget
        self.on_event = on_event
        self.options = options
        self.started = time.monotonic()

    def emit(self, index: int, event: JobEvent) -> None:
        if self.on_event is not None:
            self.on_event(BatchEvent(index, event))

    def note(self, index: int, phase: Phase, **fields: Any) -> None:
        """An event of the batch's own making (budget refusal, back-off) for the same stream."""
        self.emit(index, JobEvent(phase=phase, elapsed=time.monotonic() - self.started, **fields))

    async def run(self, index: int, request: GenerationRequest) -> BatchItem:
        rate_limited = 0
        while True:
            await self.limit.acquire()
            try:
                result = await self._attempt(index, request)
                return BatchItem(index, request, result=result, rate_limited=rate_limited)
            except _RateLimited as refused:
                if rate_limited >= MAX_RATE_LIMITED:
                    self.note(index, "failed", error=refused.error, message=str(refused.error))
                    return BatchItem(index, request, error=refused.error, rate_limited=rate_limited)
                rate_limited += 1
                self.limit.backed_off()
                delay = self.client.retry.delay(rate_limited, refused.error.retry_after)
            except Exception as exc:
                return BatchItem(index, request, error=exc, rate_limited=rate_limited)
            finally:
                self.limit.release()
            self.note(
                index,
                "submitting",
                message=f"the gateway is busy (429); nothing was created; submitting again in "
                f"{delay:.1f}s with at most {self.limit.limit} at once",
            )
            await self.client.clock.sleep(delay)

    async def _attempt(self, index: int, request: GenerationRequest) -> GenerationResult:
        estimate = self.client.prices.estimate(request.duration)
        try:
            reservation = self.budget.reserve(estimate) if self.budget else None
        except errors.KlingError as exc:
            self.note(index, "failed", error=exc, message=str(exc))
            raise
        submitted = False

        def forward(event: JobEvent) -> None:
            nonlocal submitted
            if event.generation_id and not submitted:
                submitted = True
                self.limit.succeeded()
                if reservation:
                    reservation.commit()
            if reservation and event.generation and event.generation.credits_used is not None:
                reservation.commit(event.generation.credits_used)
            # A 429 before submit does not end this item (it goes back in the queue): hold it.
            refused = not submitted and isinstance(event.error, errors.RateLimitError)
            if not (event.phase == "failed" and refused):
                self.emit(index, event)

        try:
            return await run_generation(self.client, request, on_event=forward, **self.options)
        except BaseException as exc:
            if reservation and not submitted:
                reservation.settle(paid=isinstance(exc, errors.SubmissionUncertainError))
            if isinstance(exc, errors.RateLimitError) and not submitted:
                raise _RateLimited(exc) from exc
            raise


async def run_batch(
    client: AsyncKlingClient,
    requests: Iterable[GenerationRequest],
    *,
    concurrency: int = 4,
    confirm: bool = False,
    budget: Budget | None = None,
    on_event: BatchHandler | None = None,
    raise_after: int = 3,
    **options: Any,
) -> BatchResult:
    """Submit, wait for and save every request, at most ``concurrency`` at once.

    Raises :class:`ConfirmationRequiredError` without ``confirm=True`` and
    :class:`~kling_notebook.errors.BudgetExceededError` when the estimate does not fit the
    client's or the batch's ``budget``; in both cases nothing is sent. Otherwise every item ends
    with a result or its error (see :class:`BatchResult`); ``on_event`` gets every job's events
    as :class:`BatchEvent`. ``options`` go to each job: ``out_dir``, ``poll``, ``timeout``.
    """
    batch = list(requests)
    estimate = estimate_requests(batch, client.prices)
    if not confirm:
        raise ConfirmationRequiredError(estimate)
    caps = () if client.demo else (client.budget, budget)  # demo generations cost nothing
    for cap in caps:
        if cap is not None:
            cap.check(estimate)
    limit = AdaptiveLimit(concurrency, raise_after=raise_after)
    state = _Batch(client, limit, None if client.demo else budget, on_event, options)
    items = await asyncio.gather(
        *(state.run(index, request) for index, request in enumerate(batch))
    )
    return BatchResult(
        items=tuple(items), estimate=estimate, limits=tuple(limit.limits), peak_in_flight=limit.peak
    )
