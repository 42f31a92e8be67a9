"""The command line: ``kling-notebook emulator`` (via ``register``) and ``python -m``."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from kling_notebook.emulator._cli import register, run

from ._support import MODEL, PATHS

LINE = re.compile(r"Emulator at (http://127\.0\.0\.1:\d+)  key: (\S+)\n")


def test_register_adds_the_emulator_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="kling-notebook")
    register(parser.add_subparsers(dest="command"))
    defaults = parser.parse_args(["emulator"])
    assert defaults.run is run
    assert (defaults.host, defaults.port, defaults.time_scale) == ("127.0.0.1", 8000, 60.0)
    assert (defaults.job_seconds, defaults.api_key, defaults.faults, defaults.seed) == (
        None,
        None,
        "",
        None,
    )
    chosen = parser.parse_args(
        ["emulator", "--host", "127.0.0.2", "--port", "0", "--time-scale", "120",
         "--job-seconds", "3", "--api-key", "k", "--faults", "post:429=0.5", "--seed", "4",
         "--video-width", "320", "--replies", "real", "--logs-lag", "2", "--credits-per-usd", "2e6", "--balance", "50", "--registry", "/tmp/r", "--management-key", "m", "--concurrency", "3"]
    )  # fmt: skip
    assert vars(chosen) | {"run": None} == {
        "command": "emulator", "host": "127.0.0.2", "port": 0, "time_scale": 120.0,
        "job_seconds": 3.0, "api_key": "k", "faults": "post:429=0.5", "seed": 4,
        "video_width": 320, "replies": "real", "logs_lag": 2.0, "credits_per_usd": 2e6, "balance": 50.0, "registry": "/tmp/r", "management_key": "m", "concurrency": 3, "run": None,
    }  # fmt: skip


@pytest.fixture
def serve() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


EMULATOR = ("-m", "kling_notebook.emulator")
PROJECT_CLI = ("-m", "kling_notebook.frontends.cli.commands", "emulator")  # what `kling-notebook emulator` runs


def _ctrl_c_works() -> None:
    """Undo an inherited "ignore SIGINT" (a test run started in the background, e.g. under nohup,
    passes it on), so the emulator meets Ctrl-C as it does in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(
    processes: list[subprocess.Popen[str]], *args: str, entry: tuple[str, ...] = EMULATOR
) -> tuple[subprocess.Popen[str], str, str]:
    command = [sys.executable, *entry, "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_works
    )
    processes.append(process)
    assert process.stdout is not None
    match = LINE.fullmatch(process.stdout.readline())
    assert match, "the first line must give the base URL and key"
    return process, match[1], match[2]


@pytest.mark.parametrize(
    ("entry", "stop_signal"),
    [(EMULATOR, signal.SIGINT), (EMULATOR, signal.SIGTERM), (PROJECT_CLI, signal.SIGINT)],
)
def test_serves_until_interrupted(
    serve: list[subprocess.Popen[str]],
    mushroom_b64: str,
    entry: tuple[str, ...],
    stop_signal: signal.Signals,
) -> None:
    process, base_url, key = start(
        serve, "--api-key", "cli-key", "--job-seconds", "0.3", "--video-width", "160",
        "--faults", "post#1:503", "--seed", "3", entry=entry,
    )  # fmt: skip
    assert key == "cli-key"
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}) as http:
        body = {"model": MODEL, "image_url": mushroom_b64, "duration": "5"}
        assert http.post(PATHS["legacy"], json=body).status_code == 503  # --faults applies
        gen_id = http.post(PATHS["legacy"], json=body).json()["id"]
        for _ in range(100):
            status = http.get(PATHS["legacy"], params={"generation_id": gen_id}).json()["status"]
            if status == "completed":
                break
            time.sleep(0.1)
        assert status == "completed"
        assert http.get("/_emulator/stats").json()["created"] == [gen_id]
        summary = http.get("/_emulator/generations").json()[gen_id]  # what another process sees
        assert summary["status"] == "completed" and summary["ends_in"] <= 0
        assert httpx.get(f"{base_url}/_emulator/generations").status_code == 401
    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert stdout == "" and "Traceback" not in stderr  # one line, then quiet


def test_a_generated_key_is_printed_and_accepted(serve: list[subprocess.Popen[str]]) -> None:
    _, base_url, key = start(serve)
    assert key.startswith("emu-")
    accepted = httpx.get(f"{base_url}/_emulator/stats", headers={"Authorization": f"Bearer {key}"})
    assert accepted.status_code == 200


def test_a_bad_start_exits_1_with_a_message() -> None:
    command = [sys.executable, "-m", "kling_notebook.emulator", "--faults", "post:teapot=1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "teapot" in result.stderr and result.stdout == ""
