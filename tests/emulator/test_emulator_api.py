"""Both endpoint pairs against their published schemas, in every status; the seed's own flow."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from kling_notebook.emulator import CREDITS_PER_SECOND, Emulator

from ._support import MODEL, PATHS, ManualClock, check_schema, poll, probe

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
                r":kling-video/v2\.1/master/image-to-video")  # fmt: skip
DOCUMENTED = {5: (5.0, 6.0), 10: (11.0, 14.0)}  # 5-6 and 11-14 minutes, divided by 60


async def test_seed_example_flow(make_emulator: Callable[..., Emulator], mushroom_b64: str) -> None:
    """The gateway docs' own example: legacy path, ``"duration": "5"`` as a string, polling with
    the query parameter until the status leaves waiting/active/queued/generating."""
    emu = make_emulator(job_seconds=1.0, video_width=640)
    base_url = f"{emu.base_url}/v2"
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    data = {
        "model": MODEL,
        "prompt": "Mona Lisa puts on glasses with her hands.",
        "image_url": mushroom_b64,
        "duration": "5",
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{base_url}/generate/video/kling/generation", json=data,
                                   headers=headers)  # fmt: skip
        assert response.status_code < 400, response.text
        gen_id = check_schema("legacy", "post", response.json())["id"]
        assert ID.fullmatch(gen_id)
        statuses = []
        for _ in range(200):
            fetched = await http.get(
                f"{base_url}/generate/video/kling/generation",
                params={"generation_id": gen_id},
                headers={**headers, "Content-Type": "application/json"},
            )
            result = check_schema("legacy", "get", fetched.json())
            statuses.append(result["status"])
            if result["status"] not in ("waiting", "active", "queued", "generating"):
                break
            await asyncio.sleep(0.1)
        assert statuses[0] == "queued" and "generating" in statuses
        assert statuses[-1] == "completed"
        video = result["video"]
        assert video["url"].startswith(emu.base_url + "/cdn/")
        assert (video["content_type"], video["file_name"]) == ("video/mp4", "output.mp4")
        assert (result["duration"], video["duration"]) == (5, 5)
        download = await http.get(video["url"])
    assert download.status_code == 200
    assert len(download.content) == video["file_size"]
    info = probe(download.content)
    assert (info.codec, info.pix_fmt, info.fps) == ("h264", "yuv420p", 24.0)
    assert (info.duration, info.frames) == (5.0, 120)
    assert (info.width, info.height) == (640, 854)  # the mushroom is 576x768
    assert emu.stats()["created"] == [gen_id]


@pytest.mark.parametrize("flavor", ["universal", "legacy"])
@pytest.mark.parametrize("duration", [5, 10])
async def test_every_status_matches_the_schema(
    make_emulator: Callable[..., Emulator], mushroom_uri: str, flavor: str, duration: int
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, job_seconds=None, time_scale=60, render_cache=None)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        body = {"model": MODEL, "image_url": mushroom_uri, "duration": duration}
        created = check_schema(flavor, "post", (await http.post(PATHS[flavor], json=body)).json())
        usage_key = "credits_used" if flavor == "universal" else "tokens_used"
        assert created["meta"]["usage"] == {usage_key: CREDITS_PER_SECOND * duration}
        assert created["status"] == "queued"

        async def status_at(seconds: float) -> dict:
            clock.now = 1000.0 + seconds
            response = await http.get(PATHS[flavor], params={"generation_id": created["id"]})
            return check_schema(flavor, "get", response.json())

        shortest, longest = DOCUMENTED[duration]  # at time_scale 60: minutes become seconds
        assert (await status_at(0.099 * shortest))["status"] == "queued"
        assert (await status_at(0.101 * longest))["status"] == "generating"
        while emu.stats()["renders"]["rendered"] == 0:  # completion waits for the clip
            await asyncio.sleep(0.05)
        assert (await status_at(0.999 * shortest))["status"] == "generating"
        done = await status_at(1.001 * longest)
        info = probe((await http.get(done["video"]["url"])).content)
    assert (info.codec, info.pix_fmt, info.fps) == ("h264", "yuv420p", 24.0)
    assert (info.duration, info.frames) == (float(duration), duration * 24)
    assert done["status"] == "completed"
    assert done["meta"]["usage"] == {usage_key: CREDITS_PER_SECOND * duration}
    assert (flavor == "legacy") == ("duration" in done) == ("duration" in done["video"])
    if flavor == "legacy":
        assert done["duration"] == done["video"]["duration"] == duration


@pytest.mark.parametrize("flavor", ["universal", "legacy"])
@pytest.mark.parametrize("fault", ["job#1:error", "job#1:no_video"])
async def test_failed_and_videoless_generations_match_the_schema(
    make_emulator: Callable[..., Emulator], mushroom_uri: str, flavor: str, fault: str
) -> None:
    emu = make_emulator(faults=fault)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        body = {"model": MODEL, "image_url": mushroom_uri}
        created = (await http.post(PATHS[flavor], json=body)).json()
        final = (await poll(http, flavor, created["id"]))[-1]
    if fault.endswith("error"):
        assert final["status"] == "error"
        assert final["error"]["name"] == "ModerationError" and final["error"]["message"]
        assert "video" not in final
    else:
        assert final["status"] == "completed" and final["video"] is None


async def test_ids_with_colon_and_slash_are_decoded_from_the_query(
    emulator: Emulator, http: httpx.AsyncClient, mushroom_uri: str
) -> None:
    body = {"model": MODEL, "image_url": mushroom_uri}
    gen_id = (await http.post(PATHS["universal"], json=body)).json()["id"]
    for raw in (quote(gen_id, safe=""), gen_id):  # encoded, and sent as is
        response = await http.get(f"{PATHS['universal']}?generation_id={raw}")
        assert response.status_code == 200 and response.json()["id"] == gen_id
    # the pairs share one store: a generation made on one pair is visible on the other
    other = await http.get(PATHS["legacy"], params={"generation_id": gen_id})
    assert check_schema("legacy", "get", other.json())["id"] == gen_id


async def test_url_input_is_fetched_and_animated(
    emulator: Emulator,
    http: httpx.AsyncClient,
    image_server: Callable[[bytes], str],
    mona_lisa: bytes,
) -> None:
    url = image_server(mona_lisa)
    body = {"model": MODEL, "image_url": url, "duration": 10}
    created = (await http.post(PATHS["universal"], json=body)).json()
    final = (await poll(http, "universal", created["id"]))[-1]
    assert final["status"] == "completed", final
    info = probe((await http.get(final["video"]["url"])).content)
    assert (info.duration, info.frames, info.fps) == (10.0, 240, 24.0)
    assert (info.width, info.height) == (160, 90)  # 1024x576 at the test width
    assert emulator.generations()[created["id"]]["image"] == "url"
