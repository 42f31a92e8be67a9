"""One page of the panel's History, as a message for the view (never widget state).

A page is built only when the view asks for it (the section opened, a page turned), from one
``LIMIT/OFFSET`` query, and goes to the browser as a custom message with the first-frame
thumbnails as binary buffers: the saved notebook keeps none of it. Videos are played through the
panel's :class:`~._video.VideoShelf` tokens, like a finished row's.
"""

from __future__ import annotations

from typing import Any

from ...domain.cost import credits_text
from ...store.history import HistoryItem, load_history
from ...store.journal import NOT_SUBMITTED, Journal
from ...store.thumbnails import thumbnail
from ._video import VideoShelf

__all__ = ["history_page", "generations_text", "PAGE_SIZE"]

PAGE_SIZE = 12


def generations_text(count: int) -> str:
    """``"1 generation"``, ``"3 generations"``."""
    return f"{count} generation" + ("" if count == 1 else "s")


def _facts(item: HistoryItem, simulated: bool) -> str:
    facts = [item.status, f"{item.duration} s" if item.duration else "? s"]
    if item.credits is not None:
        facts.append(f"credits {credits_text(item.credits, simulated=simulated)}")
    elif item.estimate_usd is not None:
        facts.append(f"~${item.estimate_usd:.2f} (estimate{', simulated: nothing charged' if simulated else ''})")
    return " \u00b7 ".join(facts)


def history_page(
    journal: Journal | None, page: int, videos: VideoShelf, *, simulated: bool, page_size: int = PAGE_SIZE
) -> tuple[dict[str, Any], list[bytes], dict[int, HistoryItem]]:
    """(message, thumbnail buffers, the items by journal row) for page ``page`` (0 = newest).
    Texts are plain (the view escapes them); ``thumb`` is an index into the buffers or None."""
    if journal is None:
        message = {"kind": "history", "page": 0, "pages": 1, "total": 0, "items": [],
                   "header": "No generations recorded yet in this output folder."}
        return message, [], {}
    total = journal.count(exclude=(NOT_SUBMITTED,))
    pages = max(1, -(-total // page_size))
    page = min(max(int(page), 0), pages - 1)
    items = load_history(journal, page_size, page * page_size)
    buffers: list[bytes] = []
    shown = []
    for item in items:
        picture = thumbnail(item.video) if item.video is not None else None
        if picture:
            buffers.append(picture)
        shown.append({
            "row": item.entry.row,
            "prompt": item.prompt,
            "facts": _facts(item, simulated),
            "created": item.entry.created_at[:19].replace("T", " ") + " UTC",
            "generation_id": item.generation_id or "",
            "video": videos.add(item.video) if item.video is not None else None,
            "name": item.video.name if item.video is not None else "",
            "thumb": len(buffers) - 1 if picture else None,
            "rerun": item.request is not None,
            "rerun_note": "" if item.rerunnable else "the image must be chosen again",
        })
    message = {
        "kind": "history", "page": page, "pages": pages, "total": total, "items": shown,
        "header": f"{generations_text(total)} \u00b7 page {page + 1} of {pages}",
    }
    return message, buffers, {item.entry.row: item for item in items}
