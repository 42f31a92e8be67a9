"""download() saves only a real video: it asks for the stored bytes (``identity``), decodes a
whole body a host compressed anyway, refuses what it cannot decode, and refuses a body that is not
an MP4, leaving the paid generation listed as not downloaded so resume fetches it again."""

from __future__ import annotations

import gzip

import httpx
import pytest
from fakes import GEN_ID, MP4_HEAD, VIDEO_URL, gen_body

from kling_notebook import Generation, errors

VIDEO = MP4_HEAD + bytes(range(256)) * 600
DONE = Generation(id=GEN_ID, status="completed", video_url=VIDEO_URL)


def video_host(body: bytes, **headers: str) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A host that answers every request with ``body`` and ``headers``, recording the requests."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        sent = {"content-length": str(len(body)), **headers}
        return httpx.Response(200, headers=sent, stream=httpx.ByteStream(body))

    return httpx.MockTransport(answer), seen


async def test_asks_for_identity_also_when_resuming_with_range(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.faults[VIDEO_URL] = [("cut", 1 << 16)]
    async with fake_client() as client:
        await client.download(DONE, tmp_path / "v.mp4")
    asked = gateway.to_host("cdn.test")
    assert [r.headers.get("accept-encoding") for r in asked] == ["identity", "identity"]
    assert asked[1].headers["range"] == f"bytes={1 << 16}-"


async def test_a_body_compressed_anyway_is_saved_decoded(fake_client, tmp_path):
    transport, _ = video_host(gzip.compress(VIDEO), **{"content-encoding": "gzip"})
    async with fake_client(transport=transport) as client:
        path = await client.download(DONE, tmp_path / "v.mp4")
    assert path.read_bytes() == VIDEO


async def test_an_encoding_that_cannot_be_decoded_is_refused_at_once(fake_client, tmp_path):
    transport, seen = video_host(b"\x1f\x9d" + VIDEO, **{"content-encoding": "compress"})
    target = tmp_path / "v.mp4"
    async with fake_client(transport=transport) as client:
        with pytest.raises(errors.DownloadError, match="encoded as compress") as caught:
            await client.download(DONE, target)
    assert caught.value.generation_id == GEN_ID
    assert not target.exists() and not target.with_name("v.mp4.part").exists()
    assert len(seen) == 1


async def test_a_body_that_is_not_an_mp4_is_an_error_not_a_saved_video(fake_client, tmp_path):
    transport, seen = video_host(b"<!DOCTYPE html><p>Access denied</p>", **{"content-type": "text/html"})
    target = tmp_path / "v.mp4"
    async with fake_client(transport=transport) as client:
        with pytest.raises(errors.DownloadError, match="not an MP4") as caught:
            await client.download(DONE, target)
    assert "DOCTYPE" in caught.value.reason
    assert GEN_ID in caught.value.hint
    assert not target.exists() and not target.with_name("v.mp4.part").exists()
    assert len(seen) == 1


async def test_after_a_non_mp4_body_the_journal_still_lists_it_for_resume(gateway, fake_client, tmp_path, jpeg):
    gateway.serve(VIDEO_URL, b"<html>maintenance</html>", "text/html")
    gateway.post(gen_body("queued")).get(gen_body("completed"))
    async with fake_client() as client:
        with pytest.raises(errors.DownloadError):
            await client.generate(image=jpeg, out_dir=tmp_path)
        assert client.journal is not None
        entry = client.journal.get(GEN_ID)
        assert entry is not None and entry.status == "completed" and entry.path is None
        assert [e.generation_id for e in client.journal.unfinished()] == [GEN_ID]
        assert not list(tmp_path.glob("*.mp4"))

        gateway.serve(VIDEO_URL, VIDEO)  # the host recovers: downloading again saves it
        path = await client.download(DONE, tmp_path / "again.mp4")
        assert path.read_bytes() == VIDEO
        assert client.journal.unfinished() == []
