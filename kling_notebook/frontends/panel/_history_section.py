"""The panel's History section: collapsed, with the gallery built only when first opened.

A page of cards costs a journal query and a thread decoding thumbnails; a panel opened only to
generate should not pay for that when it is created. Opening the section again (or Refresh)
shows the current page anew, with the generations made since.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ...domain.request import GenerationRequest
from ...store.journal import Journal
from ._history import HistoryGallery, RerunHandler
from ._html import note

__all__ = ["HistorySection"]

_NO_JOURNAL = (
    "No generations recorded yet: nothing was generated in this output folder "
    "(or the client keeps no journal)."
)


class HistorySection(widgets.Accordion):
    """``journal()`` is the journal to show (None while there is none); ``on_rerun`` gets the
    request of a card whose Re-run button was clicked."""

    def __init__(self, journal: Callable[[], Journal | None], on_rerun: RerunHandler) -> None:
        self._journal = journal
        self._on_rerun = on_rerun
        self.gallery: HistoryGallery | None = None
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", layout=widgets.Layout(width="auto"))
        self.refresh_button.on_click(lambda _button: self.show())
        self.notice = widgets.HTML()
        self._bar = widgets.HBox([self.refresh_button, self.notice], layout=widgets.Layout(align_items="center"))
        self.body = widgets.VBox(layout=widgets.Layout(width="100%"))
        super().__init__(children=[self.body], selected_index=None, layout=widgets.Layout(width="100%"))
        self.set_title(0, "History")
        self.add_class("kling-history")
        self.observe(self._opened, "selected_index")

    def _opened(self, change: dict[str, Any]) -> None:
        if change["new"] == 0:
            self.show()

    def show(self) -> None:
        """Build the gallery (the first time, or for another client's journal) or show its
        current page again."""
        journal = self._journal()
        self.notice.value = ""
        if journal is None:
            self.gallery = None
            self.notice.value = note(_NO_JOURNAL)
        elif self.gallery is None or self.gallery.journal is not journal:
            self.gallery = HistoryGallery(journal, on_rerun=self._rerun)
        else:
            self.gallery.show_page(self.gallery.page)
        self.body.children = (self._bar,) if self.gallery is None else (self._bar, self.gallery)

    def _rerun(self, request: GenerationRequest) -> None:
        self._on_rerun(request)
        self.notice.value = note("Loaded into the panel above: edit it, then click Generate.", "info")
