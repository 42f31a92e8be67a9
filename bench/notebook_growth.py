"""Benchmark 5: how much a saved notebook grows per displayed video, default mode vs base64.

The notebook holds what ``display.result_mimebundle`` puts in a cell's output, as Jupyter saves
it (nbformat). The video is a 16 MB file, the size of a real 5 s 1080p clip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._common import Table

VIDEOS = 5
VIDEO_MB = 16


def _notebook_bytes(outputs: list[dict[str, object]]) -> int:
    """Bytes of a one-cell notebook whose cell shows ``outputs`` (display data bundles)."""
    import nbformat

    cell = nbformat.v4.new_code_cell("result  # a GenerationResult")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data) for data in outputs]
    return len(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])).encode())


def run(quick: bool = False) -> Table:
    from kling_notebook import Generation, GenerationResult
    from kling_notebook.frontends.display import DisplayMode, concrete_mode, result_mimebundle

    with tempfile.TemporaryDirectory(prefix="kling-bench-") as folder:
        path = Path(folder) / "kling_outputs" / "a-generated-video.mp4"
        path.parent.mkdir()
        path.write_bytes(os.urandom(VIDEO_MB * 1024 * 1024))
        generation = Generation(id="bench:kling-video/v2.1/master/image-to-video", status="completed",
                                video_url="https://cdn.example/output.mp4")
        result = GenerationResult(path=path, generation=generation)
        empty = _notebook_bytes([])
        per_video = {}
        modes: tuple[tuple[str, DisplayMode | None], ...] = (("default", None), ("embed (base64)", "embed"))
        for label, mode in modes:
            bundle = result_mimebundle(result, mode=mode)
            per_video[label] = (_notebook_bytes([bundle] * VIDEOS) - empty) / VIDEOS
    table = Table(
        "5. Notebook growth per displayed video",
        f"A one-cell notebook showing {VIDEOS} results, saved with nbformat, minus the same "
        f"notebook without outputs, / {VIDEOS}; each result is a {VIDEO_MB} MB MP4 (a real 5 s "
        f"1080p clip's size). Default mode here resolves to `{concrete_mode()}` (a path the "
        "front end serves); embed is the base64 data URI.",
        ["display mode", "bytes per video", "share of embed"],
    )
    embedded = per_video["embed (base64)"]
    for label, size in per_video.items():
        table.add(label, f"{size:,.0f}", f"1/{embedded / size:,.0f}")
    table.target(
        f"the default mode does not store the video ({per_video['default']:,.0f} bytes per video)",
        per_video["default"] < 10_000,
    )
    return table
