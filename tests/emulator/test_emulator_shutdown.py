"""Stopping is quiet: no traceback, no task destroyed pending, no socket left open (Python 3.11
logged all three when connections were open or arriving as the emulator stopped)."""

from __future__ import annotations

import gc
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, raw_request

ARRIVING = 40  # connections opened in the instant the emulator stops


def _arrive(port: int, go: threading.Event) -> None:
    """Connect and send a request once ``go`` is set; the answer may never come."""
    go.wait()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.recv(1)
    except OSError:
        pass  # refused or reset: the emulator had already stopped listening


def _stop_while_busy(mushroom_uri: str, pause: float) -> None:
    emu = Emulator(job_seconds=30, video_width=160, faults="get:slow=1,delay=30").start()
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.base_url, headers=headers) as idle:
        created = idle.post(PATHS["universal"], json={"model": MODEL, "image_url": mushroom_uri})
        assert created.status_code == 200  # its clip is being rendered
        with socket.create_connection(("127.0.0.1", emu.port)) as held:  # answered 30 s late
            query = f"{PATHS['universal']}?generation_id={created.json()['id']}"
            held.sendall(raw_request("GET", query, emu.api_key))
            go = threading.Event()
            clients = [
                threading.Thread(target=_arrive, args=(emu.port, go)) for _ in range(ARRIVING)
            ]
            for client in clients:
                client.start()
            go.set()
            time.sleep(pause)
            started = time.monotonic()
            emu.stop()
            assert time.monotonic() - started < 5
            for client in clients:
                client.join()
    del emu


@pytest.mark.parametrize("pause", [0.0, 0.001, 0.003])
def test_stopping_while_connections_come_and_go_is_clean(
    caplog: pytest.LogCaptureFixture, mushroom_uri: str, pause: float
) -> None:
    gc.collect()  # earlier tests' garbage is not this test's business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _stop_while_busy(mushroom_uri, pause)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_demo_emulator_exits_the_interpreter_quietly(mushroom_uri: str, tmp_path: Path) -> None:
    """Open, held and just-sent requests plus a render in flight when the interpreter exits (a
    demo folder of its own: no clip of an earlier run to read instead)."""
    code = textwrap.dedent(
        """
        import atexit, socket, sys
        import httpx
        from kling_notebook.emulator import demo_emulator

        sockets = []
        atexit.register(lambda: [s.close() for s in sockets])  # runs after the emulator stops
        emu = demo_emulator()
        emu.set_faults("get:slow=1,delay=30")
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        body = {"model": sys.argv[1], "image_url": sys.stdin.read()}
        created = httpx.post(emu.base_url + sys.argv[2], json=body, headers=headers)
        for path in (f"{sys.argv[2]}?generation_id={created.json()['id']}", "/nothing"):
            sock = socket.create_connection(("127.0.0.1", emu.port))
            sock.sendall(f"GET {path} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())
            sockets.append(sock)
        print(created.status_code)
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", code, MODEL, PATHS["universal"]],
        input=mushroom_uri,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "200", result.stderr
    assert result.stderr == ""


async def test_a_render_refused_at_exit_fails_its_job_without_a_traceback(
    make_emulator: Callable[..., Emulator],
    mushroom_b64: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the interpreter is exiting, thread pools refuse work; a job created then just fails."""
    emu = make_emulator(render_cache=None)

    def refuse(*args: object) -> None:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(emu._studio._executor, "submit", refuse)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        created = await http.post(PATHS["legacy"], json={"model": MODEL, "image_url": mushroom_b64})
    emu.complete_all_now()
    error = emu.generations()[created.json()["id"]]["error"]
    assert error is not None and error["name"] == "EmulatorError"
    assert "shutting down" in error["message"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
