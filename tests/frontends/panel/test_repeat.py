"""Generate cannot pay twice by accident: a click while a submit is out is dropped, and the same
request again within a minute asks first."""

from __future__ import annotations

from kling_notebook import AsyncKlingClient
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel._repeat import RepeatGuard

from .conftest import wait_for


def created(emulator: Emulator) -> int:
    return len(emulator.stats()["created"])


def test_double_click_submits_once(demo_client: AsyncKlingClient, fast_emulator: Emulator) -> None:
    panel = KlingPanel(demo_client, prompt="double")
    before = created(fast_emulator)
    panel.bar.button.click()
    assert panel.bar.button.disabled, "held from the click until the submit returns"
    panel.bar.button.click()  # the second click of a double-click, already on its way
    assert len(panel.jobs) == 1
    job = panel.jobs[0]
    wait_for(lambda: job.generation_id, what="the submit")
    wait_for(lambda: not panel.bar.button.disabled, what="Generate to come back")
    job.result(timeout=60)
    assert created(fast_emulator) == before + 1


def test_the_same_request_again_soon_asks_first(demo_client: AsyncKlingClient, fast_emulator: Emulator) -> None:
    panel = KlingPanel(demo_client, prompt="once <b>")
    panel.bar.button.click()
    first = panel.jobs[0]
    wait_for(lambda: not panel.bar.button.disabled, what="Generate to come back")
    before = created(fast_emulator)
    panel.bar.button.click()  # identical request: a question, not a submit
    assert len(panel.jobs) == 1 and created(fast_emulator) == before
    assert panel.bar.again.layout.display == ""
    assert "exact request" in panel.bar.question.value and "&lt;b&gt;" not in panel.bar.question.value
    assert not panel.bar.button.disabled
    panel.bar.keep_button.click()
    assert panel.bar.again.layout.display == "none" and len(panel.jobs) == 1
    panel.bar.button.click()
    panel.bar.again_button.click()  # confirmed: sent again
    assert len(panel.jobs) == 2
    panel.jobs[1].result(timeout=60)
    first.result(timeout=60)
    panel.controls.prompt.area.value = "something else"
    wait_for(lambda: not panel.bar.button.disabled, what="Generate to come back")
    panel.bar.button.click()  # a different request goes straight out
    assert len(panel.jobs) == 3 and panel.bar.again.layout.display == "none"
    panel.jobs[2].result(timeout=60)


def test_a_failed_submit_gives_generate_back(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    panel.image.url.value = "ftp://not-http"  # refused before anything is sent
    panel.bar.button.click()
    assert panel.jobs == [] and panel.bar.button.disabled  # disabled for the reason, not held
    panel.image.use_demo()
    assert not panel.bar.button.disabled


def test_the_window_is_a_minute() -> None:
    from kling_notebook import GenerationRequest
    from kling_notebook.frontends.panel import DEMO_IMAGE

    now = [0.0]
    guard = RepeatGuard(clock=lambda: now[0])
    request = GenerationRequest(image=DEMO_IMAGE, prompt="p")
    guard.sent(request)
    now[0] = 59.0
    assert guard.seconds_since_same(request) == 59.0
    assert guard.seconds_since_same(request.with_changes(duration=10)) is None
    assert guard.seconds_since_same(GenerationRequest(image=b"\x01" * 10, prompt="p")) is None
    now[0] = 61.0
    assert guard.seconds_since_same(request) is None
