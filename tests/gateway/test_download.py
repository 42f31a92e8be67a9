"""download(): the video streams to ``.part`` and only then takes its name; a mid-body failure
resumes with a Range request (or restarts when the server ignores Range); a short body is retried
and then a DownloadError; progress never goes backwards; the journal records the path."""

from __future__ import annotations

import pytest
from fakes import GEN_ID, MP4_HEAD, VIDEO_URL, gen_body

from kling_notebook import Generation, RetryPolicy, errors

VIDEO = MP4_HEAD + bytes(range(256)) * 1200  # 300 KiB, distinctive at every offset
CHUNK = 1 << 16  # the size of the fake network's pieces
DONE = Generation(id=GEN_ID, status="completed", video_url=VIDEO_URL)


def ranges(gateway) -> list[str | None]:
    return [r.headers.get("range") for r in gateway.to_host("cdn.test")]


async def test_streams_to_part_then_renames(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    target = tmp_path / "videos" / "out.mp4"
    partial = target.with_name("out.mp4.part")
    seen: list[tuple[bool, bool]] = []

    def on_progress(done, total):
        seen.append((partial.exists(), target.exists()))

    async with fake_client() as client:
        path = await client.download(DONE, target, on_progress=on_progress)
    assert path == target
    assert target.read_bytes() == VIDEO
    assert not partial.exists()
    assert seen and all(part and not final for part, final in seen)


async def test_progress_is_monotonic_and_ends_at_the_total(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    calls: list[tuple[int, int | None]] = []
    async with fake_client() as client:
        await client.download(DONE, tmp_path / "v.mp4", on_progress=lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(done) > 1
    assert calls[-1] == (len(VIDEO), len(VIDEO))


async def test_resumes_with_range_after_a_mid_body_failure(gateway, fake_client, clock, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.faults[VIDEO_URL] = [("cut", 2 * CHUNK)]
    calls: list[int] = []
    async with fake_client() as client:
        path = await client.download(DONE, tmp_path / "v.mp4", on_progress=lambda d, t: calls.append(d))
    assert path.read_bytes() == VIDEO
    assert ranges(gateway) == [None, f"bytes={2 * CHUNK}-"]
    assert calls == sorted(calls) and calls[-1] == len(VIDEO)
    assert len(clock.sleeps) == 1


async def test_restarts_when_the_server_ignores_range(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.honour_range = False
    gateway.faults[VIDEO_URL] = [("cut", 2 * CHUNK)]
    calls: list[int] = []
    async with fake_client() as client:
        path = await client.download(DONE, tmp_path / "v.mp4", on_progress=lambda d, t: calls.append(d))
    assert path.read_bytes() == VIDEO  # not the first part twice
    assert ranges(gateway) == [None, f"bytes={2 * CHUNK}-"]
    assert calls == sorted(calls), "progress must not jump back when the download restarts"
    assert calls[-1] == len(VIDEO)


async def test_several_interruptions_in_a_row(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.faults[VIDEO_URL] = [("cut", CHUNK), 503, ("cut", CHUNK + 5), ("cut", 10)]
    async with fake_client() as client:
        path = await client.download(DONE, tmp_path / "v.mp4")
    assert path.read_bytes() == VIDEO
    # every byte received reaches the disk before a failure, so each resume starts where the last cut
    resumed = [CHUNK, CHUNK, 2 * CHUNK + 5, 2 * CHUNK + 15]
    assert ranges(gateway) == [None, *(f"bytes={at}-" for at in resumed)]


async def test_short_body_is_retried_then_succeeds(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.faults[VIDEO_URL] = [("short", 1000)]
    async with fake_client() as client:
        path = await client.download(DONE, tmp_path / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert len(gateway.to_host("cdn.test")) == 2


async def test_size_mismatch_every_time_is_a_download_error(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.honour_range = False
    gateway.faults[VIDEO_URL] = [("short", 1000)] * 10
    target = tmp_path / "v.mp4"
    async with fake_client(retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(errors.DownloadError) as caught:
            await client.download(DONE, target)
    assert caught.value.generation_id == GEN_ID
    assert "1000 of" in str(caught.value)
    assert GEN_ID in caught.value.hint
    assert len(gateway.to_host("cdn.test")) == 3
    assert not target.exists()


async def test_expired_url_is_not_retried(gateway, fake_client, tmp_path):
    async with fake_client() as client:
        with pytest.raises(errors.DownloadError, match="404"):
            await client.download(DONE, tmp_path / "v.mp4")
    assert len(gateway.to_host("cdn.test")) == 1


async def test_persistent_server_errors_end_in_download_error(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.faults[VIDEO_URL] = [503] * 10
    async with fake_client(retry=RetryPolicy(max_attempts=4)) as client:
        with pytest.raises(errors.DownloadError):
            await client.download(DONE, tmp_path / "v.mp4")
    assert len(gateway.to_host("cdn.test")) == 4


async def test_no_video_url_is_missing_video(fake_client, no_network, tmp_path):
    async with fake_client(transport=no_network) as client:
        with pytest.raises(errors.MissingVideoError):
            await client.download(Generation(id=GEN_ID, status="completed"), tmp_path / "v.mp4")


async def test_a_stale_part_file_is_not_reused(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    target = tmp_path / "v.mp4"
    target.with_name("v.mp4.part").write_bytes(b"garbage from another video")
    async with fake_client() as client:
        await client.download(DONE, target)
    assert target.read_bytes() == VIDEO
    assert ranges(gateway) == [None]


async def test_journal_records_the_path(gateway, fake_client, tmp_path, jpeg):
    gateway.serve(VIDEO_URL, VIDEO).post(gen_body("queued")).get(gen_body("completed"))
    async with fake_client() as client:
        generation = await client.submit(image=jpeg)
        done = await client.wait(generation)
        path = await client.download(done, tmp_path / "saved" / "v.mp4")
        entry = client.journal.get(GEN_ID)
    assert entry is not None and entry.path == str(path)
    assert entry.needs_work is False


async def test_downloading_a_generation_the_journal_never_saw(gateway, fake_client, tmp_path):
    """Picked up by id elsewhere: the journal adopts it instead of failing after the save."""
    gateway.serve(VIDEO_URL, VIDEO)
    async with fake_client() as client:
        path = await client.download(DONE, tmp_path / "v.mp4")
        entry = client.journal.get(GEN_ID)
    assert path.read_bytes() == VIDEO
    assert entry is not None and entry.path == str(path) and entry.status == "completed"


@pytest.mark.parametrize("status", [403, 404, 410])
async def test_file_host_errors_do_not_read_like_gateway_errors(gateway, fake_client, tmp_path, status):
    """A 403 from the video host is an expired link, not an account out of credits (a fresh
    status read gives the same link here, so there is nothing else to try)."""
    gateway.serve(VIDEO_URL, VIDEO).get(gen_body("completed"))
    gateway.faults[VIDEO_URL] = [status]
    async with fake_client() as client:
        with pytest.raises(errors.DownloadError) as caught:
            await client.download(DONE, tmp_path / "v.mp4")
    text = str(caught.value)
    assert f"HTTP {status}" in text
    assert "credits" not in text and "generation id and that it was created" not in text
    assert text.count("Downloading the video") == 1
    assert len(gateway.to_host("cdn.test")) == 1
    assert len(gateway.status_reads) == (status == 403)


async def test_short_body_error_is_not_nested(gateway, fake_client, tmp_path):
    gateway.serve(VIDEO_URL, VIDEO)
    gateway.honour_range = False
    gateway.faults[VIDEO_URL] = [("short", 10)] * 5
    async with fake_client(retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(errors.DownloadError) as caught:
            await client.download(DONE, tmp_path / "v.mp4")
    text = str(caught.value)
    assert text.count("Downloading the video") == 1 and "got 10 of" in text
    assert "wait 'video'" not in text
