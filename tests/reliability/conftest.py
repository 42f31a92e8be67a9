"""Fixtures of the reliability and security suites: emulators that know :data:`KEY`, and a loopback
image host that records what it was sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from loopback import loopback_server

from kling_notebook.emulator import Emulator

from ._support import KEY, make_jpeg


@pytest.fixture
def make_emulator(make_emulator: Callable[..., Emulator]) -> Callable[..., Emulator]:
    """Emulators that accept :data:`KEY` (the secret these suites hunt for), seeded."""
    return lambda **options: make_emulator(**{"api_key": KEY, "seed": 5, **options})


@pytest.fixture
def image_host() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback image host answering every path with a JPEG; records each request's headers."""
    seen: list[dict[str, str]] = []
    body = make_jpeg()

    def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        seen.append({**request.headers, "path": request.path})
        return 200, {"Content-Type": "image/jpeg"}, body

    with loopback_server(answer) as base_url:
        yield f"{base_url}/frame.jpg", seen
