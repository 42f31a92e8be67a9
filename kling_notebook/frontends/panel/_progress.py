"""The anywidget base of every view here, and :class:`JobsView`: progress rows for any jobs.

Each view is one anywidget model whose ESM is a small loader (:data:`LOADER`): it asks the kernel
for the real view code and stylesheet in a custom message, so the widget state saved in a
notebook holds a kilobyte of code, not the whole view, and a view without its kernel says so
instead of staying blank. :class:`RowsWidget` holds the rows and answers the view's requests
(the code, Cancel, a video's bytes). A :class:`~kling_notebook.runtime.jobs.Job` shown as a
cell's last line is a :class:`JobsView` of that one job; a batch shows its jobs in one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ._rows import RowList

if TYPE_CHECKING:
    from ...domain.generation import GenerationResult
    from ...runtime.jobs import Job

__all__ = ["RowsWidget", "JobsView", "view_code"]

log = logging.getLogger("kling_notebook")
_ASSETS = Path(__file__).with_name("assets")


def view_code() -> dict[str, str]:
    """The view's JavaScript module and stylesheet, with a version that changes with them."""
    js = (_ASSETS / "panel.js").read_text(encoding="utf-8")
    css = (_ASSETS / "panel.css").read_text(encoding="utf-8")
    version = hashlib.sha256((js + css).encode()).hexdigest()[:12]
    return {"js": js, "css": css, "version": version}


class RowsWidget(anywidget.AnyWidget):
    """An anywidget with progress rows; subclasses add their own messages in :meth:`receive`."""

    _esm = _ASSETS / "loader.js"
    #: Which view the loaded code draws: "panel" or "jobs".
    view = traitlets.Unicode("jobs").tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row_list = RowList(self._publish_rows)
        self.on_msg(self._on_msg)

    def widget_bundle(self) -> dict[str, Any]:
        """The mime bundle that shows this widget (anywidget's is a (data, metadata) pair)."""
        shown = self._repr_mimebundle_()
        return dict(shown[0]) if shown else {"text/plain": repr(self)}

    def _publish_rows(self, states: list[dict[str, Any]]) -> None:
        self.rows = states

    def follow(self, job: Job, *, code_text: str | None = None,
               on_result: Callable[[GenerationResult], None] | None = None) -> None:
        """Show ``job`` in a row of its own (newest last)."""
        self.row_list.add(job, code_text=code_text, on_result=on_result)

    @property
    def jobs(self) -> list[Job]:
        return self.row_list.jobs

    def _on_msg(self, _widget: object, content: Any, buffers: Sequence[bytes | memoryview] | None) -> None:
        if not isinstance(content, dict):
            return
        try:
            self.receive(content, [bytes(buffer) for buffer in buffers or ()])
        except Exception:  # a view's message must never raise into the kernel's comm handling
            log.exception("panel message %r failed", content.get("kind"))

    def receive(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """Handle one message from the view (what the front end sends; tests call it too)."""
        kind = content.get("kind")
        if kind == "code":
            self.send({"kind": "code", **view_code()})
        elif kind == "ping":  # the view checks that the kernel still answers
            self.send({"kind": "pong", "n": content.get("n")})
        elif kind == "cancel":
            self.row_list.cancel(content.get("job"))
        elif kind == "video":
            self.row_list.videos.send(str(content.get("token")), self._reply)

    def _reply(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self.send(content, buffers)


class JobsView(RowsWidget):
    """Progress rows for ``jobs`` (each becomes its video when done), with Cancel unless ``cancellable`` is False."""

    cancellable = traitlets.Bool(True).tag(sync=True)

    def __init__(self, jobs: Iterable[Job] = (), *, cancellable: bool = True) -> None:
        super().__init__(view="jobs", cancellable=cancellable)
        for job in jobs:
            self.follow(job)

    def __repr__(self) -> str:
        return f"<JobsView of {len(self.jobs)} jobs>"
