"""Benchmark 6: what ``import kling_notebook`` costs next to ``import ipywidgets, httpx`` (what any
widget tool that talks HTTP pays), and how long the emulator takes to render a 5 s clip."""

from __future__ import annotations

import base64
import subprocess
import sys
import time

from ._common import REPO, Table, median, test_image

RUNS, QUICK_RUNS = 9, 3
RENDERS, QUICK_RENDERS = 3, 1
_TIMED_IMPORT = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"


def import_seconds(modules: str) -> float:
    """Seconds to import ``modules`` in a fresh interpreter (interpreter start-up not counted)."""
    out = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORT.format(modules)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )
    return float(out.stdout)


def render_seconds(width: int) -> float:
    """Seconds from a create request to the emulator's clip being ready (5 s video, no cache)."""
    import httpx

    from kling_notebook.emulator import MODEL_ID, Emulator

    image = test_image(1280, 720)
    with Emulator(job_seconds=0, video_width=width) as emulator:
        body = {"model": MODEL_ID, "image_url": base64.b64encode(image).decode(),
                "duration": 5}
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        start = time.perf_counter()
        httpx.post(f"{emulator.base_url}/v2/video/generations", json=body, headers=headers,
                   timeout=60).raise_for_status()
        emulator.wait_idle()
        return time.perf_counter() - start


def run(quick: bool = False) -> Table:
    runs, renders = (QUICK_RUNS, QUICK_RENDERS) if quick else (RUNS, RENDERS)
    ours, base = [], []
    for _ in range(runs):  # interleaved, so a noisy moment hits both alike
        base.append(import_seconds("ipywidgets, httpx"))
        ours.append(import_seconds("kling_notebook"))
    widths = {width: median([render_seconds(width) for _ in range(renders)]) for width in (640, 1920)}
    table = Table(
        "6. Start-up: import time and the emulator's render time",
        f"Import: a fresh interpreter per run times the import statement alone, {runs} runs "
        f"each, interleaved, median. Render: a create request for a 5 s video from a 1280x720 "
        f"JPEG to the moment `Emulator.wait_idle()` returns (fresh emulator, no render cache), "
        f"{renders} run(s), median; 640 px is the emulator's default width.",
        ["what", "seconds", "ratio"],
    )
    table.add("import ipywidgets, httpx (baseline)", median(base), "1")
    table.add("import kling_notebook", median(ours), f"{median(ours) / median(base):.2f}x")
    for width, seconds in widths.items():
        table.add(f"emulator render, 5 s clip, {width} px wide", seconds,
                  f"{seconds / 5:.2f}x real time")
    table.target(
        f"`import kling_notebook` costs no more than `import ipywidgets, httpx` "
        f"({median(ours) / median(base):.2f}x)",
        median(ours) <= median(base),
    )
    return table
