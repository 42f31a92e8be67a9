"""What every benchmark needs: statistics, result tables, child servers, a test image, a lag probe.

Servers that the measured client talks to run in child processes where it matters (the emulator
for the scale run, the file server for downloads), so the CPU time, RSS and event-loop lag we
report are the client's own and not shared with a server thread under the same GIL.
"""

from __future__ import annotations

import asyncio
import io
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_KEY = "bench-key-0123456789"

__all__ = [
    "BENCH_KEY",
    "REPO",
    "LagProbe",
    "Table",
    "Target",
    "child_server",
    "emulator_process",
    "file_server",
    "machine_facts",
    "median",
    "peak_rss_mb",
    "percentile",
    "test_image",
]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class Target:
    """One target of the issue and whether this run met it."""

    text: str
    met: bool


@dataclass
class Table:
    """One benchmark's result: a markdown table, how it was measured, and its targets."""

    title: str
    how: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: A ``--quick`` run (fewer jobs, faster clocks): its verdicts are indicative only.
    provisional: bool = False

    def add(self, *cells: object) -> None:
        self.rows.append([_cell(cell) for cell in cells])

    def target(self, text: str, met: bool) -> None:
        self.targets.append(Target(text, met))

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"How measured: {self.how}", ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.headers) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.targets:
            lines.append("")
            suffix = " (quick run: indicative; targets are judged on full runs)" if self.provisional else ""
            lines += [f"- {'MET' if t.met else 'MISSED'}{suffix}: {t.text}" for t in self.targets]
        if self.notes:
            lines.append("")
            lines += [f"{note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def machine_facts() -> str:
    """One line about where the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (``VmHWM``: unlike ``ru_maxrss``, it does not
    carry over the parent's peak across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def test_image(width: int = 640, height: int = 480) -> bytes:
    """A JPEG that Kling's limits accept (a smooth gradient, so it compresses realistically)."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class LagProbe:
    """How late the event loop runs a task that asks to sleep 10 ms: the user-felt stall.

    ``async with LagProbe() as probe:`` samples until the block ends; ``probe.lags`` in seconds.
    """

    def __init__(self, interval: float = 0.010) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - start - self.interval))

    async def __aenter__(self) -> LagProbe:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def ms(self, q: float) -> float:
        return percentile(self.lags, q) * 1000


@contextmanager
def child_server(args: Sequence[str], ready: str, timeout: float = 60.0) -> Iterator[re.Match[str]]:
    """Run a server as a child process until the block ends; yields the match of ``ready``
    (a regex) on the first stdout line that matches it."""
    process = subprocess.Popen(
        [sys.executable, "-u", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        pattern = re.compile(ready)
        while True:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"{' '.join(args)} exited with {process.returncode}")
            found = pattern.search(line)
            if found:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(args)} did not say it was ready")
        yield found
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def emulator_process(*options: str) -> Iterator[str]:
    """The emulator in its own process (``python -m kling_notebook.emulator``); yields its URL.

    Its key is :data:`BENCH_KEY`.
    """
    args = ["-m", "kling_notebook.emulator", "--port", "0", "--api-key", BENCH_KEY, *options]
    with child_server(args, r"Emulator at (\S+)") as found:
        yield found[1]


@contextmanager
def file_server(folder: Path, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """``python -m http.server`` on loopback serving ``folder`` from a child process; yields the
    base URL. The same server feeds curl and our client, so their throughput compares fairly.
    With ``tls`` (a certificate and its key) it serves HTTPS (``bench._tls_files``)."""
    if tls is None:
        args = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", str(folder), "0"]
    else:
        args = ["-m", "bench._tls_files", str(folder), str(tls[0]), str(tls[1])]
    with child_server(args, r"port (\d+)") as found:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{found[1]}"
