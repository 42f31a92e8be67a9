"""A key entered in the panel is checked at once with one free status read, off the kernel."""

from __future__ import annotations

import functools
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest

from kling_notebook import AsyncKlingClient, RetryPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel import _panel as panel_module
from kling_notebook.frontends.panel._keycheck import check_key
from kling_notebook.runtime.engine import run_blocking

from .conftest import wait_for

WRONG_KEY = "sk-wrong-DO-NOT-SHOW-0123456789abcdef"


def _status_after_check(panel: KlingPanel) -> str:
    wait_for(lambda: "checking the key" not in panel.key["status_html"], what="the key check to end")
    return str(panel.key["status_html"])


def enter_key(panel: KlingPanel, key: str) -> None:
    """What the view sends when a key is typed and Enter pressed."""
    panel.receive({"kind": "key", "key": key}, [])


def _panel_aimed_at(
    base_url: str, client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch, seconds: float | None = None
) -> KlingPanel:
    """A panel whose entered keys go to ``base_url``, checked within ``seconds`` (else the default)."""
    monkeypatch.setenv("AIMLAPI_BASE_URL", base_url)
    if seconds is not None:
        monkeypatch.setattr(panel_module, "check_key", functools.partial(check_key, seconds=seconds))
    return KlingPanel(client)


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_the_right_key_is_accepted_by_the_gateway(
    demo_client: AsyncKlingClient, fast_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel_aimed_at(fast_emulator.base_url, demo_client, monkeypatch)
    enter_key(panel, fast_emulator.api_key)
    status = _status_after_check(panel)
    assert "Key accepted (checked with the gateway)" in status
    assert fast_emulator.api_key not in status and not panel.client.demo


def test_a_wrong_key_is_refused_in_plain_words_and_never_shown(
    demo_client: AsyncKlingClient, fast_emulator: Emulator, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    panel = _panel_aimed_at(fast_emulator.base_url, demo_client, monkeypatch)
    enter_key(panel, WRONG_KEY)
    status = _status_after_check(panel)
    assert "refused this key" in status and "AI/ML API dashboard" in status and "Generate would fail" in status
    assert not panel.client.demo and panel.ready["can_generate"]  # still usable
    state = json.dumps(widgets.Widget.get_manager_state(drop_defaults=False))
    assert WRONG_KEY not in state and WRONG_KEY not in caplog.text


@pytest.fixture
def closed_port() -> str:
    """A loopback base URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_an_unreachable_gateway_leaves_the_key_unchecked(
    demo_client: AsyncKlingClient, closed_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel_aimed_at(closed_port, demo_client, monkeypatch, 1.0)
    enter_key(panel, WRONG_KEY)
    status = _status_after_check(panel)
    assert "Key not checked: the gateway could not be reached (" in status
    assert closed_port in status and WRONG_KEY not in status


def test_a_refused_connection_is_named_when_the_retries_end_first(closed_port: str, tmp_path: Path) -> None:
    client = AsyncKlingClient(WRONG_KEY, closed_port, out_dir=tmp_path, retry=RetryPolicy(max_attempts=1))
    verdict = run_blocking(check_key(client))
    run_blocking(client.aclose())
    assert verdict.text == f"Key not checked: the gateway could not be reached (ConnectError at {closed_port})."
    assert verdict.tone == "warn"


def test_the_check_runs_off_the_callback_and_is_bounded(
    demo_client: AsyncKlingClient, silent_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel_aimed_at(silent_port, demo_client, monkeypatch, 0.5)
    started = time.monotonic()
    enter_key(panel, WRONG_KEY)
    assert time.monotonic() - started < 0.4  # the widget callback did not wait for the gateway
    assert "checking the key" in panel.key["status_html"]
    status = _status_after_check(panel)
    assert "could not be reached (no answer within 0.5 s" in status


def test_a_check_that_ends_after_leaving_the_key_changes_nothing(
    demo_client: AsyncKlingClient, silent_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel_aimed_at(silent_port, demo_client, monkeypatch, 0.3)
    check = panel.use_key(WRONG_KEY)
    assert check is not None
    panel.receive({"kind": "demo_mode"}, [])
    after_panel = threading.Event()
    check.add_done_callback(lambda _check: after_panel.set())  # runs after the panel's own
    assert after_panel.wait(10) and "could not be reached" in check.result().text
    assert "demo mode" in panel.key["status_html"] and "Key not checked" not in panel.key["status_html"]
