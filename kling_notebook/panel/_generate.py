"""The Generate button with what it will cost and, while it is disabled, why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..cost import PriceTable
from ._html import note
from ._style import spaced

__all__ = ["GenerateBar"]


class GenerateBar(widgets.HBox):
    """Estimated cost, the button, and the reason the input is not ready yet."""

    def __init__(self, on_generate: Callable[[], Any]) -> None:
        self.button = widgets.Button(
            description="Generate", button_style="primary", icon="film", layout=widgets.Layout(width="140px")
        )
        self.cost = widgets.HTML().add_class("kling-cost")
        self.reason = widgets.HTML()
        self.button.on_click(lambda _button: on_generate())
        super().__init__(
            [self.button, widgets.VBox([self.cost, self.reason], layout=widgets.Layout(flex="1 1 auto"))],
            layout=widgets.Layout(align_items="center", width="100%", margin="6px 0"),
        )
        spaced(self, 12)

    def show(self, reason: str, duration: int, demo: bool, prices: PriceTable) -> None:
        """``reason`` is empty when the input is valid."""
        estimate = prices.estimate(duration)
        if demo:
            self.cost.value = note(
                f"Estimated cost: nothing in demo mode (with a key, {estimate})."
            )
        else:
            self.cost.value = note(f"Estimated cost: {estimate}. Charged when you click Generate.", "warn")
        self.button.disabled = bool(reason)
        self.button.tooltip = f"Not ready: {reason}" if reason else "Start a generation (runs in the background)"
        self.reason.value = note(f"Generate is disabled: {reason}", "bad") if reason else ""
