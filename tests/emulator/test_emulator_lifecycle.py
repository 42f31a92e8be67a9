"""Timing from the clock, determinism, test controls, and generations that fail on their input."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, ManualClock, png, poll


async def create(emu: Emulator, image_url: str, flavor: str = "universal", **fields: object) -> str:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        body = {"model": MODEL, "image_url": image_url, **fields}
        response = await http.post(PATHS[flavor], json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def status(emu: Emulator, gen_id: str) -> str:
    return emu.generations()[gen_id]["status"]


async def test_job_seconds_makes_every_job_exactly_that_long(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, job_seconds=2.0)
    ids = [await create(emu, mushroom_uri, duration=d) for d in (5, 10)]
    emu.wait_idle()
    for now, expected in [(1000.0, "queued"), (1000.19, "queued"), (1000.2, "generating"),
                          (1001.99, "generating"), (1002.0, "completed")]:  # fmt: skip
        clock.now = now
        assert [status(emu, i) for i in ids] == [expected] * 2, now


async def test_documented_times_are_scaled_and_seeded(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    """5 s videos take 5-6 minutes, 10 s videos 11-14, over time_scale; the same seed, the same
    times but never the same ids (a client journal outlives a run); the clock is read at request
    time (no timers), so advancing it is enough."""
    runs = []
    for seed in (11, 11, 12):
        clock = ManualClock()
        emu = make_emulator(clock=clock, job_seconds=None, time_scale=120, seed=seed)
        ids = [await create(emu, mushroom_uri, duration=d) for d in (5, 10) * 5]
        emu.wait_idle()
        ends = []
        for gen_id, duration in zip(ids, (5, 10) * 5, strict=True):
            low, high = {5: (300 / 120, 360 / 120), 10: (660 / 120, 840 / 120)}[duration]
            clock.now = 1000 + low - 0.001
            assert status(emu, gen_id) == "generating"
            clock.now = 1000 + high
            assert status(emu, gen_id) == "completed"
            ends.append(_finish_time(emu, clock, gen_id, low, high))
        runs.append((ids, ends))
    assert runs[0][1] == runs[1][1] and runs[0][1] != runs[2][1]
    every_id = [gen_id for ids, _ in runs for gen_id in ids]
    assert len(set(every_id)) == len(every_id) == 30
    assert len(set(runs[0][1])) == 10  # drawn, not fixed


def _finish_time(emu: Emulator, clock: ManualClock, gen_id: str, low: float, high: float) -> float:
    """Bisect the moment the job completes."""
    start, end = 1000 + low, 1000 + high
    while end - start > 1e-4:
        clock.now = (start + end) / 2
        start, end = (start, clock.now) if status(emu, gen_id) == "completed" else (clock.now, end)
    return round(end, 4)


async def test_advance_and_complete_all_now(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    emu = make_emulator(job_seconds=None, time_scale=1)  # real durations: 5-6 minutes
    gen_id = await create(emu, mushroom_uri)
    emu.advance(60)
    assert status(emu, gen_id) == "generating"
    with pytest.raises(ValueError):
        emu.advance(-1)
    later = await create(emu, mushroom_uri, duration=10)
    assert emu.complete_all_now() == 2
    assert {status(emu, i) for i in (gen_id, later)} == {"completed"}


async def test_input_problems_end_the_job_in_error(
    make_emulator: Callable[..., Emulator], image_server: Callable[[bytes], str]
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, job_seconds=10.0)
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    cases = {
        "cannot be decoded": data_uri(b"plain text, not pixels"),
        "both sides must be >= 300": data_uri(png(299, 400)),
        "outside 1:2.5..2.5:1": data_uri(png(1000, 320)),
        "must be JPEG or PNG": data_uri(_gif()),
        "HTTP 404": image_server(b"x").replace("image-0", "missing"),
        "ConnectError": f"http://127.0.0.1:{closed_port}/image.png",
    }
    ids = {reason: await create(emu, url) for reason, url in cases.items()}
    emu.wait_idle()
    assert {status(emu, i) for i in ids.values()} == {"queued"}
    clock.now += 1.0  # past the queue, long before the job's end: a bad input fails at once
    for reason, gen_id in ids.items():
        summary = emu.generations()[gen_id]
        assert summary["status"] == "error", reason
        assert summary["error"] is not None and summary["error"]["name"] == "ImageError"
        assert reason in summary["error"]["message"]
    assert emu.stats()["renders"]["failed"] == 4  # the two URL failures never reach the renderer


def _gif() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 400)).save(buffer, format="GIF")
    return buffer.getvalue()


async def test_missing_render_dependencies_fail_the_job_clearly(
    make_emulator: Callable[..., Emulator], mushroom_b64: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # what an install without the demo extra has
    emu = make_emulator(render_cache=None)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        created = await http.post(PATHS["legacy"], json={"model": MODEL, "image_url": mushroom_b64})
        final = (await poll(http, "legacy", created.json()["id"]))[-1]
    assert final["status"] == "error"
    assert final["error"]["name"] == "EmulatorError"
    assert (
        "'av'" in final["error"]["message"] and "kling_notebook[demo]" in final["error"]["message"]
    )


def test_importing_the_emulator_does_not_import_render_dependencies() -> None:
    code = "import sys, kling_notebook.emulator as e; e.Emulator(); print('av' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
