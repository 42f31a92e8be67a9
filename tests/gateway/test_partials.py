"""Partial downloads (``.part``): a download that failed for good is continued by resume with a
Range request; a partial nobody will finish (saved, or its emulator gone) is deleted; a partial a
live download holds is neither taken over nor deleted; kept bytes that do not fit start over."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from child_generate import VideoBodies
from emulated import TIME_SCALE, client_for

from kling_notebook import AsyncKlingClient, Generation, RetryPolicy, errors
from kling_notebook.emulator import Emulator
from kling_notebook.runtime.resume import resume_async
from kling_notebook.store.journal import Journal
from kling_notebook.store.partials import Validator, remove_abandoned, started, write_validator

NO_RETRIES = RetryPolicy(max_attempts=1, base_delay=0.01)
KEEP = 1 << 16  # bytes of a video that reach the disk before the connection breaks
#: Clips this wide are several times KEEP.
WIDE = {"video_width": 640}


class _CutBody(httpx.AsyncByteStream):
    """The first KEEP bytes of a video body, then a broken connection."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self.inner:
            if sent + len(chunk) >= KEEP:
                yield chunk[: KEEP - sent]
                raise httpx.ReadError("connection lost mid-video")
            sent += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


def cutting_client(emulator: Emulator, out_dir: Path) -> AsyncKlingClient:
    """A client that tries each download once, over a connection that breaks after KEEP bytes."""
    return client_for(emulator, out_dir, retry=NO_RETRIES, transport=VideoBodies(_CutBody))


async def completed(client: AsyncKlingClient, emulator: Emulator, image: Path) -> Generation:
    """A finished generation with its video URL, not downloaded yet."""
    generation = await client.submit(image=image, prompt="finished")
    emulator.complete_all_now()
    done = await client.wait(generation)
    assert done.file_size is not None and client.journal is not None
    return done


async def cut_short(client: AsyncKlingClient, image: Path) -> tuple[str, Path]:
    """A generation whose only download attempt failed; returns its id and the partial left."""
    with pytest.raises(errors.DownloadError) as failed:
        await client.generate(image=image, prompt="cut short", timeout=60)
    generation_id = failed.value.generation_id
    (partial,) = client.out_dir.glob("*.mp4.part")
    assert client.journal is not None
    entry = client.journal.get(generation_id)
    assert entry is not None and entry.partial == str(partial) and entry.path is None
    assert partial.stat().st_size == KEEP
    return generation_id, partial


def cdn(emulator: Emulator) -> tuple[dict[str, int], int]:
    stats = emulator.stats()
    return stats["requests"].get("GET /cdn", {}), stats["downloads"]["bytes"]


@pytest.mark.parametrize("emulator", [WIDE], indirect=True)
async def test_resume_continues_a_download_that_failed_for_good(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    async with cutting_client(emulator, out_dir) as client:
        generation_id, _ = await cut_short(client, image)
    requests_before, bytes_before = cdn(emulator)

    async with client_for(emulator, out_dir) as client:
        report = await resume_async(client, timeout=60)
        (result,) = report.recovered
        size = (await client.get(generation_id)).file_size
    requests_after, bytes_after = cdn(emulator)
    assert result.path.stat().st_size == size
    assert requests_after.get("206", 0) == requests_before.get("206", 0) + 1
    assert bytes_after - bytes_before == size - KEEP  # only the missing bytes were sent
    assert not list(out_dir.glob("*.part"))
    with Journal.in_dir(out_dir) as journal:
        assert journal.with_partial() == [] and journal.unfinished() == []


async def test_partials_nobody_will_finish_are_deleted(out_dir: Path, image: Path) -> None:
    with Emulator(time_scale=TIME_SCALE, **WIDE) as gone:
        async with cutting_client(gone, out_dir) as client:
            _, demo_partial = await cut_short(client, image)
        async with client_for(gone, out_dir) as client:
            saved = await client.generate(image=image, prompt="saved", timeout=60)
    stray = out_dir / "stray.mp4.part"  # say a second download of it died
    stray.write_bytes(b"half a video")
    with Journal.in_dir(out_dir) as journal:
        journal.record_partial(saved.id, stray)

    report = await resume_async(out_dir=out_dir)  # the demo emulator is gone with its videos
    assert [failure.entry.generation_id for failure in report.not_resumable] != []
    assert not demo_partial.exists() and not stray.exists()
    with Journal.in_dir(out_dir) as journal:
        assert journal.with_partial() == []


async def test_a_live_download_is_neither_taken_over_nor_deleted(
    client: AsyncKlingClient, emulator: Emulator, out_dir: Path, image: Path
) -> None:
    done = await completed(client, emulator, image)
    live = out_dir / "live.mp4.part"
    assert client.journal is not None
    held = started(done.id, live)  # another task of this process is writing it
    try:
        live.write_bytes(b"live bytes")
        client.journal.record_partial(done.id, live)
        path = await client.download(done, out_dir / "second.mp4")
        assert remove_abandoned(client.journal) == []  # saved now, but the live partial stays
        with pytest.raises(errors.DownloadError, match="another download is writing"):
            await client.download(done, out_dir / "live.mp4")
    finally:
        os.close(held)
    assert live.read_bytes() == b"live bytes"
    assert path.stat().st_size == done.file_size
    assert emulator.stats()["requests"]["GET /cdn"] == {"200": 1}  # whole, not continued
    assert remove_abandoned(client.journal) == [] and live.exists()  # downloaded() forgot it
    client.journal.record_partial(done.id, live)
    assert remove_abandoned(client.journal) == [live] and not live.exists()  # released: deleted


async def test_kept_bytes_that_do_not_fit_start_over(
    client: AsyncKlingClient, emulator: Emulator, out_dir: Path, image: Path
) -> None:
    done = await completed(client, emulator, image)
    assert done.file_size is not None and done.video_url is not None and client.journal is not None
    target = out_dir / "v.mp4"
    earlier = out_dir / "earlier.mp4.part"
    earlier.write_bytes(b"x" * (done.file_size + 10))
    async with httpx.AsyncClient() as http:  # the bytes claim to be of the object served now
        etag = (await http.head(done.video_url)).headers["etag"]
    write_validator(earlier, Validator(etag=etag, total=done.file_size))
    client.journal.record_partial(done.id, earlier)

    path = await client.download(done, target)
    assert path.stat().st_size == done.file_size and path.read_bytes()[4:8] == b"ftyp"
    assert emulator.stats()["requests"]["GET /cdn"] == {"416": 1, "200": 1}
    assert not earlier.exists() and not list(out_dir.glob("*.part*"))


async def test_kept_bytes_of_unknown_origin_are_not_continued(
    client: AsyncKlingClient, emulator: Emulator, out_dir: Path, image: Path
) -> None:
    """No record of which object the bytes came from: a Range could splice two files, so the
    download starts over without asking for one."""
    done = await completed(client, emulator, image)
    assert done.file_size is not None and client.journal is not None
    earlier = out_dir / "earlier.mp4.part"
    earlier.write_bytes(b"\0" * (done.file_size // 2))
    client.journal.record_partial(done.id, earlier)

    path = await client.download(done, out_dir / "v.mp4")
    assert path.stat().st_size == done.file_size
    assert emulator.stats()["requests"]["GET /cdn"] == {"200": 1}


async def test_a_partial_exists_only_once_the_journal_names_it(
    client: AsyncKlingClient, emulator: Emulator, out_dir: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed between creating a ``.part`` and recording it would leave a file that no
    resume continues or deletes: the journal names the partial first."""
    done = await completed(client, emulator, image)

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the process stops here, as a kill would

    monkeypatch.setattr(Journal, "record_partial", killed)
    with pytest.raises(KeyboardInterrupt):
        await client.download(done, out_dir / "v.mp4")
    assert list(out_dir.glob("*.part")) == []


@pytest.mark.parametrize("emulator", [WIDE], indirect=True)
async def test_an_earlier_partial_is_continued_where_it_lies(
    emulator: Emulator, out_dir: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes of a download that died stay in their file, which the next download continues
    and then names as the video: no rename that a kill could leave unrecorded."""
    async with cutting_client(emulator, out_dir) as client:
        cut_id, earlier = await cut_short(client, image)
    recorded: list[Path | None] = []
    original = Journal.record_partial

    def spy(journal: Journal, generation_id: str, partial: Path | None) -> None:
        recorded.append(partial)
        original(journal, generation_id, partial)

    monkeypatch.setattr(Journal, "record_partial", spy)
    requests_before, _ = cdn(emulator)
    async with client_for(emulator, out_dir) as client:
        found = await client.get(cut_id)
        path = await client.download(found, out_dir / "again.mp4")
    assert recorded == [] and not earlier.exists()
    assert path.stat().st_size == found.file_size
    assert cdn(emulator)[0].get("206", 0) == requests_before.get("206", 0) + 1
