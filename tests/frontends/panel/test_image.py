"""The image checker's verdict in words, for uploads, the demo image and URLs; the size limit."""

from __future__ import annotations

import json

from kling_notebook import AsyncKlingClient
from kling_notebook.domain.images import ImageLimits
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.frontends.panel._image import describe_shape

from .conftest import Front, wait_for


def test_demo_image_is_small_and_accepted(demo_client: AsyncKlingClient) -> None:
    assert DEMO_IMAGE.stat().st_size <= 150 * 1024
    front = Front(KlingPanel(demo_client))
    assert "Kling accepts this image" in front.image_status
    assert "396 x 576 px, aspect 11:16 (0.69, portrait)" in front.image_status
    assert front.panel.image["preview"].startswith("data:image/jpeg;base64,")
    assert len(front.panel.image["preview"]) < 12_000  # a thumbnail, not the image


def test_the_shape_is_said_right() -> None:
    assert describe_shape(500, 500) == "500 x 500 px, aspect 1:1 (1.00, square)"
    assert describe_shape(1280, 720).endswith("aspect 16:9 (1.78, landscape)")
    assert describe_shape(0, 0) == "size unknown"  # never "aspect 0.00 (square)"


def test_good_upload(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    front = Front(KlingPanel(demo_client))
    front.upload("good.jpg", images["good.jpg"], chunk=20_000)  # in several chunks
    assert "JPEG, 1024 x 576 px" in front.image_status and "Kling accepts this image" in front.image_status
    assert "uploaded file: good.jpg" in front.image_status
    assert front.enabled
    assert front.panel.picker.source is not None and front.panel.picker.source.value == images["good.jpg"]
    assert len(json.dumps(front.panel.get_state())) < 20_000  # the bytes do not stay in widget state


def test_too_small_upload_is_refused_in_words(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    front = Front(KlingPanel(demo_client))
    front.upload("small.png", images["small.png"])
    assert "Kling would refuse it" in front.image_status
    assert "200x200 px is too small, both sides must be at least 300 px" in front.image_status
    assert not front.enabled and "too small" in front.reason


def test_webp_upload_is_refused_in_words(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    front = Front(KlingPanel(demo_client))
    front.upload("pic.webp", images["pic.webp"])
    assert "format is webp, must be jpeg or png" in front.image_status
    assert not front.enabled
    front.send("demo_image")
    assert front.enabled


def test_a_file_over_the_limit_names_it_and_the_old_image_is_gone(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    limits = front.panel.image
    assert limits["max_bytes"] == 10 * 1024 * 1024 and limits["limit_text"] == "10.0 MB"  # the view checks first
    front.send("upload_refused", name="huge.png", size=12 * 1024 * 1024)
    assert "huge.png is 12.0 MB: over the 10.0 MB limit" in front.image_status
    assert front.panel.picker.source is None and front.panel.image["preview"] == ""
    assert not front.enabled and "over the 10.0 MB limit" in front.reason
    front.send("demo_image")
    assert front.enabled


def test_bytes_over_the_limit_are_refused_in_the_kernel_too(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    panel = KlingPanel(demo_client)
    panel.picker.limits = ImageLimits(max_bytes=10_000)
    front = Front(panel)
    front.upload("good.jpg", images["good.jpg"])
    assert "over the 9.8 KB limit" in front.image_status and not front.enabled


def test_url_is_checked_after_typing_stops(demo_client: AsyncKlingClient, images_url: str) -> None:
    front = Front(KlingPanel(demo_client))
    url = f"{images_url}/good.jpg"
    for end in range(len(url) - 4, len(url) + 1):  # typing: only the last value is fetched
        front.send("image_url", url=url[:end])
    assert not front.enabled and "checking" in front.reason
    # The verdict and Generate's state are two updates from the engine thread: wait for both.
    wait_for(lambda: "Kling accepts" in front.image_status and front.enabled, what="the URL verdict")
    assert front.panel.image["preview"] == url and front.panel.image["url"] == url
    request, _ = front.panel.request()
    assert request is not None and request.image == url


def test_url_problems_in_words(demo_client: AsyncKlingClient, images_url: str) -> None:
    front = Front(KlingPanel(demo_client))
    cases = {
        f"{images_url}/missing.jpg": "the URL answered HTTP 404",
        f"{images_url}/small.png": "too small",
        f"{images_url}/pic.webp": "format is webp",
        f"{images_url}/page.html": "it is not an image",
        "http://127.0.0.1:9/nothing.jpg": "could not be fetched",
    }
    for url, words in cases.items():
        front.send("image_url", url=url)
        wait_for(lambda words=words: words in front.image_status, what=words)
        assert not front.enabled
    front.send("image_url", url="ftp://example.org/a.jpg")
    assert "must start with http:// or https://" in front.image_status


def test_hostile_file_name_and_url_are_escaped(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    front = Front(KlingPanel(demo_client))
    front.upload('<script>alert(1)</script>"><img src=x onerror=alert(1)>.jpg', images["good.jpg"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x" in front.image_status
    front.send("image_url", url='http://127.0.0.1:9/"><script>alert(1)</script>.jpg')
    wait_for(lambda: "could not be fetched" in front.image_status, what="the URL verdict")
    shown = front.shown()
    assert "<script>" not in shown and "<img src=x" not in shown
