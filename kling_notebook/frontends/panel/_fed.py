"""A Job fed from another run's event stream, so a :class:`ProgressRow` can follow one item of it.

A batch and a resume of many generations each run as one coroutine that reports every item's
events, tagged with the item's place. Rows need a :class:`~kling_notebook.runtime.jobs.Job` per item: this
one runs nothing itself, it only replays the events it is given, and it is over when its item has
ended or the whole run has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...domain.events import JobEvent
from ...runtime.jobs import Job

if TYPE_CHECKING:
    from ...domain.request import GenerationRequest
    from ...runtime.client import AsyncKlingClient

__all__ = ["FedJob"]


class FedJob(Job):
    """One item of a batch or resume, seen as the Job a ProgressRow follows.

    ``run_over`` tells whether the whole run has ended (then no more events will come).
    """

    def __init__(
        self,
        client: AsyncKlingClient,
        request: GenerationRequest | None,
        run_over: Callable[[], bool],
        *,
        generation_id: str | None = None,
        duration: int | None = None,
    ) -> None:
        super().__init__(client, request, generation_id=generation_id, duration=duration)
        self._run_over = run_over
        self._track()

    def show(self, event: JobEvent) -> None:
        """Pass on one of the run's events for this item."""
        self._emit(event)

    def done(self) -> bool:
        last = self.last_event
        return (last is not None and last.is_final) or self._run_over()

    def cancel(self) -> bool:
        return False  # the run stops as a whole, not item by item
