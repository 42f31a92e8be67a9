"""Helpers of the reliability and security suites: a known key, fast policies, a recording
transport, an HTML safety check and small images."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from kling_notebook import PollPolicy, RetryPolicy

#: The secret that must never show up anywhere but the Authorization header to the API.
KEY = "sk-test-SECRET-1234567890"
#: Emulator and poll policy speed-up: a 5 s video's job takes 0.5-0.6 s.
TIME_SCALE = 600.0
FAST_POLL = PollPolicy(time_scale=TIME_SCALE)
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)
API_PATH = "/v2/video/generations"
HOSTILE = ('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>')


def make_jpeg(width: int = 400, height: int = 400, quality: int = 85) -> bytes:
    """A JPEG of ``width`` x ``height`` (a gradient, so it has real content)."""
    from PIL import Image

    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def image_file(fmt: str, width: int = 400, height: int = 400) -> bytes:
    """An image in Pillow format ``fmt`` ("PNG", "GIF", "WEBP", "BMP")."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Records every request (method, URL, headers, body) before handing it to ``inner``."""

    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    @property
    def posts(self) -> list[httpx.Request]:
        return [request for request in self.requests if request.method == "POST"]


def mock(handler: Any) -> Recorder:
    """A :class:`Recorder` in front of ``httpx.MockTransport(handler)``."""
    return Recorder(httpx.MockTransport(handler))


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html_text: str) -> str:
    """Assert ``html_text`` runs no script (no script/iframe/object tags, no ``on*`` handler, no
    ``javascript:`` URL, no ``<img src=x>`` smuggled in); returns its visible text."""
    parser = _Elements()
    parser.feed(html_text)
    parser.close()
    assert not {"script", "iframe", "object", "embed"} & set(parser.tags), html_text
    for name, value in parser.attributes:
        assert not name.lower().startswith("on"), f"event handler {name}={value!r} in {html_text}"
        assert "javascript:" not in (value or "").lower(), html_text
    images = [v for n, v in parser.attributes if n == "src" and v == "x"]
    assert not images, f"an injected <img src=x> in {html_text}"
    return "".join(parser.text)
