"""The API key field: the key is read out and the field cleared at once.

A ``Password`` widget keeps its value in widget state, which JupyterLab saves into the notebook,
so the value never stays there: the field syncs only on Enter (no per-keystroke copies), and the
handler empties it before doing anything else. The key lives only in the client object.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Unicode

from ._html import note
from ._keycheck import UNCHECKED, KeyVerdict
from ._style import spaced

if TYPE_CHECKING:
    from ...runtime.client import AsyncKlingClient

__all__ = ["KeyField", "EPHEMERAL_ENV_VAR"]

#: Set (by binder/start) where the whole session, files included, vanishes when it idles.
EPHEMERAL_ENV_VAR = "KLING_NOTEBOOK_EPHEMERAL"
#: What a paying user of such a session must do so that a finished video is not lost with it.
EPHEMERAL_WARNING = (
    "This is a temporary session (Binder ends it after about 10 idle minutes, and its files with "
    "it): keep this tab open until your video is saved, then download it. Copy each generation id "
    "as it appears: with it, `kling-notebook wait ID` saves the video anywhere later."
)


class _SecretInput(widgets.Password):
    """A Password whose value the kernel does not echo back to the front ends (ipywidgets 8
    echoes every received value to all of them by default)."""

    value = Unicode(help="The key, for the instant before it is taken out.").tag(sync=True, echo_update=False)


class KeyField(widgets.VBox):
    """Paste a key and press Enter; ``on_key(key)`` receives it, the widget keeps nothing."""

    def __init__(self, on_key: Callable[[str], object], on_demo: Callable[[], None]) -> None:
        self._on_key = on_key
        self.password = _SecretInput(
            placeholder="paste your AI/ML API key and press Enter",
            continuous_update=False,
            layout=widgets.Layout(width="340px"),
        )
        self.demo_button = widgets.Button(
            description="Back to demo mode", layout=widgets.Layout(width="auto", display="none")
        )
        self.status = widgets.HTML()
        self._warning = ""  # shown below the key's verdict
        self.password.observe(self._take, "value")
        self.demo_button.on_click(lambda _button: on_demo())
        super().__init__(
            [
                spaced(widgets.HBox(
                    [widgets.HTML("<b>API key</b>", layout=widgets.Layout(width="70px")), self.password, self.demo_button],
                    layout=widgets.Layout(align_items="center"),
                ), 8),
                self.status,
            ]
        )
        self.add_class("kling-key")

    def _take(self, change: dict[str, Any]) -> None:
        key = str(change["new"] or "")
        if not key:
            return
        self.password.value = ""  # first, before anything can fail
        self._on_key(key.strip())

    def show(self, client: AsyncKlingClient) -> None:
        """Say which mode the panel is in now (the key as not checked: :meth:`checked` says more)."""
        live = not client.demo
        self.demo_button.layout.display = "" if live else "none"
        if live:
            self._warning = "<br>" + note(EPHEMERAL_WARNING, "warn") if os.environ.get(EPHEMERAL_ENV_VAR) else ""
            self.checked(UNCHECKED)
        else:
            self.status.value = note("Without a key the panel runs in demo mode. A key you enter is kept in memory only, never saved.")

    def checked(self, verdict: KeyVerdict) -> None:
        """Show what the gateway said of the key (or that it is still being asked)."""
        self.status.value = (
            note(f"{verdict.text} The key is kept in memory only, never saved.", verdict.tone) + self._warning
        )
