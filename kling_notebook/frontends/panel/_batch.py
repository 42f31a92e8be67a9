"""A batch in the notebook: confirm its cost, watch one row per job, then play the results.

Nothing is sent before the user presses "Confirm: N videos, about $X" (or calls
:meth:`BatchView.confirm`); until then each request is listed by its title. The batch runs on the
engine loop, so the cell returns at once and rows keep filling while other cells run. The view is
one anywidget on the panel's view code (so front ends that show only anywidgets show it too):
the panel's own rows, each becoming its video, without Cancel: a batch stops as a whole (Stop
waiting), not row by row.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import traitlets

from ...domain.cost import Budget
from ...domain.request import GenerationRequest
from ...runtime.batch import BatchResult, estimate_requests
from ...runtime.engine import spawn
from ._html import Tone
from ._progress import RowsWidget
from ._rows import request_title

if TYPE_CHECKING:
    from ...runtime.client import AsyncKlingClient

__all__ = ["BatchView"]


class BatchView(RowsWidget):
    """Confirm button, job rows and their videos for ``requests`` run by ``client``;
    ``options`` go to :meth:`~kling_notebook.runtime.client.AsyncKlingClient.batch`."""

    #: What the view draws above the rows (plain text: the view escapes it).
    batch = traitlets.Dict().tag(sync=True)
    cancellable = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        client: AsyncKlingClient,
        requests: Sequence[GenerationRequest],
        *,
        budget: Budget | None = None,
        **options: Any,
    ) -> None:
        super().__init__(view="batch")
        self.client = client
        self.requests = list(requests)
        self.estimate = estimate_requests(self.requests, client.prices)
        self._options: dict[str, Any] = {"budget": budget, **options}
        self.future: concurrent.futures.Future[BatchResult] | None = None
        videos = "video" if self.estimate.count == 1 else "videos"
        self.confirm_label = f"Confirm: {self.estimate.count} {videos}, about ${self.estimate.usd:.2f}"
        self.titles = [request_title(number, request) for number, request in enumerate(self.requests, 1)]
        self._show(f"{self.estimate}. Nothing is sent until you confirm.", "muted")

    def _show(self, summary: str, tone: Tone) -> None:
        running = self.future is not None and not self.future.done()
        self.batch = {
            "summary": summary,
            "tone": tone,
            "confirm": "Confirmed" if self.future is not None else self.confirm_label,
            "confirm_title": str(self.estimate),
            "confirmed": self.future is not None,
            "stoppable": running,
            "titles": [] if self.future is not None else self.titles,
        }

    def receive(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """The view's Confirm and Stop waiting; the rest as every row view."""
        kind = content.get("kind")
        if kind == "confirm":
            self.confirm()
        elif kind == "stop":
            self.stop()
        else:
            super().receive(content, buffers)

    def confirm(self) -> concurrent.futures.Future[BatchResult]:
        """Start the batch (once): what pressing the Confirm button does."""
        if self.future is None:
            batch = self.client.batch(self.requests, confirm=True, on_job=self.follow, **self._options)
            self.future = spawn(batch)
            self._show(f"Running: {self.client.mode_label}.", "info")
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

    def _finished(self, future: concurrent.futures.Future[BatchResult]) -> None:
        if future.cancelled():
            self._show("Stopped waiting. Submitted generations keep running: resume() saves them.", "warn")
        elif future.exception() is not None:
            self._show(f"The batch did not start: {future.exception()}", "bad")
        else:
            self._show(str(future.result()), "ok")

    def __repr__(self) -> str:
        return f"<BatchView {len(self.requests)} requests, {self.estimate}>"
