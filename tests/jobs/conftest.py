"""Fixtures for the jobs suite: an emulator on loopback, a client bound to it, a test image, and
an environment with no key, base URL or output folder leaking in from the developer's shell."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kling_notebook import AsyncKlingClient, PollPolicy, RetryPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.gateway.settings import BASE_URL_ENV_VARS, KEY_ENV_VARS
from kling_notebook.store.outputs import ENV_VAR as OUTPUTS_ENV_VAR

#: Emulated generations take 1/TIME_SCALE of the documented 5-14 minutes.
TIME_SCALE = 600.0
#: Videos this wide render in a fraction of a second.
SMALL_VIDEO = 160
UNIVERSAL = "POST /v2/video/generations"


def make_client(emulator: Emulator, out_dir: Path, **options: Any) -> AsyncKlingClient:
    """A client for ``emulator`` polling on its time scale, with short back-off delays."""
    settings: dict[str, Any] = {
        "out_dir": out_dir,
        "poll": PollPolicy(time_scale=TIME_SCALE),
        "retry": RetryPolicy(base_delay=0.01, max_delay=0.05),
        **options,
    }
    return AsyncKlingClient(emulator.api_key, emulator.base_url, **settings)


def posts(emulator: Emulator) -> dict[str, int]:
    """Create calls the emulator answered, by outcome (``{"200": 3, "429": 1}``)."""
    return emulator.stats()["requests"].get(UNIVERSAL, {})


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*KEY_ENV_VARS, *BASE_URL_ENV_VARS, OUTPUTS_ENV_VAR, "KLING_NOTEBOOK_DEMO"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400x560 JPEG (Kling's limits: at least 300 px, aspect within 1:2.5..2.5:1)."""
    path = tmp_path_factory.mktemp("images") / "portrait.jpg"
    picture = Image.new("RGB", (400, 560))
    picture.putdata([(x % 256, y % 256, (x + y) % 256) for y in range(560) for x in range(400)])
    picture.save(path, quality=85)
    return path


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """An emulator; parametrize indirectly with a dict of Emulator options to change it."""
    options = {"time_scale": TIME_SCALE, "video_width": SMALL_VIDEO, "seed": 7}
    options.update(getattr(request, "param", {}))
    with Emulator(**options) as running:
        yield running


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "outputs"


@pytest.fixture
async def client(emulator: Emulator, out_dir: Path) -> AsyncIterator[AsyncKlingClient]:
    async with make_client(emulator, out_dir) as opened:
        yield opened


@pytest.fixture
def cli_on_emulator(emulator: Emulator, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The CLI's connect() goes to the test emulator (demo or not, as asked); returns what it was
    asked for."""
    asked: dict[str, Any] = {}

    def connect(*, demo: bool | None = None, **options: Any) -> AsyncKlingClient:
        asked.update(options, demo=demo)
        for ignored in ("base_url", "endpoint", "out_dir"):
            options.pop(ignored, None)
        return make_client(emulator, out_dir, demo=bool(demo), **options)

    monkeypatch.setattr("kling_notebook.frontends.cli.commands.connect", connect)
    return asked
