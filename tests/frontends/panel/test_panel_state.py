"""What a panel puts into a notebook: one widget model, a small saved state (no video, no
full-size image, never the key), and a static stand-in for where its view cannot run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ipywidgets.widgets.widget import _instances

from kling_notebook import AsyncKlingClient
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel._fallback import FALLBACK_CLASS

from .conftest import Front, wait_for

#: The saved state of a panel with results stays under this (the brief's budget for a notebook).
STATE_BUDGET = 20_000


def state_size(panel: KlingPanel) -> int:
    return len(json.dumps(panel.get_state()))


def test_a_panel_is_one_widget_model(demo_client: AsyncKlingClient) -> None:
    before = set(_instances)
    panel = KlingPanel(demo_client)
    created = [_instances[key] for key in set(_instances) - before]
    # The panel and the Layout every DOM widget carries; nothing per control.
    assert sorted(type(widget).__name__ for widget in created) == ["KlingPanel", "Layout"]
    assert panel.layout in created


def test_saved_state_stays_small_with_results(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    front = Front(KlingPanel(demo_client, prompt="small state"))
    idle = state_size(front.panel)
    front.upload("big.jpg", images["good.jpg"])
    for _ in range(2):
        job = front.panel.generate(again=True)
        assert job is not None
        job.result(timeout=60)
    wait_for(lambda: all(row["result"] for row in front.panel.rows), what="both results")
    with_results = state_size(front.panel)
    print(f"panel state: {idle} bytes idle, {with_results} bytes with 2 results")
    assert with_results < STATE_BUDGET
    text = json.dumps(front.panel.get_state())
    assert "video/mp4" not in text and len(front.panel.image["preview"]) < 12_000
    assert len(front.panel.get_state()["_esm"]) < 4_000, "the view code is sent, not saved"


def test_the_view_code_comes_in_a_message(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("code")
    ((reply, _),) = front.replies_of("code")
    assert "export function render" in reply["js"] and ".kling-panel" in reply["css"] and len(reply["version"]) == 12


def test_a_message_that_fails_is_logged_not_raised(demo_client: AsyncKlingClient, caplog: pytest.LogCaptureFixture) -> None:
    panel = KlingPanel(demo_client)
    panel._on_msg(panel, {"kind": "upload", "index": 0, "count": 1, "upload": "x"}, [object()])  # type: ignore[list-item]
    panel._on_msg(panel, "not a dict", None)
    assert "panel message 'upload' failed" in caplog.text


def test_the_fallback_names_the_panel_and_its_results(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client, prompt="saved <copy>"))
    empty = front.panel.fallback_html()
    assert f'class="{FALLBACK_CLASS}"' in empty and f'data-kling-model="{front.panel.model_id}"' in empty
    assert "run this cell to use the panel" in empty and "No video was made" in empty
    assert front.panel.fallback_id == front.panel.model_id  # the live view hides this one
    job = front.panel.generate()
    assert job is not None
    result = job.result(timeout=60)
    wait_for(lambda: front.panel.results, what="the result")
    shown = front.panel.fallback_html()
    assert result.path.name in shown and "saved &lt;copy&gt;" in shown and "<copy>" not in shown
    assert "<video controls" in shown and "base64" not in shown


def test_displaying_a_panel_adds_its_fallback_as_an_output_of_its_own(
    demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import IPython.display

    shown: list[tuple[Any, dict[str, Any]]] = []

    class Handle:
        def update(self, obj: Any) -> None:
            shown.append((obj, {"update": True}))

    def display(obj: Any, **options: Any) -> Handle:
        shown.append((obj, options))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    panel = KlingPanel(demo_client)
    panel._ipython_display_()
    (bundle, raw), (fallback, options) = shown
    assert raw == {"raw": True} and bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id
    assert FALLBACK_CLASS in fallback.data and options == {"display_id": True}
    job = panel.generate()
    assert job is not None
    job.result(timeout=60)
    wait_for(lambda: len(shown) == 3, what="the fallback to be redrawn with the result")
    assert panel.results[0].path.name in shown[2][0].data


def test_the_kernel_answers_the_views_sign_of_life_check(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("ping", n=7)
    assert front.replies_of("pong") == [({"kind": "pong", "n": 7}, [])]
