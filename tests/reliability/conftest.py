"""Fixtures of the reliability and security suites: emulators that know :data:`KEY`, clients bound
to them, and an environment with no key, base URL or output folder leaking in from the shell."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from loopback import loopback_server

from kling_notebook import AsyncKlingClient
from kling_notebook.emulator import Emulator
from kling_notebook.gateway.settings import BASE_URL_ENV_VARS, KEY_ENV_VARS
from kling_notebook.store.outputs import ENV_VAR as OUTPUTS_ENV_VAR

from ._support import FAST_POLL, FAST_RETRY, KEY, TIME_SCALE, jpeg


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    names = (*KEY_ENV_VARS, *BASE_URL_ENV_VARS, OUTPUTS_ENV_VAR, "KLING_NOTEBOOK_DEMO",
             "KLING_NOTEBOOK_DISPLAY")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def image() -> bytes:
    return jpeg()


#: Fast jobs (a 5 s video in 0.5-0.6 s), small videos, repeatable ids and faults.
EMULATOR_DEFAULTS: dict[str, Any] = {"api_key": KEY, "time_scale": TIME_SCALE, "video_width": 160,
                                     "seed": 5}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators accepting :data:`KEY`; all stop after the test."""
    with contextlib.ExitStack() as running:
        yield lambda **options: running.enter_context(Emulator(**{**EMULATOR_DEFAULTS, **options}))


@pytest.fixture
def make_client(tmp_path: Path) -> Callable[..., AsyncKlingClient]:
    """A client for an emulator with :data:`KEY`, polling on its clock, saving under tmp_path."""

    def make(emulator: Emulator, **options: Any) -> AsyncKlingClient:
        settings: dict[str, Any] = {"out_dir": tmp_path / "outputs", "poll": FAST_POLL,
                                    "retry": FAST_RETRY, **options}
        return AsyncKlingClient(KEY, emulator.base_url, **settings)

    return make


@pytest.fixture
def image_host() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback image host answering every path with a JPEG; records each request's headers."""
    seen: list[dict[str, str]] = []
    body = jpeg()

    def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        seen.append({**request.headers, "path": request.path})
        return 200, {"Content-Type": "image/jpeg"}, body

    with loopback_server(answer) as base_url:
        yield f"{base_url}/frame.jpg", seen
