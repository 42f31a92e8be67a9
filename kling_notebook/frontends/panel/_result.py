"""A finished video inside the panel: the player and details, plus "copy as code".

The player is an Output widget holding the result's own rich display, not an HTML widget: front
ends pass Output contents through their renderers, which rewrite the relative ``src`` of
``display_mode="file"`` to the server's file route (an HTML widget's innerHTML is never rewritten).
:func:`rich_output` is that one way of showing a saved file, for every view that links or plays one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..display import result_mimebundle
from ._html import esc

if TYPE_CHECKING:
    from ...domain.generation import GenerationResult
    from ...domain.request import GenerationRequest
    from ._image import ImageSource

__all__ = ["ResultView", "code_for", "rich_output"]


def code_for(request: GenerationRequest, image: ImageSource, demo: bool) -> str:
    """The Python call that makes the same request without the panel."""
    fields: list[tuple[str, Any]] = [
        ("prompt", request.prompt),
        ("negative_prompt", request.negative_prompt),
        ("duration", request.duration),
        ("cfg_scale", request.cfg_scale),
        ("camera_control", request.camera_control.to_json() if request.camera_control else None),
        ("provider", request.provider),
    ]
    lines = ["from kling_notebook import KlingClient"]
    if image.code == "DEMO_IMAGE":
        lines.append("from kling_notebook.frontends.panel import DEMO_IMAGE")
    if demo:
        lines += [
            "from kling_notebook.runtime.connect import connect",
            "",
            "client = KlingClient(client=connect(demo=True))  # demo mode: no key, no credits",
        ]
    else:
        lines += ["", "client = KlingClient()  # reads the key from AIMLAPI_KEY"]
    comment = f"  # {image.comment}" if image.comment else ""
    args = [f"    image={image.code},{comment}"]
    args += [f"    {name}={value!r}," for name, value in fields if value is not None]
    lines += ["result = client.generate(", *args, ")", "result"]
    return "\n".join(lines)


def rich_output(bundle: Mapping[str, str], layout: widgets.Layout | None = None) -> widgets.Output:
    """An Output widget showing ``bundle`` (mime type -> text) the way a cell output shows it,
    so the front end rewrites relative file paths in it (an HTML widget's content never is).

    The outputs are set directly (thread-safe, no IPython shell needed) instead of ``with output:``.
    """
    shown = widgets.Output(layout=layout or widgets.Layout())
    shown.outputs = ({"output_type": "display_data", "data": dict(bundle), "metadata": {}},)
    return shown


class ResultView(widgets.VBox):
    """The video (controls, no autoplay), its details, and the equivalent Python call."""

    def __init__(self, result: GenerationResult, code_text: str | None = None) -> None:
        self.result = result
        self.player = rich_output(result_mimebundle(result), widgets.Layout(width="100%"))
        children: list[widgets.Widget] = [self.player]
        if code_text:
            block = widgets.HTML(
                '<pre style="user-select:all;-webkit-user-select:all;margin:0;white-space:pre-wrap;'
                f'font-size:85%">{esc(code_text)}</pre>'
            )
            code_box = widgets.Accordion(children=[block], selected_index=None, layout=widgets.Layout(width="100%"))
            code_box.set_title(0, "Copy as code (click the code to select it all)")
            children.append(code_box)
        super().__init__(children, layout=widgets.Layout(width="100%", margin="6px 0 0 0"))

    @property
    def html(self) -> str:
        """The HTML the player shows (for tests and for embedding elsewhere)."""
        return str(self.player.outputs[0]["data"]["text/html"])
