"""Fixtures every suite shares: a clean environment, emulators on loopback, clients bound to them.

Each fixture name means one thing across the whole suite: ``emulator`` is an :class:`Emulator`
(parametrize it indirectly with a dict of options), ``client`` an :class:`AsyncKlingClient` for
it, ``make_emulator`` and ``make_client`` their factories. The fake gateway of the unit tests
(``gateway``, ``clock``, ``fake_client``) lives in ``tests/fakes.py`` and is a fixture here too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schedule
import thorough
from emulated import EMULATOR_DEFAULTS, client_for
from fakes import API, KEY, FakeClock, FakeGateway, image_bytes

from kling_notebook import AsyncKlingClient, RetryPolicy
from kling_notebook.emulator import Emulator

# jsonschema (under nbformat, Schemathesis and the schema checks) builds 39 parsers on import when
# the optional rfc3987-syntax is installed, about 2 s in every worker. That package only adds the
# "iri" format, which no schema here uses.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
# Every request of the suite goes to loopback over plain HTTP, yet each httpx client loads the CA
# bundle on creation (about 50 ms). A bundle of one certificate, which nothing here is signed
# with, makes that free; the subprocesses the tests start inherit it.
os.environ["SSL_CERT_FILE"] = str(Path(__file__).parent / "data" / "tls" / "one-certificate.pem")
os.environ.pop("SSL_CERT_DIR", None)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No key, base URL or kling_notebook setting leaks in from the developer's shell, and the
    working directory (where ``./kling_outputs`` and relative video paths land) is the test's."""
    for name in list(os.environ):
        if name.startswith(("AIMLAPI_", "AIML_API_", "KLING_NOTEBOOK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


# -- emulators and clients over loopback ----------------------------------------------------------


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators (small videos, a 5 s video in 0.5-0.6 s, seeded, clips shared with the
    other emulators of this process); all stop after the test."""
    with contextlib.ExitStack() as running:
        yield lambda **options: running.enter_context(Emulator(**{**EMULATOR_DEFAULTS, **options}))


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator], request: pytest.FixtureRequest) -> Emulator:
    """An emulator; parametrize indirectly with a dict of Emulator options to change it."""
    return make_emulator(**getattr(request, "param", {}))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "outputs"


@pytest.fixture
def make_client(out_dir: Path) -> Callable[..., AsyncKlingClient]:
    """``make_client(emulator, **options)``: a client for it, saving into ``out_dir``."""
    return lambda emulator, **options: client_for(emulator, options.pop("out_dir", out_dir), **options)


@pytest.fixture
async def client(emulator: Emulator, out_dir: Path) -> AsyncIterator[AsyncKlingClient]:
    async with client_for(emulator, out_dir) as opened:
        yield opened


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400x560 JPEG file (Kling's limits: at least 300 px, aspect within 1:2.5..2.5:1), busy
    enough that its videos are several times 64 KiB."""
    from PIL import Image

    path = tmp_path_factory.mktemp("images") / "portrait.jpg"
    picture = Image.new("RGB", (400, 560))
    picture.putdata([(x % 256, y % 256, (x + y) % 256) for y in range(560) for x in range(400)])
    picture.save(path, quality=85)
    return path


@pytest.fixture
def cli_on_emulator(emulator: Emulator, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The CLI's connect() goes to the test emulator (demo or not, as asked); returns what it was
    asked for."""
    asked: dict[str, Any] = {}

    def connect(*, demo: bool | None = None, **options: Any) -> AsyncKlingClient:
        asked.update(options, demo=demo)
        for ignored in ("base_url", "endpoint", "out_dir"):
            options.pop(ignored, None)
        return client_for(emulator, out_dir, demo=bool(demo), **options)

    monkeypatch.setattr("kling_notebook.frontends.cli.commands.connect", connect)
    return asked


# -- the fake gateway of the unit tests ------------------------------------------------------------


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
def fake_client(gateway: FakeGateway, clock: FakeClock, tmp_path: Path) -> Callable[..., AsyncKlingClient]:
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


#: The order tests start in, the longest kinds first, so that with the workers taking one test at
#: a time (``schedule.py``) the long ones overlap one another and the many short tests fill the
#: gaps, instead of one of them ending the run alone. The sort is stable: a module's tests stay
#: together.
START_ORDER = ("venv", "browser", "kernel", "slow")


def _start_rank(item: pytest.Item) -> int:
    return next((rank for rank, marker in enumerate(START_ORDER) if item.get_closest_marker(marker)),
                len(START_ORDER))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_start_rank)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--quick", action="store_true",
                     help="property tests draw a quarter of their examples (make check)")


def pytest_configure(config: pytest.Config) -> None:
    thorough.QUICK = bool(config.getoption("quick"))
    if config.pluginmanager.hasplugin("xdist"):  # (absent under -p no:xdist)
        config.pluginmanager.register(schedule, "longest-first")
