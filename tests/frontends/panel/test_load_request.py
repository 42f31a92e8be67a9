"""``KlingPanel.load_request``: a past request goes back into every control, and the Generate
button follows what was loaded (a URL is checked first; an image the journal did not keep must
be chosen again)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from kling_notebook import AsyncKlingClient, GenerationRequest, IgnoredFieldWarning
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel

from .conftest import html_values, wait_for

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def request(image: Any, **fields: Any) -> GenerationRequest:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)  # cfg_scale and camera are noted
        return GenerationRequest(image=image, **fields)


@pytest.mark.parametrize(
    ("camera", "provider"),
    [({"type": "simple", "config": {"pan": -4}}, "fal"), ({"type": "down_back"}, "klingai")],
)
def test_every_control_is_filled_and_the_request_round_trips(
    demo_client: AsyncKlingClient, images_url: str, camera: dict[str, Any], provider: str
) -> None:
    url = f"{images_url}/good.jpg"
    past = request(url, prompt="she waves", negative_prompt="blur", duration=10, cfg_scale=0.3,
                   camera_control=camera, provider=provider)
    panel = KlingPanel(demo_client)
    panel.load_request(past)
    controls, advanced = panel.controls, panel.controls.advanced
    assert (controls.prompt.area.value, controls.negative.area.value) == ("she waves", "blur")
    assert controls.duration.value == 10 and "$2.80" in panel.bar.cost.value
    assert advanced.send_cfg.value and advanced.cfg.value == pytest.approx(0.3)
    assert advanced.camera.value == camera["type"] and advanced.provider.value == provider
    if camera["type"] == "simple":
        assert (advanced.axis.value, advanced.amount.value) == ("pan", -4)
    assert advanced.selected_index == 0, "loaded advanced settings must be visible"
    assert panel.image.url.value == url
    assert panel.bar.button.disabled and "checking the image URL" in panel.bar.reason.value
    wait_for(lambda: not panel.bar.button.disabled, what="the URL check")
    rebuilt, reason = panel.request()
    assert reason == "" and rebuilt is not None
    assert rebuilt.to_payload("") == past.to_payload("")


def test_a_plain_request_clears_what_an_earlier_one_set(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    panel.load_request(request(DEMO_IMAGE, prompt="p", negative_prompt="n", duration=10, cfg_scale=0.9,
                               camera_control={"type": "forward_up"}, provider="fal"))
    assert panel.controls.values()["provider"] == "fal"
    panel.load_request(request(DEMO_IMAGE))
    assert panel.controls.values() == {"prompt": None, "negative_prompt": None, "duration": 5}
    assert panel.image.source is not None and panel.image.source.code == "DEMO_IMAGE"
    assert not panel.bar.button.disabled


def test_local_file_and_bytes_load_directly(
    demo_client: AsyncKlingClient, images: dict[str, bytes], tmp_path: Path
) -> None:
    picture = tmp_path / "picture.jpg"
    picture.write_bytes(images["good.jpg"])
    panel = KlingPanel(demo_client)
    panel.image.url.value = "ftp://not-an-image"  # an earlier, unusable choice
    assert panel.bar.button.disabled
    panel.load_request(request(picture, prompt="from a file"))
    assert panel.image.source is not None and panel.image.source.value == picture
    assert panel.image.url.value == "" and "picture.jpg" in panel.image.status.value
    assert not panel.bar.button.disabled
    panel.load_request(request(images["small.png"], prompt="from bytes"))
    assert panel.image.source is not None and panel.image.source.value == images["small.png"]
    assert panel.bar.button.disabled and "at least 300" in panel.bar.reason.value  # checked as usual


@pytest.mark.parametrize("image", ["<123456 bytes>", "moved-away.jpg"])
def test_an_image_the_journal_did_not_keep_must_be_chosen_again(
    demo_client: AsyncKlingClient, image: str
) -> None:
    panel = KlingPanel(demo_client)
    assert not panel.bar.button.disabled
    panel.load_request(request(image, prompt="kept", duration=10))
    assert panel.controls.prompt.area.value == "kept" and panel.controls.duration.value == 10
    assert panel.image.source is None
    assert "must be chosen again" in panel.image.status.value
    assert panel.bar.button.disabled and "the image must be chosen again" in panel.bar.reason.value
    assert panel.generate() is None
    panel.image.demo.click()
    assert not panel.bar.button.disabled


def test_hostile_text_stays_escaped(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    panel.load_request(request(HOSTILE, prompt=HOSTILE, negative_prompt=HOSTILE))
    assert panel.controls.prompt.area.value == HOSTILE  # a text area shows it as typed
    shown = "\n".join(html_values(panel))
    assert "<script>" not in shown and "<img src=x" not in shown
    assert "&lt;script&gt;" in panel.image.status.value
