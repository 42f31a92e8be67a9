"""The Generate button with what it will cost and, while it is disabled, why.

A click holds the button until that submit has returned or failed (:meth:`GenerateBar.hold`), so a
double-click cannot send two paid requests; a click on a held button is dropped, even one already
on its way from the browser. The identical request again soon after is asked about first
(:meth:`GenerateBar.ask_again`) rather than sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ...domain.cost import PriceTable, cost_notice
from ._html import note
from ._style import spaced

__all__ = ["GenerateBar"]


class GenerateBar(widgets.VBox):
    """Estimated cost, the button, the reason the input is not ready yet, and the repeat question.

    ``on_generate(again)`` is called for a click that is not dropped; ``again`` is True when the
    user confirmed a repeat of the last request."""

    def __init__(self, on_generate: Callable[[bool], Any]) -> None:
        self._on_generate = on_generate
        self._lock = threading.Lock()
        self._held = False
        self._reason = ""
        self.button = widgets.Button(
            description="Generate", button_style="primary", icon="film", layout=widgets.Layout(width="140px")
        )
        self.cost = widgets.HTML().add_class("kling-cost")
        self.reason = widgets.HTML()
        self.question = widgets.HTML()
        self.again_button = widgets.Button(description="Yes, send it again", button_style="warning", layout=widgets.Layout(width="auto"))
        self.keep_button = widgets.Button(description="No, keep the one sent", layout=widgets.Layout(width="auto"))
        self.again = spaced(widgets.HBox(
            [self.question, self.again_button, self.keep_button],
            layout=widgets.Layout(align_items="center", display="none", flex_flow="row wrap"),
        ), 8)
        self.button.on_click(lambda _button: self._click(False))
        self.again_button.on_click(lambda _button: self._click(True))
        self.keep_button.on_click(lambda _button: self._close_question())
        super().__init__(
            [
                spaced(widgets.HBox(
                    [self.button, widgets.VBox([self.cost, self.reason], layout=widgets.Layout(flex="1 1 auto"))],
                    layout=widgets.Layout(align_items="center", width="100%"),
                ), 12),
                self.again,
            ],
            layout=widgets.Layout(width="100%", margin="6px 0"),
        )

    def _click(self, again: bool) -> None:
        self._close_question()
        if self.hold():
            self._on_generate(again)

    def _close_question(self) -> None:
        self.again.layout.display = "none"

    def hold(self) -> bool:
        """Disable the button for one submit; False when one is already out (drop the click)."""
        with self._lock:
            if self._held:
                return False
            self._held = True
        self.button.disabled = True
        return True

    def release(self) -> None:
        """The held submit has returned (or failed, or nothing was sent): allow the next click."""
        with self._lock:
            self._held = False
            self.button.disabled = bool(self._reason)

    def ask_again(self, seconds_ago: float) -> None:
        """Show the repeat question instead of sending (the click that led here sent nothing)."""
        self.question.value = note(
            f"You sent this exact request (same image, prompt and settings) {seconds_ago:.0f} s ago. "
            "Generate it again? It is charged again.",
            "warn",
        )
        self.again.layout.display = ""

    def show(self, reason: str, duration: int, demo: bool, prices: PriceTable) -> None:
        """``reason`` is empty when the input is valid."""
        notice = cost_notice(prices.estimate(duration), demo=demo, charged_when="when you click Generate")
        self.cost.value = note(notice, "muted" if demo else "warn")
        with self._lock:
            self._reason = reason
            self.button.disabled = bool(reason) or self._held
        self.button.tooltip = f"Not ready: {reason}" if reason else "Start a generation (runs in the background)"
        self.reason.value = note(f"Generate is disabled: {reason}", "bad") if reason else ""
