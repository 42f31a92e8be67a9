"""SIGKILL a process mid-poll and mid-download, then resume in another: every generation it paid
for is recovered (the file has the emulator's exact byte size and decodes), none is submitted
twice (the emulator created exactly one generation per submit), and a download cut short is
continued with a Range request, leaving no ``.part`` behind."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from emulated import client_for, posts

from kling_notebook import PollPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.runtime.resume import ResumeReport, resume_async
from kling_notebook.store.journal import Journal

CHILD = Path(__file__).parents[1] / "child_generate.py"
ROOT = Path(__file__).resolve().parents[2]
Lines = list[dict[str, Any]]


class Child:
    """``child_generate.py`` against ``emulator``; its JSON lines are read on a thread."""

    def __init__(
        self,
        emulator: Emulator,
        out_dir: Path,
        image: Path,
        durations: list[int],
        time_scale: float,
        throttle: int = 0,
    ) -> None:
        env = {
            **os.environ,
            "AIMLAPI_KEY": emulator.api_key,  # through the environment, never argv
            "AIMLAPI_BASE_URL": emulator.base_url,
            "KLING_NOTEBOOK_OUTPUTS": str(out_dir),
            "CHILD_IMAGE": str(image),
            "CHILD_DURATIONS": ",".join(map(str, durations)),
            "CHILD_TIME_SCALE": str(time_scale),
            "CHILD_THROTTLE": str(throttle),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.stderr = out_dir.parent / "child.stderr"
        with open(self.stderr, "w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, str(CHILD)],
                env=env,
                cwd=out_dir.parent,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self.lines: Lines = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as lines:  # closed at EOF: no ResourceWarning for the pipe
            for line in lines:
                self._queue.put(json.loads(line))
        self._queue.put(None)

    def wait_for(self, condition: Callable[[Lines], bool], timeout: float = 60.0) -> Lines:
        deadline = time.monotonic() + timeout
        while not condition(self.lines):
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"child timed out; it said {self.lines}") from None
            if line is None:
                raise AssertionError(f"child ended early: {self.stderr.read_text()[-2000:]}")
            self.lines.append(line)
        return self.lines

    def kill(self) -> None:
        assert self.process.poll() is None, "the child must still be running when killed"
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL


def steps(lines: Lines, step: str) -> dict[int, str]:
    return {line["index"]: line["id"] for line in lines if line["step"] == step}


def frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


async def assert_recovered(
    emulator: Emulator, out_dir: Path, ids: set[str], time_scale: float
) -> ResumeReport:
    """Resume in this process: every id saved whole, nothing created again."""
    created_before = emulator.stats()["created"]
    async with client_for(emulator, out_dir, poll=PollPolicy(time_scale=time_scale)) as client:
        report = await resume_async(client)
        assert report.failures == () and report.uncertain == ()
        assert {result.id for result in report.recovered} == ids
        for result in report.recovered:
            fresh = await client.get(result.id)
            assert fresh.file_size and result.path.stat().st_size == fresh.file_size
            duration = result.request.duration if result.request else 0
            assert frames(result.path) == 24 * duration
            assert result.sidecar is not None and result.sidecar.is_file()
    stats = emulator.stats()
    assert stats["created"] == created_before and sorted(stats["created"]) == sorted(ids)
    assert posts(emulator) == {"200": len(ids)}  # one create call per generation, ever
    with Journal.in_dir(out_dir) as journal:
        assert journal.unfinished() == []
        assert sorted(e.generation_id or "" for e in journal.entries()) == sorted(ids)
    return report


async def test_sigkill_mid_poll_then_resume(image: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "outputs"
    with Emulator(time_scale=60, video_width=160, seed=11) as emulator:  # 5-14 s per job
        child = Child(emulator, out_dir, image, durations=[5, 10, 5], time_scale=60)
        lines = child.wait_for(lambda ls: len(steps(ls, "polled")) == 3)
        child.kill()

        ids = set(steps(lines, "submitted").values())
        assert len(ids) == 3
        with Journal.in_dir(out_dir) as journal:
            pending = journal.unfinished()
        assert {entry.generation_id for entry in pending} == ids  # journalled before the kill
        assert {entry.status for entry in pending} <= {"queued", "generating"}
        assert not list(out_dir.glob("*.mp4"))

        emulator.complete_all_now()
        await assert_recovered(emulator, out_dir, ids, time_scale=60)
        assert len(list(out_dir.glob("*.mp4"))) == 3


async def test_sigkill_mid_download_then_resume(image: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "outputs"
    # 640 px clips (~250 KB) fed to the child at 64 KB/s: a download takes seconds.
    with Emulator(time_scale=120, video_width=640, seed=12) as emulator:
        child = Child(
            emulator, out_dir, image, durations=[5, 5], time_scale=120, throttle=64 * 1024
        )
        lines = child.wait_for(lambda ls: bool(steps(ls, "downloading")), timeout=90)
        child.kill()

        ids = set(steps(lines, "submitted").values())
        assert len(ids) == 2
        partial = [path.stat().st_size for path in out_dir.glob("*.mp4.part")]
        assert partial and max(partial) > 0, "the kill must land mid-download"
        with Journal.in_dir(out_dir) as journal:
            pending = journal.unfinished()
        assert {entry.generation_id for entry in pending} == ids
        assert any(entry.status == "completed" and entry.path is None for entry in pending), [(e.status, e.path) for e in pending]

        emulator.complete_all_now()
        before = emulator.stats()
        report = await assert_recovered(emulator, out_dir, ids, time_scale=120)
        assert len(list(out_dir.glob("*.mp4"))) == 2
        assert max(partial) < min(r.path.stat().st_size for r in report.recovered)
        after = emulator.stats()
        continued = after["requests"]["GET /cdn"].get("206", 0)
        assert continued > before["requests"]["GET /cdn"].get("206", 0)  # Range, not a restart
        sent = after["downloads"]["bytes"] - before["downloads"]["bytes"]
        assert sent == sum(r.path.stat().st_size for r in report.recovered) - sum(partial)
        assert not list(out_dir.glob("*.part"))
