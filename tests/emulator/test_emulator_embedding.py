"""Running the emulator in process: inside a live event loop, start/stop, the shared demo."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time

import httpx
import pytest

from kling_notebook.emulator import DEMO_TIME_SCALE, Emulator, demo_emulator

from ._support import MODEL, PATHS, poll, raw_request


async def test_works_inside_a_running_event_loop(mushroom_uri: str) -> None:
    """What a Jupyter cell does: the caller's loop is running, the emulator brings its own."""
    assert asyncio.get_running_loop().is_running()
    with Emulator(job_seconds=0.3, video_width=160) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
            created = await http.post(
                PATHS["universal"], json={"model": MODEL, "image_url": mushroom_uri}
            )
            final = (await poll(http, "universal", created.json()["id"]))[-1]
        assert final["status"] == "completed"
    assert not emu.running
    assert emu.stats()["created"] == [final["id"]]  # still readable once stopped


def test_start_and_stop() -> None:
    emu = Emulator(video_width=160)
    with pytest.raises(RuntimeError, match="not started"):
        _ = emu.base_url
    assert emu.start() is emu and emu.start() is emu
    assert emu.running and emu.base_url == f"http://127.0.0.1:{emu.port}"
    assert emu.api_key not in repr(emu) and emu.base_url in repr(emu)
    port = emu.port
    emu.stop()
    emu.stop()
    assert not emu.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/")
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        emu.start()
    with pytest.raises(RuntimeError, match="not running"):
        emu.complete_all_now()


def test_a_busy_port_fails_to_start() -> None:
    with Emulator() as first, pytest.raises(OSError):
        Emulator(port=first.port).start()


@pytest.mark.parametrize(
    "settings", [{"video_width": 321}, {"video_width": 32}, {"time_scale": 0}, {"job_seconds": -1}]
)
def test_bad_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Emulator(**settings)  # type: ignore[arg-type]


async def test_the_demo_emulator_is_shared_and_demo_paced(mushroom_b64: str) -> None:
    emu = demo_emulator()
    assert demo_emulator() is emu and emu.running
    assert emu.time_scale == DEMO_TIME_SCALE == 30
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        created = await http.post(PATHS["legacy"], json={"model": MODEL, "image_url": mushroom_b64})
    gen_id = created.json()["id"]
    emu.advance(9.5)  # a 5 s video takes 5-6 minutes / 30 = 10-12 s
    running = emu.generations()[gen_id]
    assert running["status"] == "generating" and 0.5 - 0.1 < running["ends_in"] < 2.5 + 0.1
    emu.wait_idle()
    emu.advance(2.5)
    done = emu.generations()[gen_id]
    assert done["status"] == "completed" and done["ends_in"] < 0


def test_the_demo_emulator_stops_at_exit() -> None:
    code = "from kling_notebook.emulator import demo_emulator; print(demo_emulator().base_url)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("http://127.0.0.1:") and result.stderr == ""


def test_stopping_with_open_connections_is_quick_and_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = Emulator(faults="get#1:slow,delay=30").start()
    idle = httpx.Client(base_url=emu.base_url)
    assert idle.get("/nothing").status_code == 404  # a keep-alive connection stays open
    waiting = socket.create_connection(("127.0.0.1", emu.port))  # a poll held for 30 s
    waiting.sendall(raw_request("GET", f"{PATHS['universal']}?generation_id=x", emu.api_key))
    time.sleep(0.2)
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    assert waiting.recv(100) == b""
    waiting.close()
    idle.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
