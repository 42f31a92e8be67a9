"""Benchmark 4: download throughput against curl on the same file, and memory that must not grow
with the file's size (the client streams to disk in 64 KiB pieces)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import BENCH_KEY, Table, file_server, median

if TYPE_CHECKING:
    from kling_notebook import AsyncKlingClient

MB = 1024 * 1024
RUNS, QUICK_RUNS = 7, 3
SIZES = (16, 64)  # MB: a real 5 s 1080p clip is about 16 MB


@contextmanager
def served_files(*sizes_mb: int) -> Iterator[tuple[str, Path]]:
    """Random (incompressible) files of ``sizes_mb`` MB named ``video-N.mp4`` behind a child-process
    file server; yields its base URL and a scratch folder for the downloads."""
    with tempfile.TemporaryDirectory(prefix="kling-bench-") as folder:
        root = Path(folder)
        (root / "files").mkdir()
        for size in sizes_mb:
            (root / "files" / f"video-{size}.mp4").write_bytes(os.urandom(size * MB))
        (root / "out").mkdir()
        with file_server(root / "files") as base_url:
            yield base_url, root / "out"


def download_client() -> AsyncKlingClient:
    """A client for downloads only (no journal; the API base URL is never called)."""
    from kling_notebook import AsyncKlingClient

    return AsyncKlingClient(BENCH_KEY, "http://127.0.0.1:9", journal=False)


async def client_download(client: AsyncKlingClient, url: str, target: Path) -> float:
    """Seconds for ``client.download`` of ``url`` to ``target``."""
    from kling_notebook import Generation

    start = time.perf_counter()
    await client.download(Generation(id="bench", status="completed", video_url=url), target)
    return time.perf_counter() - start


async def _client_runs(url: str, target: Path, runs: int) -> list[float]:
    """Timed downloads on one client, after one untimed run that opens its connection pool."""
    async with download_client() as client:
        await client_download(client, url, target)
        return [await client_download(client, url, target) for _ in range(runs)]


def _curl(url: str, target: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-o", str(target), url], check=True)
    return time.perf_counter() - start


async def _peak_memory(url: str, target: Path) -> float:
    """Peak Python heap (MB) above the start while downloading ``url``."""
    tracemalloc.start()
    try:
        async with download_client() as client:
            await client_download(client, url, target)
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def run(quick: bool = False) -> Table:
    runs = QUICK_RUNS if quick else RUNS
    table = Table(
        "4. Download: throughput vs curl, and memory vs file size",
        f"A random 16 MB file served on loopback by `python -m http.server` in a child process; "
        f"`curl -o FILE` (a new process each time, as a user runs it) and "
        f"`client.download()` on one client (streamed to FILE.part, then renamed), {runs} runs "
        "each, median. Memory: tracemalloc's peak of the Python heap during one "
        "download of a 16 MB and of a 64 MB file.",
        ["what", "16 MB", "64 MB", "64 / 16"],
    )
    if shutil.which("curl") is None:
        raise RuntimeError("curl is not installed: apt-get install curl")
    with served_files(*SIZES) as (base_url, out):
        url = f"{base_url}/video-16.mp4"
        curls = [_curl(url, out / "curl.mp4") for _ in range(runs)]
        ours = asyncio.run(_client_runs(url, out / "ours.mp4", runs))
        peaks = [asyncio.run(_peak_memory(f"{base_url}/video-{size}.mp4", out / f"m{size}.mp4"))
                 for size in SIZES]
    curl_rate, our_rate = 16 / median(curls), 16 / median(ours)
    table.add("curl MB/s", curl_rate, "", "")
    table.add("client.download MB/s", our_rate, "", "")
    table.add("client / curl", our_rate / curl_rate, "", "")
    table.add("client peak heap MB", peaks[0], peaks[1], peaks[1] / peaks[0])
    table.target(f"throughput >= 0.8x curl ({our_rate / curl_rate:.2f}x)", our_rate >= 0.8 * curl_rate)
    table.target(
        f"peak memory does not grow with file size ({peaks[0]:.2f} MB at 16 MB, {peaks[1]:.2f} MB "
        "at 64 MB)",
        peaks[1] <= peaks[0] * 1.5 + 0.5,
    )
    return table
