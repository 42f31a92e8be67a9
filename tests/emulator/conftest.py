"""Fixtures for the emulator tests: input images and emulators that stop after each test."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from loopback import loopback_server
from owned import image

from kling_notebook.emulator import Emulator


@pytest.fixture(scope="session")
def mushroom() -> bytes:
    return image("mushroom.jpg")


@pytest.fixture(scope="session")
def mushroom_b64(mushroom: bytes) -> str:
    return base64.b64encode(mushroom).decode()


@pytest.fixture(scope="session")
def mushroom_uri(mushroom_b64: str) -> str:
    """The mushroom as a data URI: what the universal endpoint's ``format: uri`` takes."""
    return f"data:image/jpeg;base64,{mushroom_b64}"


@pytest.fixture(scope="session")
def mona_lisa() -> bytes:
    return image("mona_lisa_extended.jpg")


@pytest.fixture
def make_emulator(make_emulator: Callable[..., Emulator]) -> Callable[..., Emulator]:
    """Emulators whose jobs take half a second each, whatever their video's length."""
    return lambda **options: make_emulator(**{"job_seconds": 0.5, **options})


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()


@pytest.fixture
async def http(emulator: Emulator) -> Any:
    """A bare httpx client with the emulator's key: the emulator's own view of a request."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    async with httpx.AsyncClient(base_url=emulator.base_url, headers=headers, timeout=30) as http:
        yield http


@pytest.fixture
def image_server() -> Iterator[Callable[[bytes], str]]:
    """Serve bytes over loopback HTTP (what the emulator fetches an ``image_url`` from)."""
    files: dict[str, bytes] = {}

    def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        data = files.get(request.path)
        return (200, {}, data) if data is not None else (404, {}, b"")

    with loopback_server(answer) as base_url:

        def serve(data: bytes) -> str:
            path = f"/image-{len(files)}.jpg"
            files[path] = data
            return f"{base_url}{path}"

        yield serve
