"""The image checker's verdict in words, for uploads, the demo image and URLs."""

from __future__ import annotations

from datetime import datetime, timezone

from kling_notebook import AsyncKlingClient
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel

from .conftest import html_values, wait_for


def upload(panel: KlingPanel, name: str, content: bytes) -> None:
    """What the browser sends when a file is chosen (ipywidgets 8 FileUpload value)."""
    panel.image.upload.value = (
        {"name": name, "type": "", "size": len(content), "content": memoryview(content), "last_modified": datetime.now(timezone.utc)},
    )


def test_demo_image_is_small_and_accepted(demo_client: AsyncKlingClient) -> None:
    assert DEMO_IMAGE.stat().st_size <= 150 * 1024
    panel = KlingPanel(demo_client)
    assert "Kling accepts this image" in panel.image.status.value
    assert "396 x 576 px" in panel.image.status.value
    assert "<img" in panel.image.preview.value


def test_good_upload(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    panel = KlingPanel(demo_client)
    upload(panel, "good.jpg", images["good.jpg"])
    assert "JPEG, 1024 x 576 px" in panel.image.status.value
    assert "Kling accepts this image" in panel.image.status.value
    assert panel.image.upload.value == ()  # the bytes do not stay in widget state
    assert not panel.bar.button.disabled
    assert panel.image.source is not None and panel.image.source.value == images["good.jpg"]


def test_too_small_upload_is_refused_in_words(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    panel = KlingPanel(demo_client)
    upload(panel, "small.png", images["small.png"])
    status = panel.image.status.value
    assert "Kling would refuse it" in status
    assert "200x200 px is too small, both sides must be at least 300 px" in status
    assert panel.bar.button.disabled
    assert "too small" in panel.bar.reason.value


def test_webp_upload_is_refused_in_words(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    panel = KlingPanel(demo_client)
    upload(panel, "pic.webp", images["pic.webp"])
    assert "format is webp, must be jpeg or png" in panel.image.status.value
    assert panel.bar.button.disabled
    panel.image.use_demo()
    assert not panel.bar.button.disabled


def test_url_is_checked_after_typing_stops(demo_client: AsyncKlingClient, images_url: str) -> None:
    panel = KlingPanel(demo_client)
    url = f"{images_url}/good.jpg"
    for end in range(len(url) - 4, len(url) + 1):  # typing: only the last value is fetched
        panel.image.url.value = url[:end]
    assert panel.bar.button.disabled  # while checking
    assert "checking" in panel.bar.reason.value
    wait_for(lambda: "Kling accepts" in panel.image.status.value, what="the URL verdict")
    assert not panel.bar.button.disabled
    assert f'src="{url}"' in panel.image.preview.value
    request, _ = panel.request()
    assert request is not None and request.image == url


def test_url_problems_in_words(demo_client: AsyncKlingClient, images_url: str) -> None:
    panel = KlingPanel(demo_client)
    cases = {
        f"{images_url}/missing.jpg": "the URL answered HTTP 404",
        f"{images_url}/small.png": "too small",
        f"{images_url}/pic.webp": "format is webp",
        f"{images_url}/page.html": "it is not an image",
        "http://127.0.0.1:9/nothing.jpg": "could not be fetched",
    }
    for url, words in cases.items():
        panel.image.url.value = url
        wait_for(lambda words=words: words in panel.image.status.value, what=words)
        assert panel.bar.button.disabled
    panel.image.url.value = "ftp://example.org/a.jpg"
    assert "must start with http:// or https://" in panel.image.status.value


def test_hostile_file_name_and_url_are_escaped(demo_client: AsyncKlingClient, images: dict[str, bytes]) -> None:
    panel = KlingPanel(demo_client)
    upload(panel, '<script>alert(1)</script>"><img src=x onerror=alert(1)>.jpg', images["good.jpg"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x" in panel.image.status.value
    panel.image.url.value = 'http://127.0.0.1:9/"><script>alert(1)</script>.jpg'
    wait_for(lambda: "could not be fetched" in panel.image.status.value, what="the URL verdict")
    shown = "\n".join(html_values(panel))
    assert "<script>" not in shown and "<img src=x" not in shown
