"""The panel's title and the one line that says where generations go and whether they cost."""

from __future__ import annotations

import ipywidgets as widgets

from ._html import esc

__all__ = ["Header"]

_BADGE = {
    True: ("#fef3c7", "#92400e"),  # demo: amber, so it is never mistaken for the real thing
    False: ("#dcfce7", "#166534"),
}


class Header(widgets.HTML):
    """Title plus a badge: demo (simulated, free) or live (real, paid)."""

    def __init__(self) -> None:
        super().__init__()
        self.add_class("kling-header")

    def show(self, mode_label: str, demo: bool) -> None:
        background, color = _BADGE[demo]
        self.value = (
            '<div style="display:flex;align-items:baseline;gap:10px;flex-wrap:wrap">'
            '<span style="font-size:1.25em;font-weight:700">Kling v2.1 master \u00b7 image to video</span>'
            f'<span style="background:{background};color:{color};border-radius:10px;padding:1px 10px;'
            f'font-weight:600">{esc(mode_label)}</span></div>'
        )
