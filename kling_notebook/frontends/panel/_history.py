"""The journal as a gallery: thumbnails, prompt, status, duration, credits; play, open the file,
copy the id, re-run with edits.

It stays light with hundreds of entries: one page (24 cards) is built at a time from one
``LIMIT/OFFSET`` query, and thumbnails are decoded on a background thread after the page is
shown (cached beside each video, so a second visit decodes nothing). Links and players go
through Output widgets (:func:`~._result.rich_output`, the panel's own player), whose contents the
front end renders like cell outputs, so JupyterLab rewrites a relative file path to its file route;
video HTML inside an HTML widget would 404 there. Thumbnails are inline ``data:`` images.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ...domain.generation import Generation, GenerationResult
from ...domain.request import GenerationRequest
from ...store.history import HistoryItem, load_history
from ...store.journal import NOT_SUBMITTED, Journal
from ...store.thumbnails import thumbnail
from ..display import relative_url
from ._html import code, esc, note
from ._result import ResultView, rich_output

__all__ = ["HistoryGallery", "RerunHandler"]

RerunHandler = Callable[[GenerationRequest], None]

PAGE_SIZE = 24
_THUMB_WIDTH = "160px"


def _placeholder(text: str) -> str:
    return (
        f'<div style="width:{_THUMB_WIDTH};height:100px;background:#e5e7eb;display:flex;'
        f'align-items:center;justify-content:center">{note(text)}</div>'
    )


def _details(item: HistoryItem) -> str:
    """The card's text, every user-provided string escaped."""
    facts = [item.status, f"{item.duration} s" if item.duration else "? s"]
    if item.credits is not None:
        facts.append(f"{item.credits:g} credits")
    elif item.estimate_usd is not None:
        facts.append(f"~${item.estimate_usd:.2f} (estimate)")
    prompt = esc(item.prompt) if item.prompt else "<i>(no prompt)</i>"
    parts = [
        f'<div style="max-height:4.5em;overflow:hidden" title="{esc(item.prompt)}">{prompt}</div>',
        f"<div>{note(' · '.join(facts))}</div>",
        f"<div>{note(item.entry.created_at[:19].replace('T', ' ') + ' UTC')}</div>",
    ]
    if item.generation_id:
        parts.append(f'<div style="font-size:75%">{code(item.generation_id)}</div>')
    return "".join(parts)


class _Look:
    """Layouts and styles shared by every card: each is a widget of its own, and sharing them
    makes a page of cards several times quicker to build."""

    def __init__(self) -> None:
        self.card = widgets.Layout(width="180px", padding="4px", border="1px solid #e5e7eb")
        self.plain = widgets.Layout()
        self.button = widgets.Layout(width="auto")
        self.button_style = widgets.ButtonStyle()
        self.html_style = HTMLStyle()


class _Card(widgets.VBox):
    """One journal entry: thumbnail and details, a link to the file, Play and Re-run."""

    def __init__(self, item: HistoryItem, gallery: HistoryGallery, look: _Look) -> None:
        self.item = item
        self._details = _details(item)
        self.body = widgets.HTML(layout=look.plain, style=look.html_style)
        self._show(_placeholder("loading\u2026" if item.video else "no video yet"))
        if item.video is None:
            self.link = widgets.Output(layout=look.plain)
        else:
            href = esc(relative_url(item.video))
            link = f'<a href="{href}" target="_blank">Open file</a>'
            self.link = rich_output({"text/html": link, "text/plain": str(item.video)}, look.plain)
        self.play = widgets.Button(
            description="Play",
            disabled=item.video is None,
            layout=look.button,
            style=look.button_style,
        )
        self.play.on_click(lambda _: gallery.play(item))
        can_rerun, why = gallery.can_rerun(item)
        self.rerun = widgets.Button(
            description="Re-run",
            disabled=not can_rerun,
            tooltip=why,
            layout=look.button,
            style=look.button_style,
        )
        self.rerun.on_click(lambda _: gallery.rerun(item))
        buttons = widgets.HBox([self.play, self.rerun], layout=look.plain)
        super().__init__([self.body, self.link, buttons], layout=look.card)

    def _show(self, picture: str) -> None:
        self.body.value = picture + self._details

    def show_thumbnail(self, jpeg: bytes | None) -> None:
        if jpeg is None:
            self._show(_placeholder("no preview"))
        else:
            data = base64.b64encode(jpeg).decode("ascii")
            self._show(
                f'<img src="data:image/jpeg;base64,{data}" alt="first frame" '
                f'style="width:{_THUMB_WIDTH};display:block">'
            )


class HistoryGallery(widgets.VBox):
    """Past generations from a journal (or an output folder), newest first, a page at a time.

    ``on_rerun`` receives the request rebuilt from the journal, for the caller (the panel's
    :meth:`~kling_notebook.frontends.panel.KlingPanel.load_request`) to edit and submit; without one, the
    request is kept in :attr:`rerun_request`.
    """

    def __init__(
        self,
        source: Journal | str | os.PathLike[str] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        on_rerun: RerunHandler | None = None,
    ) -> None:
        self.journal = source if isinstance(source, Journal) else Journal.in_dir(source)
        self.page_size = page_size
        self.on_rerun = on_rerun
        self.rerun_request: GenerationRequest | None = None
        self.page = 0
        self.cards: list[_Card] = []
        self._loader: threading.Thread | None = None
        self._shown = 0  # which show_page call the loader works for
        self._look = _Look()
        self.header = widgets.HTML()
        self.previous = widgets.Button(
            description="\u2190 Newer", layout=widgets.Layout(width="auto")
        )
        self.next = widgets.Button(description="Older \u2192", layout=widgets.Layout(width="auto"))
        self.previous.on_click(lambda _: self.show_page(self.page - 1))
        self.next.on_click(lambda _: self.show_page(self.page + 1))
        self.grid = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns="repeat(auto-fill, 190px)", grid_gap="8px")
        )
        self.player = widgets.VBox()
        super().__init__(
            [widgets.HBox([self.previous, self.header, self.next]), self.player, self.grid]
        )
        self.show_page(0)

    def show_page(self, page: int) -> None:
        """Build the cards of ``page`` (0 = newest) and start loading their thumbnails."""
        total = self.journal.count(exclude=(NOT_SUBMITTED,))
        pages = max(1, -(-total // self.page_size))
        self.page = min(max(page, 0), pages - 1)
        items = load_history(self.journal, self.page_size, self.page * self.page_size)
        self.cards = [_Card(item, self, self._look) for item in items]
        self.grid.children = self.cards
        self.header.value = f"&nbsp;{total} generations · page {self.page + 1} of {pages}&nbsp;"
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
        self._shown += 1
        self._loader = threading.Thread(
            target=self._load_thumbnails,
            args=(self.cards, self._shown),
            name="kling-thumbnails",
            daemon=True,
        )
        self._loader.start()

    def _load_thumbnails(self, cards: list[_Card], shown: int) -> None:
        for card in cards:
            if shown != self._shown:
                return  # the user moved to another page
            if card.item.video is not None:
                card.show_thumbnail(thumbnail(card.item.video))

    def wait_thumbnails(self, timeout: float | None = None) -> None:
        """Block until the current page's thumbnails are loaded (for scripts and tests)."""
        if self._loader is not None:
            self._loader.join(timeout)

    def can_rerun(self, item: HistoryItem) -> tuple[bool, str]:
        """Whether ``item``'s Re-run button works, and its tooltip. A handler (the panel) can
        take a request whose image was not kept (bytes, a moved file) and ask for the image again;
        without one, only a request that can be sent as it is makes sense."""
        if item.rerunnable:
            return True, "edit and generate again"
        if self.on_rerun is not None and item.request is not None:
            return True, "edit and generate again (the image must be chosen again)"
        return False, "the input image is not a file or URL"

    def play(self, item: HistoryItem) -> None:
        """Show ``item``'s video (with its details and a download link) above the grid, in the
        panel's own player (an Output widget), so the front end rewrites the file's path."""
        if item.video is None or item.generation_id is None:
            return
        generation = Generation(
            id=item.generation_id,
            status=item.entry.status,
            video_url=item.entry.video_url,
            credits_used=item.credits,
        )
        result = GenerationResult(path=item.video, generation=generation, request=item.request)
        self.player.children = (ResultView(result),)

    def rerun(self, item: HistoryItem) -> None:
        """Hand the request rebuilt from the journal to ``on_rerun`` (or keep it)."""
        request = item.request
        if request is None:
            return
        self.rerun_request = request
        if self.on_rerun is not None:
            self.on_rerun(request)
