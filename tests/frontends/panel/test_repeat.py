"""Generate cannot pay twice by accident: a click while a submit is out is dropped, and the same
request again within a minute asks first (in demo mode without saying it is charged)."""

from __future__ import annotations

from kling_notebook import AsyncKlingClient
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel._repeat import RepeatGuard

from .conftest import Front, wait_for


def created(emulator: Emulator) -> int:
    return len(emulator.stats()["created"])


def test_double_click_submits_once(demo_client: AsyncKlingClient, fast_emulator: Emulator) -> None:
    front = Front(KlingPanel(demo_client, prompt="double"))
    before = created(fast_emulator)
    front.click_generate()
    assert front.panel.ready["busy"] or front.panel.jobs[0].generation_id  # held until the submit returns
    front.click_generate()  # the second click of a double-click, already on its way
    assert len(front.panel.jobs) == 1
    job = front.panel.jobs[0]
    wait_for(lambda: job.generation_id, what="the submit")
    wait_for(lambda: front.enabled, what="Generate to come back")
    job.result(timeout=60)
    assert created(fast_emulator) == before + 1


def test_a_held_click_is_dropped(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.panel._held = True  # a submit is out
    front.click_generate()
    assert front.panel.jobs == []


def test_the_same_request_again_soon_asks_first(demo_client: AsyncKlingClient, fast_emulator: Emulator) -> None:
    front = Front(KlingPanel(demo_client, prompt="once <b>"))
    front.click_generate()
    first = front.panel.jobs[0]
    wait_for(lambda: front.enabled, what="Generate to come back")
    before = created(fast_emulator)
    front.click_generate()  # identical request: a question, not a submit
    assert len(front.panel.jobs) == 1 and created(fast_emulator) == before
    question = front.panel.ready["question"]
    assert "exact request" in question and "nothing is charged" in question and "charged again" not in question
    assert front.enabled
    front.send("keep")
    assert front.panel.ready["question"] == "" and len(front.panel.jobs) == 1
    front.click_generate()
    assert front.panel.ready["question"]
    front.click_generate(again=True)  # confirmed: sent again
    assert len(front.panel.jobs) == 2 and front.panel.ready["question"] == ""
    front.panel.jobs[1].result(timeout=60)
    first.result(timeout=60)
    front.click_generate()
    assert front.panel.ready["question"]
    front.set("prompt", "something else")  # the request changed: the question no longer applies
    assert front.panel.ready["question"] == ""
    wait_for(lambda: front.enabled, what="Generate to come back")
    front.click_generate()  # a different request goes straight out
    assert len(front.panel.jobs) == 3 and front.panel.ready["question"] == ""
    front.panel.jobs[2].result(timeout=60)


def test_with_a_key_the_repeat_question_says_it_is_charged(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("key", key="sk-test-repeat-0123456789")
    front.panel._ask_again(12)
    assert "12 s ago" in front.panel.ready["question"] and "It is charged again." in front.panel.ready["question"]


def test_a_refused_input_gives_generate_back(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("image_url", url="ftp://not-http")  # refused before anything is sent
    front.click_generate()
    assert front.panel.jobs == [] and not front.enabled and not front.panel.ready["busy"]
    front.send("demo_image")
    assert front.enabled


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
