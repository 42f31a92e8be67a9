"""The rendered clip: a real MP4 animated from the input, following camera_control."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from kling_notebook.emulator import Emulator, RenderCache
from kling_notebook.emulator._render import _view, motion_for, output_size, render_clip
from kling_notebook.emulator._renders import file_name
from kling_notebook.emulator._validation import CameraControl

from ._support import MODEL, PATHS, png, poll, probe


def simple(axis: str, value: float) -> CameraControl:
    return CameraControl("simple", ((axis, value),))


def frames(clip: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(clip)) as container:
        return [
            frame.to_ndarray(format="rgb24").astype(float) for frame in container.decode(video=0)
        ]


GRADIENT = png(600, 400)  # brighter to the right and downwards


@pytest.mark.parametrize(
    ("camera", "moves"),
    [
        (None, "zoom_in"),
        (simple("zoom", 6), "zoom_in"),
        (simple("zoom", -6), "zoom_out"),
        (simple("horizontal", 5), "right"),
        (simple("pan", -5), "left"),
        (simple("vertical", 5), "up"),
        (simple("tilt", -5), "down"),
        (simple("roll", 8), "roll"),
        (CameraControl("forward_up"), "zoom_in"),
        (CameraControl("down_back"), "zoom_out"),
    ],
)
def test_motion_follows_camera_control(camera: CameraControl | None, moves: str) -> None:
    motion = motion_for(camera)
    first, last = _view(motion, 0.0, 1.5), _view(motion, 1.0, 1.5)
    observed = {
        "zoom_in": last.zoom > first.zoom,
        "zoom_out": last.zoom < first.zoom,
        "right": last.centre[0] > first.centre[0],
        "left": last.centre[0] < first.centre[0],
        "up": last.centre[1] < first.centre[1],
        "down": last.centre[1] > first.centre[1],
        "roll": last.roll > first.roll == 0,
    }
    assert observed[moves], (first, last)


def test_pans_and_zooms_are_visible_in_the_frames() -> None:
    """On a gradient image: panning right brightens the picture, tilting up darkens it, zooming in
    flattens the gradient, and a roll never shows a corner outside the image."""
    right = frames(render_clip(GRADIENT, 5, simple("horizontal", 10), 160, None))
    up = frames(render_clip(GRADIENT, 5, simple("vertical", 10), 160, None))
    zoom = frames(render_clip(GRADIENT, 5, None, 160, None))
    roll = frames(render_clip(GRADIENT, 5, simple("roll", 10), 160, None))
    assert right[-1].mean() > right[0].mean() + 5
    assert up[-1].mean() < up[0].mean() - 5
    steepness = [np.abs(np.diff(f[..., 0], axis=1)).mean() for f in (zoom[0], zoom[-1])]
    assert steepness[1] < steepness[0] * 0.95
    assert np.abs(roll[-1] - roll[0]).mean() > 2
    for frame in (roll[0], roll[60], roll[-1]):  # blue is 200 everywhere inside the image
        corners = frame[[0, 0, -1, -1], [0, -1, 0, -1], 2]
        assert corners.min() > 150, corners


@pytest.mark.parametrize(
    ("size", "width", "expected"),
    [((576, 768), 640, (640, 854)), ((1024, 576), 640, (640, 360)), ((1000, 401), 320, (320, 128)),
     ((333, 777), 100, (100, 234))],
)  # fmt: skip
def test_output_keeps_the_aspect_with_even_sides(
    size: tuple[int, int], width: int, expected: tuple[int, int]
) -> None:
    assert output_size(size, width) == expected


def test_a_ten_second_clip_at_a_chosen_width(mona_lisa: bytes) -> None:
    info = probe(render_clip(mona_lisa, 10, simple("roll", -3), 320, "demo"))
    assert (info.codec, info.pix_fmt, info.fps) == ("h264", "yuv420p", 24.0)
    assert (info.duration, info.frames, info.width, info.height) == (10.0, 240, 320, 180)


def test_the_caption_is_small_and_in_the_corner() -> None:
    plain = frames(render_clip(GRADIENT, 5, None, 320, None))[0]
    captioned = frames(render_clip(GRADIENT, 5, None, 320, "demo"))[0]
    difference = np.abs(plain - captioned).mean(axis=2)
    height, width = difference.shape
    assert difference[height * 3 // 4 :, width * 3 // 4 :].mean() > 5
    assert difference[: height // 2, : width // 2].max() < 8


async def test_identical_jobs_render_once(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    shared = RenderCache()
    body = {"model": MODEL, "image_url": mushroom_uri}
    turn = {**body, "camera_control": {"type": "simple", "config": {"pan": 2}}}
    for bodies, renders in (([body] * 3 + [turn], {"rendered": 2, "cache_hits": 2, "failed": 0}),
                            ([turn, body], {"rendered": 0, "cache_hits": 2, "failed": 0})):
        emulator = make_emulator(render_cache=shared)  # the second starts from the first's clips
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        async with httpx.AsyncClient(base_url=emulator.base_url, headers=headers) as http:
            for sent in bodies:
                assert (await http.post(PATHS["universal"], json=sent)).status_code == 200
        emulator.wait_idle()
        assert emulator.stats()["renders"] == renders
    assert len(shared) == 2


async def test_a_cache_folder_carries_clips_to_the_next_process(
    make_emulator: Callable[..., Emulator], mushroom_uri: str, tmp_path: Path
) -> None:
    """Each emulator gets a cache of its own on one folder, as the demo emulators of two kernels
    do: the second reads the first's clip instead of rendering it."""
    body = {"model": MODEL, "image_url": mushroom_uri}
    for renders in ({"rendered": 1, "cache_hits": 0, "failed": 0}, {"rendered": 0, "cache_hits": 1, "failed": 0}):
        emulator = make_emulator(render_cache=RenderCache(folder=tmp_path / "renders"))
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        async with httpx.AsyncClient(base_url=emulator.base_url, headers=headers) as http:
            created = (await http.post(PATHS["universal"], json=body)).json()["id"]
            emulator.complete_all_now()
            emulator.wait_idle()
            done = (await http.get(PATHS["universal"], params={"generation_id": created})).json()
            video = (await http.get(done["video"]["url"])).content
        assert emulator.stats()["renders"] == renders
        assert frames(video)  # a whole clip, read back
    (clip,) = (tmp_path / "renders").iterdir()
    assert clip.suffix == ".mp4" and clip.read_bytes() == video


def test_a_cache_folder_keeps_the_most_recently_used_files_within_the_bound(tmp_path: Path) -> None:
    writer = RenderCache(max_bytes=10, folder=tmp_path)
    writer.put("a", b"aaaa")
    writer.put("b", b"bbbb")
    reader = RenderCache(max_bytes=10, folder=tmp_path)  # another process
    os.utime(tmp_path / file_name("b"), (1, 1))  # "b" used long ago
    assert reader.get("a") == b"aaaa"
    writer.put("c", b"cccc")
    assert (reader.get("a"), reader.get("b"), reader.get("c")) == (b"aaaa", None, b"cccc")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(file_name(k) for k in "ac")


def test_a_cache_folder_that_cannot_be_written_only_costs_renders(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    cache = RenderCache(folder=blocked)
    cache.put("a", b"aaaa")
    assert cache.get("a") == b"aaaa" and RenderCache(folder=blocked).get("a") is None


def test_the_shared_cache_keeps_the_most_recently_used_clips_within_its_bound() -> None:
    cache = RenderCache(max_bytes=10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # now the most recently used
    cache.put("c", b"cccc")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"aaaa", None, b"cccc")
    cache.put("a", b"aaaaaa")  # replaced, not counted twice: 6 + 4 bytes fit
    assert (cache.get("a"), cache.get("c"), len(cache)) == (b"aaaaaa", b"cccc", 2)
    cache.put("huge", b"h" * 11)
    assert cache.get("huge") is None and len(cache) == 2


@pytest.mark.slow
async def test_rendering_does_not_block_polls(
    make_emulator: Callable[..., Emulator], mona_lisa: bytes, mushroom_uri: str
) -> None:
    emu = make_emulator(video_width=640, job_seconds=30, render_cache=None)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        created = []
        mona_lisa_uri = "data:image/jpeg;base64," + base64.b64encode(mona_lisa).decode()
        for image in (mona_lisa_uri, mushroom_uri):  # two slow renders
            body = {"model": MODEL, "image_url": image, "duration": 10}
            created.append((await http.post(PATHS["universal"], json=body)).json()["id"])
        slowest, began = 0.0, time.perf_counter()
        while emu.stats()["renders"]["rendered"] < 2:
            started = time.perf_counter()
            response = await http.get(PATHS["universal"], params={"generation_id": created[0]})
            slowest = max(slowest, time.perf_counter() - started)
            assert response.json()["status"] in ("queued", "generating")
            await asyncio.sleep(0.02)
        rendering = time.perf_counter() - began
    # A render on the server's loop would hold a poll for a whole render, half of this time.
    assert slowest < rendering / 6, f"a poll took {slowest:.2f} s of the renders' {rendering:.2f} s"


async def test_every_completed_video_decodes(
    emulator: Emulator, http: httpx.AsyncClient, mona_lisa: bytes
) -> None:
    data_uri = "data:image/jpeg;base64," + base64.b64encode(mona_lisa).decode()
    body = {"model": MODEL, "image_url": data_uri,
            "camera_control": {"type": "right_turn_forward"}}  # fmt: skip
    created = (await http.post(PATHS["legacy"], json=body)).json()
    final = (await poll(http, "legacy", created["id"]))[-1]
    info = probe((await http.get(final["video"]["url"])).content)
    assert (info.duration, info.frames, info.width, info.height) == (5.0, 120, 160, 90)
