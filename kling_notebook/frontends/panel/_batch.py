"""A batch in the notebook: confirm its cost, watch one row per job, then play the results.

Nothing is sent before the user presses "Confirm: N videos, about $X" (or calls
:meth:`BatchView.confirm`); until then each request is listed by its title. The batch runs on the
engine loop, so the cell returns at once and rows keep filling while other cells run. The rows
are one :class:`~._progress.JobsView` (the panel's own rows, each becoming its video), without
Cancel: a batch stops as a whole (Stop waiting), not row by row.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ...domain.cost import Budget
from ...domain.request import GenerationRequest
from ...runtime.batch import BatchResult, estimate_requests
from ...runtime.engine import spawn
from ._html import esc, note
from ._progress import JobsView
from ._rows import request_title

if TYPE_CHECKING:
    from ...runtime.client import AsyncKlingClient
    from ...runtime.jobs import Job

__all__ = ["BatchView"]


class BatchView(widgets.VBox):
    """Confirm button, job table and video grid for ``requests`` run by ``client``;
    ``options`` go to :meth:`~kling_notebook.runtime.client.AsyncKlingClient.batch`."""

    def __init__(
        self,
        client: AsyncKlingClient,
        requests: Sequence[GenerationRequest],
        *,
        budget: Budget | None = None,
        **options: Any,
    ) -> None:
        self.client = client
        self.requests = list(requests)
        self.estimate = estimate_requests(self.requests, client.prices)
        self._options: dict[str, Any] = {"budget": budget, **options}
        self.future: concurrent.futures.Future[BatchResult] | None = None
        self.jobs_view = JobsView(cancellable=False)
        self.preview = widgets.VBox(
            [widgets.HTML(f"<b>{esc(request_title(number, request))}</b>") for number, request in enumerate(self.requests, 1)]
        )
        self.table = widgets.VBox([self.preview])
        videos = "video" if self.estimate.count == 1 else "videos"
        self.confirm_button = widgets.Button(
            description=f"Confirm: {self.estimate.count} {videos}, about ${self.estimate.usd:.2f}",
            button_style="warning",
            tooltip=str(self.estimate),
            layout=widgets.Layout(width="auto"),
        )
        self.confirm_button.on_click(lambda _: self.confirm())
        self.stop_button = widgets.Button(
            description="Stop waiting",
            icon="stop",
            disabled=True,
            layout=widgets.Layout(width="auto"),
        )
        self.stop_button.on_click(lambda _: self.stop())
        self.summary = widgets.HTML(note(f"{self.estimate}. Nothing is sent until you confirm."))
        super().__init__(
            [
                self.summary,
                widgets.HBox([self.confirm_button, self.stop_button]),
                self.table,
            ]
        )

    def confirm(self) -> concurrent.futures.Future[BatchResult]:
        """Start the batch (once): what pressing the Confirm button does."""
        if self.future is None:
            self.confirm_button.disabled = True
            self.confirm_button.description = "Confirmed"
            self.stop_button.disabled = False
            self.summary.value = note(f"Running: {self.client.mode_label}.", "info")
            batch = self.client.batch(self.requests, confirm=True, on_job=self._add_row, **self._options)
            self.future = spawn(batch)
            self.future.add_done_callback(self._finished)
        return self.future

    def stop(self) -> None:
        """Stop waiting for the whole batch. Submitted generations keep running on the server
        (there is no cancel endpoint); ``resume()`` saves them later."""
        if self.future is not None:
            self.future.cancel()

    async def wait(self) -> BatchResult:
        """Await the batch from a notebook cell (after :meth:`confirm` or the button)."""
        return await asyncio.wrap_future(self.confirm())

    def _add_row(self, job: Job) -> None:
        """One row per job as the batch starts it (in request order), instead of the titles."""
        self.jobs_view.follow(job)
        self.table.children = (self.jobs_view,)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as the view draws them (JSON)."""
        return list(self.jobs_view.rows)

    def _finished(self, future: concurrent.futures.Future[BatchResult]) -> None:
        self.stop_button.disabled = True
        if future.cancelled():
            text = "Stopped waiting. Submitted generations keep running: resume() saves them."
            self.summary.value = note(text, "warn")
        elif future.exception() is not None:
            self.summary.value = note(f"The batch did not start: {future.exception()}", "bad")
        else:
            self.summary.value = note(str(future.result()), "ok")

    def __repr__(self) -> str:
        return f"<BatchView {len(self.requests)} requests, {self.estimate}>"
