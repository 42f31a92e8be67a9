"""What an anywidget view shows, read from the widget's JSON state: fields named ``*_html`` are
markup (set as innerHTML by the view, so they must be escaped already); every other string is
set as text, which the browser escapes itself (yielded here escaped, as the page would hold it)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

#: Traits that are the view's code or bookkeeping, not something it shows.
NOT_SHOWN = {"_esm", "_css", "_anywidget_id", "fallback_id", "layout", "view"}


def shown_html(value: Any, name: str = "") -> Iterator[str]:
    """Every piece of HTML the state ``value`` puts on the page."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_SHOWN and not str(key).startswith("_"):
                yield from shown_html(item, str(key))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from shown_html(item, name)
    elif isinstance(value, str):
        yield value if name.endswith("_html") else html.escape(value)


def widget_html(widget: Any) -> list[str]:
    """Every piece of HTML an anywidget's current state shows."""
    return list(shown_html(widget.get_state()))
