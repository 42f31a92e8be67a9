"""The controls decide nothing themselves: GenerationRequest's validation disables Generate."""

from __future__ import annotations

from kling_notebook import AsyncKlingClient
from kling_notebook.frontends.panel import KlingPanel


def test_valid_demo_input_enables_generate(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    assert panel.request()[1] == ""
    assert not panel.bar.button.disabled
    assert panel.bar.reason.value == ""
    assert "nothing in demo mode" in panel.bar.cost.value
    assert "$1.40" in panel.bar.cost.value


def test_too_long_prompt_disables_generate_and_says_why(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    panel.controls.prompt.area.value = "x" * 2501
    assert panel.bar.button.disabled
    assert "prompt: at most 2500 characters, got 2501" in panel.bar.reason.value
    assert "2501 / 2500 characters" in panel.controls.prompt.counter.value
    assert "#b91c1c" in panel.controls.prompt.counter.value  # red past the limit
    panel.controls.prompt.area.value = "x" * 2500
    assert not panel.bar.button.disabled
    assert "2500 / 2500 characters" in panel.controls.prompt.counter.value


def test_generate_refuses_invalid_input_even_if_called_directly(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    panel.controls.negative.area.value = "y" * 3000
    assert panel.generate() is None
    assert panel.rows.children == ()
    assert "negative_prompt" in panel.bar.reason.value


def test_camera_simple_needs_a_non_zero_axis(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    advanced = panel.controls.advanced
    advanced.camera.value = "simple"
    assert not advanced.axis.disabled
    advanced.amount.value = 0
    assert panel.bar.button.disabled
    assert "exactly one non-zero axis" in panel.bar.reason.value
    advanced.amount.value = 3
    request, reason = panel.request()
    assert reason == "" and request is not None
    assert request.camera_control is not None and dict(request.camera_control.config) == {"zoom": 3}


def test_advanced_fields_are_marked_and_sent_only_when_set(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    advanced = panel.controls.advanced
    notes = " ".join(child.value for child in advanced.children[0].children if hasattr(child, "value"))
    assert notes.count("Documented to be ignored by v2.1 master") == 2
    assert panel.controls.values().keys() == {"prompt", "negative_prompt", "duration"}
    advanced.send_cfg.value = True
    advanced.provider.value = "fal"
    assert panel.controls.values()["cfg_scale"] == 0.5
    assert panel.controls.values()["provider"] == "fal"


def test_duration_shows_expected_wait_and_cost(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    assert "about 5-6 min" in panel.controls.wait.value
    panel.controls.duration.value = 10
    assert "about 11-14 min" in panel.controls.wait.value
    assert "$2.80" in panel.bar.cost.value
