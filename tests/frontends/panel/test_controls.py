"""The controls decide nothing themselves: GenerationRequest's validation disables Generate,
and the chosen model decides which controls the view shows."""

from __future__ import annotations

from kling_notebook import AsyncKlingClient
from kling_notebook.domain.models import MODELS
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel._controls import expected_wait

from .conftest import Front


def test_valid_demo_input_enables_generate(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    assert front.panel.request()[1] == ""
    assert front.enabled and front.reason == ""
    assert "nothing in demo mode" in front.cost and "$1.40" in front.cost


def test_too_long_prompt_disables_generate_and_says_why(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.set("prompt", "x" * 2501)
    assert not front.enabled
    assert "prompt: at most 2500 characters, got 2501" in front.reason
    assert front.panel.controls["model"]["max_prompt"] == 2500  # the view's counter turns red past it
    front.set("prompt", "x" * 2500)
    assert front.enabled


def test_generate_refuses_invalid_input_even_if_called_directly(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.set("negative_prompt", "y" * 3000)
    assert front.panel.generate() is None
    assert front.panel.rows == [] and front.panel.jobs == []
    assert "negative_prompt" in front.reason


def test_camera_simple_needs_a_non_zero_axis(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.set("camera", "simple")
    front.set("amount", 0)
    assert not front.enabled and "exactly one non-zero axis" in front.reason
    front.set("amount", 3)
    request, reason = front.panel.request()
    assert reason == "" and request is not None
    assert request.camera_control is not None and dict(request.camera_control.config) == {"zoom": 3}


def test_advanced_fields_are_marked_and_sent_only_when_set(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    notes = front.panel.controls["notes"]
    assert all("Documented to be ignored by Kling v2.1 Master" in text for text in notes.values())
    assert {"cfg_scale", "camera_control"} <= notes.keys()
    assert front.panel.request_controls.values().keys() == {"model", "prompt", "duration"}
    assert not front.panel.controls["advanced_open"]
    front.set("send_cfg", True)
    front.set("provider", "fal")
    values = front.panel.request_controls.values()
    assert values["cfg_scale"] == 0.5 and values["provider"] == "fal"
    assert front.panel.controls["advanced_open"]


def test_values_from_the_browser_are_not_trusted(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    before = dict(front.panel.controls["values"])
    front.set("duration", "five")  # not a number
    front.set("model", "no/such-model")
    front.set("__class__", "x")  # not a field
    front.send("no-such-message")
    assert front.panel.controls["values"] == before


def test_duration_shows_the_emulators_wait_in_demo_mode_and_the_cost(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    wait = front.panel.controls["wait"]
    assert "simulated" in wait and "min" not in wait  # 5-6 min divided by the emulator's speed
    front.set("duration", 10)
    assert front.panel.controls["wait"] != wait and "$2.80" in front.cost


def test_the_model_decides_durations_and_fields(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client, duration=10))
    ids = [model_id for model_id, _name in front.panel.models]
    assert ids == list(MODELS)
    front.set("model", "klingai/video-v3-standard-image-to-video")
    spec = front.panel.controls["model"]
    assert spec["durations"] == list(range(3, 16)) and spec["audio"] and spec["end_frame"]
    assert front.panel.controls["values"]["duration"] == 10  # v3 makes 10 s too
    front.set("duration", 3)
    front.set("model", "klingai/v2.1-master-image-to-video")
    assert front.panel.controls["values"]["duration"] == 5, "a duration the model does not make is replaced"
    front.set("model", "klingai/video-v2-6-pro-image-to-video")
    assert front.panel.controls["model"]["prompt_required"]
    front.set("prompt", "")
    assert not front.enabled and "prompt" in front.reason
    front.set("prompt", "she waves")
    front.set("generate_audio", True)
    front.set("end_image", "https://example.org/last.jpg")
    request, reason = front.panel.request()
    assert reason == "" and request is not None
    assert request.generate_audio is True and request.end_image == "https://example.org/last.jpg"
    assert "negative_prompt" in front.panel.controls["model"]["takes"]


def test_the_documented_wait_with_a_key_and_the_emulators_in_demo_mode() -> None:
    assert expected_wait(5) == "expected wait about 5-6 min"
    assert expected_wait(10) == "expected wait about 11-14 min"
    assert expected_wait(5, time_scale=30.0) == "expected wait about 10s-12s (simulated)"
