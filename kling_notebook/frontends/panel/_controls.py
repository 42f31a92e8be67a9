"""The request controls: prompt, negative prompt, duration and the rarely useful advanced fields.

The view only collects values; whether they make a valid request is decided by
:class:`~kling_notebook.domain.request.GenerationRequest` itself, so the panel and the Python API can
never disagree about what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ...domain.polling import EXPECTED_SECONDS
from ...domain.request import (
    CAMERA_AXES,
    CAMERA_TYPES,
    DURATIONS,
    IGNORED_FIELD_NOTES,
    MAX_PROMPT_CHARS,
    PROVIDERS,
    GenerationRequest,
)
from ._html import esc, note
from ._style import spaced

__all__ = ["Controls", "CountedText", "expected_wait"]

_FULL = widgets.Layout(width="100%")
_LABEL_WIDTH = "130px"


def expected_wait(duration: int) -> str:
    """The documented time a video of ``duration`` seconds takes, in words."""
    low, high = (round(s / 60) for s in EXPECTED_SECONDS[duration])
    return f"expected wait about {low}-{high} min"


def _labelled(label: str, *items: widgets.Widget) -> widgets.HBox:
    return widgets.HBox(
        [widgets.Label(label, layout=widgets.Layout(width=_LABEL_WIDTH, flex="0 0 auto")), *items],
        layout=widgets.Layout(align_items="center"),
    )


class CountedText(widgets.VBox):
    """A text area with a live "n / limit characters" counter that turns red past the limit."""

    def __init__(self, label: str, placeholder: str, limit: int = MAX_PROMPT_CHARS, rows: int = 3) -> None:
        self.limit = limit
        self.area = widgets.Textarea(placeholder=placeholder, rows=rows, layout=_FULL)
        self.counter = widgets.HTML()
        self.area.observe(self._count, "value")
        header = widgets.HBox(
            [widgets.HTML(f"<b>{esc(label)}</b>"), self.counter],
            layout=widgets.Layout(justify_content="space-between", width="100%"),
        )
        super().__init__([header, self.area], layout=_FULL)
        self._count()

    def _count(self, _change: Any = None) -> None:
        used = len(self.area.value)
        self.counter.value = note(f"{used} / {self.limit} characters", "bad" if used > self.limit else "muted")

    @property
    def text(self) -> str | None:
        """The text, or None when empty (so nothing is sent)."""
        return self.area.value if self.area.value.strip() else None


class _Advanced(widgets.Accordion):
    """cfg_scale, camera control and provider: sent only when switched on, each with a note."""

    def __init__(self) -> None:
        self.send_cfg = widgets.Checkbox(description="send cfg_scale", indent=False, layout=widgets.Layout(width="130px"))
        self.cfg = widgets.FloatSlider(value=0.5, min=0, max=1, step=0.05, disabled=True, readout_format=".2f")
        self.camera = widgets.Dropdown(options=[("not sent", ""), *((t, t) for t in CAMERA_TYPES)], value="")
        self.axis = widgets.Dropdown(options=CAMERA_AXES, value="zoom", disabled=True, layout=widgets.Layout(width="120px"))
        self.amount = widgets.IntSlider(value=5, min=-10, max=10, disabled=True, layout=widgets.Layout(width="220px"))
        self.provider = widgets.Dropdown(
            options=[("not sent (gateway default: auto)", ""), *((p, p) for p in PROVIDERS)],
            value="",
            layout=widgets.Layout(width="260px"),
        )
        self.send_cfg.observe(self._sync_enabled, "value")
        self.camera.observe(self._sync_enabled, "value")
        body = widgets.VBox(
            [
                _labelled("cfg_scale", self.send_cfg, self.cfg),
                widgets.HTML(note(f"Documented to be ignored by v2.1 master: {IGNORED_FIELD_NOTES['cfg_scale']}.", "warn")),
                _labelled("camera control", self.camera, self.axis, self.amount),
                widgets.HTML(note(f"Documented to be ignored by v2.1 master: {IGNORED_FIELD_NOTES['camera_control']}.", "warn")),
                _labelled("provider", self.provider),
                widgets.HTML(note("Which backend runs the job: auto tries native Kling first, then the fal.ai mirror.")),
            ]
        )
        super().__init__(children=[body], selected_index=None, layout=_FULL)
        self.set_title(0, "Advanced (sent only when set)")

    def _sync_enabled(self, _change: Any = None) -> None:
        self.cfg.disabled = not self.send_cfg.value
        simple = self.camera.value == "simple"
        self.axis.disabled = self.amount.disabled = not simple

    def load(self, request: GenerationRequest) -> None:
        """Show ``request``'s advanced fields, opening the section when any is sent."""
        self.send_cfg.value = request.cfg_scale is not None
        if request.cfg_scale is not None:
            self.cfg.value = request.cfg_scale
        camera = request.camera_control
        if camera is not None and camera.type == "simple":
            # A valid "simple" camera moves along exactly one axis; the slider takes whole steps.
            ((axis, amount),) = [(a, v) for a, v in camera.config.items() if v != 0]
            self.axis.value, self.amount.value = axis, round(amount)
        self.camera.value = camera.type if camera is not None else ""
        self.provider.value = request.provider or ""
        if self.values():
            self.selected_index = 0

    def values(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        if self.send_cfg.value:
            chosen["cfg_scale"] = self.cfg.value
        if self.camera.value == "simple":
            chosen["camera_control"] = {"type": "simple", "config": {self.axis.value: self.amount.value}}
        elif self.camera.value:
            chosen["camera_control"] = {"type": self.camera.value}
        if self.provider.value:
            chosen["provider"] = self.provider.value
        return chosen


class Controls(widgets.VBox):
    """Everything about the request except the image."""

    def __init__(self) -> None:
        self.prompt = CountedText("Prompt", "Describe the motion, e.g. 'She smiles and puts on glasses.'")
        self.negative = CountedText(
            "Negative prompt", "What to avoid, e.g. 'blur, distort, and low quality'", rows=1
        )
        self.duration = widgets.ToggleButtons(
            options=[(f"{d} s", d) for d in DURATIONS], value=DURATIONS[0], style={"button_width": "64px"}
        ).add_class("kling-duration")
        self.wait = widgets.HTML()
        self.duration.observe(self._show_wait, "value")
        self.advanced = _Advanced()
        self.prompt.add_class("kling-prompt")
        super().__init__(
            [
                self.prompt,
                self.negative,
                spaced(widgets.HBox(
                    [widgets.HTML("<b>Video length</b>", layout=widgets.Layout(width="100px")), self.duration, self.wait],
                    layout=widgets.Layout(align_items="center"),
                ), 8),
                self.advanced,
            ],
            layout=widgets.Layout(width="100%"),
        )
        spaced(self, 8)
        self._show_wait()

    def _show_wait(self, _change: Any = None) -> None:
        self.wait.value = note(expected_wait(self.duration.value))

    def load(self, request: GenerationRequest) -> None:
        """Show everything of ``request`` but the image (to edit it and generate again)."""
        self.prompt.area.value = request.prompt or ""
        self.negative.area.value = request.negative_prompt or ""
        self.duration.value = request.duration
        self.advanced.load(request)

    def values(self) -> dict[str, Any]:
        """Keyword arguments for GenerationRequest (everything but the image)."""
        return {
            "prompt": self.prompt.text,
            "negative_prompt": self.negative.text,
            "duration": self.duration.value,
            **self.advanced.values(),
        }

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever any value that goes into the request changes."""
        adv = self.advanced
        watched = (
            self.prompt.area, self.negative.area, self.duration,
            adv.send_cfg, adv.cfg, adv.camera, adv.axis, adv.amount, adv.provider,
        )
        for widget in watched:
            widget.observe(lambda _change: callback(), "value")
