"""Fixtures for the panel tests: a fast emulator, a client in demo mode bound to it, and an image
server; helpers to wait for the engine thread and to read what a widget tree shows."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest
from owned import image
from PIL import Image

from kling_notebook import AsyncKlingClient, PollPolicy, RetryPolicy
from kling_notebook.emulator import Emulator


@pytest.fixture(scope="session")
def fast_emulator() -> Iterator[Emulator]:
    """Jobs that take one second, small videos."""
    with Emulator(job_seconds=1.0, video_width=160, seed=3) as running:
        yield running


#: For jobs of one real second: a look every quarter second and a 15 s deadline (the sped-up
#: default schedule would give up after 1.5 s, too close to the job's own second under load).
FAST_POLL = PollPolicy(time_scale=60.0, first_check=15.0, sparse_interval=15.0)


@pytest.fixture
def demo_client(fast_emulator: Emulator, tmp_path: Path) -> AsyncKlingClient:
    """A demo-mode client of the fast emulator."""
    return AsyncKlingClient(
        fast_emulator.api_key,
        fast_emulator.base_url,
        demo=True,
        out_dir=tmp_path / "videos",
        poll=FAST_POLL,
        retry=RetryPolicy(base_delay=0.01, max_delay=0.05),
    )


def demo_client_for(emulator: Emulator, folder: Path, time_scale: float = 600.0, **options: Any) -> AsyncKlingClient:
    """A demo-mode client of ``emulator`` saving into ``folder``, on a sped-up poll schedule."""
    return AsyncKlingClient(
        emulator.api_key, emulator.base_url, demo=True, out_dir=folder, poll=PollPolicy(time_scale=time_scale),
        **options,
    )


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def html_values(root: widgets.Widget) -> list[str]:
    """Every HTML string the widget tree shows: HTML widgets and Output widgets' text/html."""
    found: list[str] = []
    if isinstance(root, widgets.HTML):
        found.append(root.value)
    if isinstance(root, widgets.Output):
        found += [str(out.get("data", {}).get("text/html", "")) for out in root.outputs]
    for child in getattr(root, "children", ()):
        found += html_values(child)
    return found


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """good (the Mona Lisa fixture), small (200x200 png), webp, and a non-image."""
    folder = tmp_path_factory.mktemp("img")
    Image.new("RGB", (200, 200), "red").save(folder / "small.png")
    Image.new("RGB", (640, 480), "blue").save(folder / "pic.webp")
    (folder / "page.html").write_text("<html><body>not an image</body></html>")
    data = {
        "good.jpg": image("mona_lisa_extended.jpg"),
        "small.png": (folder / "small.png").read_bytes(),
        "pic.webp": (folder / "pic.webp").read_bytes(),
        "page.html": (folder / "page.html").read_bytes(),
    }
    for name, content in data.items():
        (folder / name).write_bytes(content)
    return data


@pytest.fixture(scope="session")
def images_url(images: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback HTTP server for the image URL tests; yields its base URL."""
    folder = tmp_path_factory.mktemp("served")
    for name, content in images.items():
        (folder / name).write_bytes(content)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
