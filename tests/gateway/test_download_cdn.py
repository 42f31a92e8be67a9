"""Downloads from the emulator's CDN as it misbehaves on demand: a redirect loop is a typed error,
an expired signed link is replaced by a fresh status read, a URL that is not http(s) is never
fetched, progress reaches subscribers a few times a second, and a saved video never takes the
place of another generation's file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulated import client_for
from fakes import GEN_ID, MP4_HEAD, VIDEO_URL, gen_body

from kling_notebook import AsyncKlingClient, Generation, errors
from kling_notebook.emulator import Emulator
from kling_notebook.store.mp4 import require_mp4


async def finished(client: AsyncKlingClient, emulator: Emulator, image: Path, prompt: str = "a") -> Generation:
    """A completed generation with its video URL, not downloaded yet."""
    generation = await client.submit(image=image, prompt=prompt)
    emulator.complete_all_now()
    return await client.wait(generation)


def cdn_requests(emulator: Emulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for route, outcomes in emulator.stats()["requests"].items():
        if route.startswith(("GET /cdn", "GET /bs2")):
            for outcome, count in outcomes.items():
                counts[outcome] = counts.get(outcome, 0) + count
    return counts


async def test_a_redirect_loop_is_a_download_error_and_stays_resumable(make_emulator, out_dir, image):
    emulator = make_emulator(faults="download:redirect_loop=1")
    async with client_for(emulator, out_dir) as client:
        done = await finished(client, emulator, image)
        with pytest.raises(errors.DownloadError, match="redirects in a loop") as caught:
            await client.download(done, out_dir / "v.mp4")
        assert caught.value.generation_id == done.id and done.id in caught.value.hint
        assert client.journal is not None
        assert [e.generation_id for e in client.journal.unfinished()] == [done.id]
    assert not list(out_dir.glob("*.mp4"))


async def test_an_expired_signed_link_is_replaced_by_a_fresh_status_read(make_emulator, out_dir, image):
    """The reply's link expires (403 from the CDN); a free status read signs a new one."""
    emulator = make_emulator(replies="url_signed,ttl=60")
    async with client_for(emulator, out_dir) as client:
        done = await finished(client, emulator, image)
        emulator.advance(120)  # the link in ``done`` has expired
        reads = emulator.stats()["requests"]["GET /v2/video/generations"]["200"]
        path = await client.download(done, out_dir / "v.mp4")
        entry = client.journal.get(done.id) if client.journal else None
    require_mp4(path)
    assert path.stat().st_size == done.file_size
    assert cdn_requests(emulator) == {"403": 1, "200": 1}
    assert emulator.stats()["requests"]["GET /v2/video/generations"]["200"] == reads + 1
    assert entry is not None and entry.video_url != done.video_url  # the journal has the new link
    assert "x-signature" in (entry.video_url or "")


async def test_a_link_refused_again_after_fresh_ones_ends_in_a_download_error(gateway, fake_client, tmp_path):
    """A host refusing every link the gateway signs: refreshed a bounded number of times (each a
    free status read), then a typed error."""
    signed = iter(range(1, 100))
    gateway.serve(VIDEO_URL, MP4_HEAD).get(lambda _: gen_body("completed", url=f"{VIDEO_URL}?sig={next(signed)}"))
    gateway.faults[VIDEO_URL] = [403] * 10
    done = Generation(id=GEN_ID, status="completed", video_url=f"{VIDEO_URL}?sig=0")
    async with fake_client() as client:
        with pytest.raises(errors.DownloadError, match="refused the link"):
            await client.download(done, tmp_path / "v.mp4")
    assert len(gateway.to_host("cdn.test")) == 3 and len(gateway.status_reads) == 2


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "data:video/mp4;base64,AAAA", "//cdn.test/x.mp4", 42]
)
async def test_a_video_url_that_is_not_http_is_never_fetched(fake_client, no_network, tmp_path, url: Any):
    done = Generation(id="gen-1", status="completed", video_url=url)
    async with fake_client(transport=no_network, journal=False) as client:
        with pytest.raises(errors.DownloadError, match="not an http"):
            await client.download(done, tmp_path / "v.mp4")
    assert not list(tmp_path.glob("*.mp4*"))


async def test_progress_reaches_subscribers_a_few_times_a_second(make_emulator, out_dir, image):
    """A CDN sending a byte at a time: the pipeline's subscribers get a handful of progress
    events, not one per byte, and the last one has the whole size."""
    emulator = make_emulator(faults="download:trickle=1,byte_delay=0")
    events: list[Any] = []
    async with client_for(emulator, out_dir) as client:
        started = time.monotonic()
        result = await client.generate(image=image, prompt="slow cdn", on_event=events.append, timeout=60)
        elapsed = time.monotonic() - started
    downloading = [e for e in events if e.phase == "downloading"]
    assert downloading[-1].bytes_done == result.generation.file_size == result.path.stat().st_size
    assert len(downloading) <= elapsed / 0.25 + 3, (len(downloading), elapsed)
    assert emulator.stats()["faults"] == {"download:trickle": 1}


async def test_a_file_of_another_generation_is_never_replaced(client, emulator, out_dir, image):
    """Two generations asked to save under one name: the second takes a numbered name beside
    the first, which keeps its bytes; each journal row names its own file."""
    first = await finished(client, emulator, image, "first")
    second = await finished(client, emulator, image, "second")
    target = out_dir / "same.mp4"
    saved_first = await client.download(first, target)
    target.with_suffix(".json").write_text(json.dumps({"id": first.id}))  # the pipeline's sidecar
    kept = saved_first.read_bytes()

    saved_second = await client.download(second, target)
    assert saved_first == target and saved_second == out_dir / "same-2.mp4"
    assert target.read_bytes() == kept
    assert client.journal is not None
    rows = {client.journal.get(g.id).path for g in (first, second)}  # type: ignore[union-attr]
    assert rows == {str(target), str(saved_second)}


async def test_a_users_own_file_is_never_replaced(client, emulator, out_dir, image):
    done = await finished(client, emulator, image)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "v.mp4").write_bytes(b"my holiday video")
    path = await client.download(done, out_dir / "v.mp4")
    assert path == out_dir / "v-2.mp4"
    assert (out_dir / "v.mp4").read_bytes() == b"my holiday video"


async def test_downloading_a_generation_again_replaces_its_own_file(client, emulator, out_dir, image):
    done = await finished(client, emulator, image)
    first = await client.download(done, out_dir / "v.mp4")
    again = await client.download(done, out_dir / "v.mp4")
    assert first == again == out_dir / "v.mp4"
    assert sorted(p.name for p in out_dir.glob("*.mp4")) == ["v.mp4"]


@pytest.mark.parametrize("shape", ["url_query", "url_signed", "url_kling"])
async def test_the_file_name_never_takes_the_urls_query(make_emulator, out_dir, image, shape):
    emulator = make_emulator(replies=shape)
    async with client_for(emulator, out_dir) as client:
        result = await client.generate(image=image, prompt="a query", timeout=60)
    assert result.generation.video_url and "?" in result.generation.video_url or shape == "url_kling"
    name = result.path.name
    assert name.endswith(".mp4") and "?" not in name and "cachekey" not in name.lower()
    assert "signature" not in name and "output" not in name
    async with httpx.AsyncClient() as http:  # the saved bytes are the CDN's object
        assert result.path.read_bytes() == (await http.get(result.generation.video_url)).content
