"""Fixtures of the core unit tests (the doubles themselves live in ``fakes.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kling_notebook import AsyncKlingClient, RetryPolicy

from .fakes import API, KEY, FakeClock, FakeGateway, image_bytes


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jpeg() -> bytes:
    return image_bytes()


@pytest.fixture
def make_client(
    gateway: FakeGateway, clock: FakeClock, tmp_path: Any
) -> Callable[..., AsyncKlingClient]:
    """A client factory wired to the fake gateway and clock, writing only under tmp_path."""

    def make(**options: Any) -> AsyncKlingClient:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", API)
        options.setdefault("transport", gateway.transport)
        options.setdefault("clock", clock)
        options.setdefault("out_dir", tmp_path)
        options.setdefault("retry", RetryPolicy())
        return AsyncKlingClient(**options)

    return make


@pytest.fixture
def no_network() -> httpx.MockTransport:
    """A transport that fails the test if anything at all is sent."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.method} {request.url}")

    return httpx.MockTransport(refuse)
