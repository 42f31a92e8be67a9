"""The key is read out of the Password field and the field cleared at once: never in widget state."""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as widgets
import pytest

from kling_notebook import AsyncKlingClient
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel._key import EPHEMERAL_ENV_VAR

SECRET = "sk-test-DO-NOT-STORE-0123456789abcdef"


def test_key_is_cleared_and_absent_from_saved_widget_state(
    demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = KlingPanel(demo_client)
    assert "demo mode: simulated videos" in panel.header.value
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(panel.key.password, "_send", lambda msg, buffers=None: sent.append(msg))
    panel.key.password.set_state({"value": SECRET})  # what the browser sends on Enter
    assert panel.key.password.value == ""
    assert sent and all(SECRET not in json.dumps(msg) for msg in sent)  # not even echoed back
    assert {"method": "update", "state": {"value": ""}, "buffer_paths": []} in sent
    state = json.dumps(widgets.Widget.get_manager_state(drop_defaults=False))
    assert SECRET not in state
    assert SECRET not in repr(panel.client) and SECRET not in repr(panel)
    assert not panel.client.demo
    assert "live: https://api.aimlapi.com" in panel.header.value and "generations use credits" in panel.header.value
    assert "Charged when you click Generate" in panel.bar.cost.value
    panel.key.demo_button.click()
    assert panel.client.demo and "demo mode" in panel.header.value


def test_a_key_entered_in_a_temporary_session_comes_with_a_warning(
    demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = KlingPanel(demo_client)
    panel.key.password.set_state({"value": SECRET})
    assert "temporary session" not in panel.key.status.value
    monkeypatch.setenv(EPHEMERAL_ENV_VAR, "1")
    panel.key.password.set_state({"value": SECRET})
    assert not panel.client.demo
    status = panel.key.status.value
    assert "temporary session" in status and "kling-notebook wait ID" in status
    assert SECRET not in status
    panel.key.demo_button.click()
    assert "temporary session" not in panel.key.status.value  # demo mode costs nothing to lose
