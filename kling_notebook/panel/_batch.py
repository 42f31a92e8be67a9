"""A batch in the notebook: confirm its cost, watch one row per job, then play the results.

Nothing is sent before the user presses "Confirm: N videos, about $X" (or calls
:meth:`BatchView.confirm`). The batch runs on the engine loop, so the cell returns at once and
rows keep filling while other cells run; rows only subscribe to the batch's event stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import ipywidgets as widgets

from ..batch import BatchEvent, BatchResult, estimate_requests
from ..cost import Budget
from ..display import video_html
from ..engine import spawn
from ..events import JobEvent
from ..models import GenerationRequest, GenerationResult
from ..textprogress import format_seconds

if TYPE_CHECKING:
    from ..client import AsyncKlingClient

__all__ = ["BatchView", "JobRowView", "RowFactory"]

_PROMPT_CHARS = 60
_PHASE_COLORS = {"completed": "#166534", "failed": "#991b1b", "cancelled": "#92400e"}


class JobRowView(Protocol):
    """What the batch table needs of a row: a widget, and a way to show an event."""

    widget: widgets.Widget

    def update(self, event: JobEvent) -> None: ...


RowFactory = Callable[[int, GenerationRequest], JobRowView]


def _short(text: str | None) -> str:
    text = text or "(no prompt)"
    return text if len(text) <= _PROMPT_CHARS else text[: _PROMPT_CHARS - 1] + "\u2026"


class _Row:
    """One job: what was asked, a progress bar, where it is, and the result link."""

    def __init__(self, index: int, request: GenerationRequest) -> None:
        label = f"<b>{index + 1}.</b> {html.escape(_short(request.prompt))} ({request.duration} s)"
        self.label = widgets.HTML(label, layout=widgets.Layout(width="40%"))
        self.bar = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="20%")
        )
        self.status = widgets.HTML("waiting to submit", layout=widgets.Layout(width="40%"))
        self.widget = widgets.HBox([self.label, self.bar, self.status])

    def update(self, event: JobEvent) -> None:
        if event.fraction is not None:
            self.bar.value = event.fraction
        text: str = event.phase
        if event.phase in ("queued", "generating") and event.eta is not None:
            text += f", ~{format_seconds(event.eta)} left"
        if event.message:
            text += f": {event.message}"
        if event.phase == "completed" and event.result is not None:
            text = f"completed: {event.result.path.name}"
        color = _PHASE_COLORS.get(event.phase, "inherit")
        self.status.value = f'<span style="color:{color}">{html.escape(text)}</span>'
        self.bar.bar_style = {"completed": "success", "failed": "danger"}.get(event.phase, "")


class BatchView:
    """Confirm button, job table and video grid for ``requests`` run by ``client``.

    ``row_factory`` builds each row (the panel's own progress row can be passed in);
    ``options`` go to :meth:`~kling_notebook.client.AsyncKlingClient.batch` (``out_dir``,
    ``poll``, ``timeout``, ``raise_after``).
    """

    def __init__(
        self,
        client: AsyncKlingClient,
        requests: Sequence[GenerationRequest],
        *,
        concurrency: int = 4,
        budget: Budget | None = None,
        row_factory: RowFactory = _Row,
        **options: Any,
    ) -> None:
        self.client = client
        self.requests = list(requests)
        self.estimate = estimate_requests(self.requests, client.prices)
        self._batch_options: dict[str, Any] = {
            "concurrency": concurrency,
            "budget": budget,
            **options,
        }
        self.future: concurrent.futures.Future[BatchResult] | None = None
        self.rows = [row_factory(index, request) for index, request in enumerate(self.requests)]
        videos = "video" if self.estimate.count == 1 else "videos"
        self.confirm_button = widgets.Button(
            description=f"Confirm: {self.estimate.count} {videos}, about ${self.estimate.usd:.2f}",
            button_style="warning",
            tooltip=str(self.estimate),
            layout=widgets.Layout(width="auto"),
        )
        self.confirm_button.on_click(lambda _: self.confirm())
        self.summary = widgets.HTML(
            f"{html.escape(str(self.estimate))}. Nothing is sent until you confirm."
        )
        self.grid = widgets.HTML("")
        self._videos: dict[int, str] = {}
        self.widget = widgets.VBox(
            [
                self.summary,
                self.confirm_button,
                widgets.VBox([row.widget for row in self.rows]),
                self.grid,
            ]
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def confirm(self) -> concurrent.futures.Future[BatchResult]:
        """Start the batch (once): what pressing the Confirm button does."""
        if self.future is None:
            self.confirm_button.disabled = True
            self.confirm_button.description = "Confirmed: running"
            self.summary.value = html.escape(f"Running {self.client.mode_label}.")
            batch = self.client.batch(
                self.requests, confirm=True, on_event=self._on_event, **self._batch_options
            )
            self.future = spawn(batch)
            self.future.add_done_callback(self._finished)
        return self.future

    async def wait(self) -> BatchResult:
        """Await the batch from a notebook cell (after :meth:`confirm` or the button)."""
        return await asyncio.wrap_future(self.confirm())

    def _on_event(self, tagged: BatchEvent) -> None:
        self.rows[tagged.index].update(tagged.event)
        if tagged.event.phase == "completed" and tagged.event.result is not None:
            self._add_video(tagged.index, tagged.event.result)

    def _add_video(self, index: int, result: GenerationResult) -> None:
        title = html.escape(
            f"{index + 1}. {_short(result.request.prompt if result.request else None)}"
        )
        self._videos[index] = f"<div><div><b>{title}</b></div>{video_html(result)}</div>"
        cells = "".join(self._videos[i] for i in sorted(self._videos))
        self.grid.value = (
            '<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));'
            f'gap:12px">{cells}</div>'
        )

    def _finished(self, future: concurrent.futures.Future[BatchResult]) -> None:
        if future.cancelled():
            text = "Stopped waiting. Submitted generations keep running: resume() saves them."
        elif future.exception() is not None:
            text = f"The batch did not start: {future.exception()}"
        else:
            text = str(future.result())
        self.summary.value = html.escape(text)
