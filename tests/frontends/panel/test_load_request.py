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

from .conftest import Front, wait_for

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
    front = Front(KlingPanel(demo_client))
    front.panel.load_request(past)
    values = front.panel.controls["values"]
    assert (values["prompt"], values["negative_prompt"]) == ("she waves", "blur")
    assert values["duration"] == 10 and "$2.80" in front.cost
    assert values["send_cfg"] and values["cfg_scale"] == pytest.approx(0.3)
    assert values["camera"] == camera["type"] and values["provider"] == provider
    if camera["type"] == "simple":
        assert (values["axis"], values["amount"]) == ("pan", -4)
    assert front.panel.controls["advanced_open"], "loaded advanced settings must be visible"
    assert front.panel.image["url"] == url
    assert not front.enabled and "checking the image URL" in front.reason
    wait_for(lambda: front.enabled, what="the URL check")
    rebuilt, reason = front.panel.request()
    assert reason == "" and rebuilt is not None
    assert rebuilt.to_payload("") == past.to_payload("")


def test_a_plain_request_clears_what_an_earlier_one_set(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.panel.load_request(request(DEMO_IMAGE, prompt="p", negative_prompt="n", duration=10, cfg_scale=0.9,
                                     camera_control={"type": "forward_up"}, provider="fal"))
    assert front.panel.request_controls.values()["provider"] == "fal"
    front.panel.load_request(request(DEMO_IMAGE))
    assert front.panel.request_controls.values() == {"model": "klingai/v2.1-master-image-to-video", "prompt": None, "duration": 5}
    assert front.panel.picker.source is not None and front.panel.picker.source.code == "DEMO_IMAGE"
    assert front.enabled and not front.panel.controls["advanced_open"]


def test_local_file_and_bytes_load_directly(
    demo_client: AsyncKlingClient, images: dict[str, bytes], tmp_path: Path
) -> None:
    picture = tmp_path / "picture.jpg"
    picture.write_bytes(images["good.jpg"])
    front = Front(KlingPanel(demo_client))
    front.send("image_url", url="ftp://not-an-image")  # an earlier, unusable choice
    assert not front.enabled
    front.panel.load_request(request(picture, prompt="from a file"))
    assert front.panel.picker.source is not None and front.panel.picker.source.value == picture
    assert front.panel.image["url"] == "" and "picture.jpg" in front.image_status
    assert front.enabled
    front.panel.load_request(request(images["small.png"], prompt="from bytes"))
    assert front.panel.picker.source is not None and front.panel.picker.source.value == images["small.png"]
    assert not front.enabled and "at least 300" in front.reason  # checked as usual


@pytest.mark.parametrize("image", ["<123456 bytes>", "moved-away.jpg"])
def test_an_image_the_journal_did_not_keep_must_be_chosen_again(
    demo_client: AsyncKlingClient, image: str
) -> None:
    front = Front(KlingPanel(demo_client))
    assert front.enabled
    front.panel.load_request(request(image, prompt="kept", duration=10))
    values = front.panel.controls["values"]
    assert values["prompt"] == "kept" and values["duration"] == 10
    assert front.panel.picker.source is None and front.panel.image["preview"] == ""
    assert "must be chosen again" in front.image_status
    assert not front.enabled and "the image must be chosen again" in front.reason
    assert front.panel.generate() is None
    front.send("demo_image")
    assert front.enabled


def test_hostile_text_stays_escaped(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.panel.load_request(request(HOSTILE, prompt=HOSTILE, negative_prompt=HOSTILE))
    assert front.panel.controls["values"]["prompt"] == HOSTILE  # a text area shows it as typed
    shown = front.shown()
    assert "<script>" not in shown and "<img src=x" not in shown
    assert "&lt;script&gt;" in front.image_status
