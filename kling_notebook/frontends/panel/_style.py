"""The panel's stylesheet: what ipywidgets' Layout cannot say (flex gaps, compact rows).

ipywidgets 8 Layout has no ``gap``; a single ``<style>`` block, scoped to ``.kling-panel``, adds
spacing classes that the views put on their boxes with :func:`spaced`.
"""

from __future__ import annotations

from typing import TypeVar

import ipywidgets as widgets

__all__ = ["spaced", "stylesheet", "PANEL_CLASS"]

PANEL_CLASS = "kling-panel"
_GAPS = (4, 8, 12, 20)
_CSS = "\n".join(
    [f".{PANEL_CLASS} .kling-gap-{px} {{ gap: {px}px; }}" for px in _GAPS]
    + [
        f".{PANEL_CLASS} .widget-html-content {{ line-height: 1.35; }}",
        f".{PANEL_CLASS} .kling-row {{ border: 1px solid rgba(127,127,127,.3); border-radius: 6px; }}",
        f".{PANEL_CLASS} .kling-section {{ border-top: 1px solid rgba(127,127,127,.2); padding-top: 6px; }}",
    ]
)

BoxT = TypeVar("BoxT", bound=widgets.Box)


def spaced(box: BoxT, px: int) -> BoxT:
    """Put ``px`` pixels between the box's children (one of 4, 8, 12, 20)."""
    if px not in _GAPS:
        raise ValueError(f"gap must be one of {_GAPS}")
    box.add_class(f"kling-gap-{px}")
    return box


def stylesheet() -> widgets.HTML:
    """An invisible widget carrying the panel's CSS."""
    return widgets.HTML(f"<style>{_CSS}</style>", layout=widgets.Layout(display="none"))
