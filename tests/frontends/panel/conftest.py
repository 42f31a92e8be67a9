"""Fixtures for the panel tests: a fast emulator, a client in demo mode bound to it, and an image
server; :class:`Front`, which drives a panel the way its view does (custom messages in, state
and replies out); a helper to wait for the engine thread."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emulated import PatientPoll
from owned import image
from PIL import Image
from widget_state import widget_html

from kling_notebook import AsyncKlingClient, PollPolicy, RetryPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import KlingPanel

#: Where a key typed into a panel under test goes: a closed port here, never the real gateway.
NO_GATEWAY = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_real_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys entered in these tests reach nothing off this machine; KlingPanel() stays in demo mode."""
    monkeypatch.setenv("AIMLAPI_BASE_URL", NO_GATEWAY)
    monkeypatch.setenv("KLING_NOTEBOOK_DEMO", "1")


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
    """A demo-mode client of ``emulator`` saving into ``folder``, on a sped-up poll schedule with
    a deadline of 30 s at least."""
    return AsyncKlingClient(
        emulator.api_key, emulator.base_url, demo=True, out_dir=folder, poll=PatientPoll(time_scale=time_scale),
        **options,
    )


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Front:
    """A panel driven as its view drives it: each action is the message the view sends, and
    the panel's replies (custom messages to the view) are kept in :attr:`replies`."""

    def __init__(self, panel: KlingPanel) -> None:
        self.panel = panel
        self.replies: list[tuple[dict[str, Any], list[bytes]]] = []
        self._uploads = 0
        panel.send = lambda content, buffers=None: self.replies.append((content, list(buffers or [])))  # type: ignore[method-assign]

    def send(self, kind: str, buffers: list[bytes] | None = None, **fields: Any) -> None:
        self.panel.receive({"kind": kind, **fields}, buffers or [])

    def set(self, field: str, value: Any) -> None:
        self.send("set", field=field, value=value)

    def click_generate(self, again: bool = False) -> None:
        self.send("generate", again=again)

    def upload(self, name: str, data: bytes, chunk: int = 4 * 1024 * 1024) -> None:
        """What the view sends for a chosen file: its bytes in chunks of one upload."""
        self._uploads += 1
        count = max(1, -(-len(data) // chunk))
        for index in range(count):
            self.send("upload", [data[index * chunk:(index + 1) * chunk]], name=name, size=len(data),
                      upload=f"upload-{self._uploads}", index=index, count=count)

    @property
    def enabled(self) -> bool:
        """Whether Generate is enabled."""
        return bool(self.panel.ready["can_generate"])

    @property
    def reason(self) -> str:
        return str(self.panel.ready["reason"])

    @property
    def cost(self) -> str:
        return str(self.panel.ready["cost_html"])

    @property
    def image_status(self) -> str:
        return str(self.panel.image["status_html"])

    def row(self, index: int = 0) -> dict[str, Any]:
        return dict(self.panel.rows[index])

    def replies_of(self, kind: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        return [reply for reply in self.replies if reply[0].get("kind") == kind]

    def shown(self) -> str:
        """Every piece of HTML the view shows, joined."""
        return "\n".join(widget_html(self.panel))


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
