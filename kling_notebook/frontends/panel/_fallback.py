"""What a panel's output shows without its live view: after a kernel restart, in a reopened
notebook, in a static export (nbconvert HTML), on GitHub.

JupyterLab and Notebook 7 always pick the widget view from a bundle that has one (its renderer
ranks first) and show "Error displaying widget: model not found" once the model is gone, so a
``text/html`` beside it in the same bundle is never seen there. The fallback is therefore an
output of its own, displayed right after the widget: plain HTML with inline styles (no stylesheet
is loaded without the view) naming the panel, the last results with their file paths and what to
do ("run this cell"). The live view hides it (a style rule for its own model id), so it only
shows where the view cannot run. Relative links in it are rewritten by the front end like any
output's, so a saved video still plays from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ..display import relative_url, video_html
from ._html import esc

if TYPE_CHECKING:
    from ...domain.generation import GenerationResult

__all__ = ["fallback_html", "FALLBACK_CLASS", "SHOWN_RESULTS"]

FALLBACK_CLASS = "kling-fallback"
#: How many of the latest results the fallback lists (the newest also with its player).
SHOWN_RESULTS = 5


def fallback_html(model_id: str, mode_label: str, results: Sequence[GenerationResult] = ()) -> str:
    """The static stand-in for the panel of widget ``model_id`` (every text escaped)."""
    latest = list(results)[-SHOWN_RESULTS:][::-1]
    parts = [
        f'<div class="{FALLBACK_CLASS}" data-kling-model="{esc(model_id)}" '
        'style="border:1px solid rgba(127,127,127,.5);border-radius:6px;padding:8px 12px;max-width:760px">',
        '<div style="font-weight:700">Kling image-to-video panel</div>',
        f"<div>{esc(mode_label)}</div>",
        "<p style=\"margin:6px 0\">This is a saved copy of the panel's output. The interactive "
        "panel needs a running kernel: <b>run this cell to use the panel</b>.</p>",
    ]
    if latest:
        items = "".join(
            f"<li><code>{esc(unquote(relative_url(result.path)))}</code>"
            + (f" \u00b7 {esc(result.request.prompt)}" if result.request and result.request.prompt else "")
            + "</li>"
            for result in latest
        )
        parts.append(f'<div>Latest videos made with this panel:</div><ul style="margin:4px 0">{items}</ul>')
        parts.append(f'<div style="max-width:480px">{video_html(latest[0], "file")}</div>')
    else:
        parts.append("<div>No video was made with this panel yet.</div>")
    parts.append("</div>")
    return "".join(parts)
