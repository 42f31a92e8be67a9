"""The key reaches the kernel in one message and is handed to a client: never a trait, never in
widget state, never echoed back to the view."""

from __future__ import annotations

import json

import ipywidgets as widgets
import pytest

from kling_notebook import AsyncKlingClient
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel._panel import EPHEMERAL_ENV_VAR

from .conftest import NO_GATEWAY, Front

SECRET = "sk-test-DO-NOT-STORE-0123456789abcdef"


def test_key_is_absent_from_widget_state_and_replies(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    assert "demo mode: simulated videos" in front.panel.header["mode"]
    front.send("key", key=SECRET)
    assert not front.panel.client.demo
    assert SECRET not in json.dumps(front.panel.get_state(), default=str)
    assert SECRET not in json.dumps(widgets.Widget.get_manager_state(drop_defaults=False), default=str)
    assert all(SECRET not in json.dumps(content) for content, _ in front.replies)
    assert SECRET not in repr(front.panel.client) and SECRET not in repr(front.panel)
    assert f"live: {NO_GATEWAY}" in front.panel.header["mode"]
    assert "generations use credits" in front.panel.header["mode"]
    assert front.panel.key["live"] and "kept in memory only" in front.panel.key["status_html"]
    front.send("demo_mode")
    assert front.panel.client.demo and "demo mode" in front.panel.header["mode"]
    assert not front.panel.key["live"]


def test_an_empty_key_changes_nothing(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("key", key="   ")
    assert front.panel.client is demo_client


def test_a_key_entered_in_a_temporary_session_comes_with_a_warning(
    demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("key", key=SECRET)
    assert "temporary session" not in front.panel.key["status_html"]
    monkeypatch.setenv(EPHEMERAL_ENV_VAR, "1")
    front.send("key", key=SECRET)
    status = front.panel.key["status_html"]
    assert "temporary session" in status and "kling-notebook wait ID" in status and SECRET not in status
    front.send("demo_mode")
    assert "temporary session" not in front.panel.key["status_html"]  # demo mode costs nothing to lose
