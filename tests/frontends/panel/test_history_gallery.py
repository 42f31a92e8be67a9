"""The history gallery and the CLI's view of the journal: rows for entries, every user string
escaped, first-frame thumbnails for saved videos, play / open / copy id / re-run, pages."""

from __future__ import annotations

import asyncio
import base64
import html
import re
import sys
from pathlib import Path

import pytest
from emulated import SMALL_VIDEO, TIME_SCALE, client_for

from kling_notebook import AsyncKlingClient, GenerationRequest, errors
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel._history import HistoryGallery
from kling_notebook.store.history import request_from_summary
from kling_notebook.store.journal import Journal
from kling_notebook.store.thumbnails import thumbnail, thumbnail_path

HOSTILE = '<img src=x onerror="alert(1)"> & <script>steal()</script>'


@pytest.fixture
def client_video(tmp_path: Path, image: Path) -> Path:
    """A real MP4 made by the emulator, downloaded by the client."""

    async def make() -> Path:
        with Emulator(time_scale=TIME_SCALE, video_width=SMALL_VIDEO) as emulator:
            async with client_for(emulator, tmp_path / "video") as client:
                return (await client.generate(image=image, prompt="thumb")).path

    return asyncio.run(make())


def card_html(gallery: HistoryGallery) -> str:
    return "".join(card.body.value for card in gallery.cards)


@pytest.mark.parametrize("emulator", [{"faults": "job#2:error"}], indirect=True)
async def test_the_gallery_shows_every_entry_escaped_with_thumbnails(
    client: AsyncKlingClient, emulator: Emulator, out_dir: Path, image: Path
) -> None:
    done = await client.generate(image=image, prompt=HOSTILE, duration=10)
    with pytest.raises(errors.GenerationFailedError):
        await client.generate(image=image, prompt="refused by moderation")
    pending = await client.submit(image=image, prompt="still running")
    rerun: list[GenerationRequest] = []

    gallery = HistoryGallery(out_dir, on_rerun=rerun.append)
    gallery.wait_thumbnails(timeout=30)

    newest, failed, completed = gallery.cards  # newest first
    assert newest.item.generation_id == pending.id and completed.item.generation_id == done.id
    assert completed.item.status == "completed"
    assert failed.item.status == "error" and newest.item.status in ("queued", "generating")
    html_text = card_html(gallery)
    assert html.escape(HOSTILE) in html_text and "<script>" not in html_text
    assert "<img src=x" not in html_text
    assert "user-select:all" in completed.body.value and done.id in completed.body.value
    (link,) = completed.link.outputs
    assert "Open file" in link["data"]["text/html"] and done.path.name in link["data"]["text/html"]
    assert "10 s" in completed.body.value and "4200 credits" in completed.body.value

    thumb = re.search(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", completed.body.value)
    assert thumb and base64.b64decode(thumb[1])[:2] == b"\xff\xd8"
    assert thumbnail_path(done.path).is_file()
    assert "no video yet" in newest.body.value and newest.play.disabled and failed.play.disabled
    assert newest.link.outputs == ()

    completed.play.click()
    (player,) = gallery.player.children
    assert "<video" in player.html and done.path.name in player.html
    completed.rerun.click()
    (request,) = rerun
    assert (request.prompt, request.duration, Path(request.image)) == (HOSTILE, 10, image)
    assert gallery.rerun_request == request


def test_pages_of_a_long_journal(tmp_path: Path) -> None:
    with Journal.in_dir(tmp_path) as journal:
        for number in range(30):
            row = journal.begin(
                {"prompt": f"entry {number}", "duration": 5},
                endpoint="universal",
                base_url="http://x",
            )
            journal.submitted(row, f"id-{number:02d}", "queued")
        refused = journal.begin({"prompt": "never sent"}, endpoint="universal", base_url="http://x")
        journal.not_submitted(refused, "HTTP 400")
        gallery = HistoryGallery(journal, page_size=24)
        assert len(gallery.cards) == 24 and gallery.cards[0].item.prompt == "entry 29"
        assert "30 generations" in gallery.header.value and "page 1 of 2" in gallery.header.value
        assert gallery.previous.disabled and not gallery.next.disabled
        gallery.next.click()
        assert [card.item.prompt for card in gallery.cards] == [
            f"entry {n}" for n in range(5, -1, -1)
        ]
        assert gallery.next.disabled and "page 2 of 2" in gallery.header.value
        gallery.wait_thumbnails(timeout=10)


def test_thumbnails_are_cached_and_optional(
    client_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = thumbnail(client_video)
    assert first is not None and first[:2] == b"\xff\xd8"
    cache = thumbnail_path(client_video)
    cache.write_bytes(b"cached")  # newer than the video: served as it is
    assert thumbnail(client_video) == b"cached"
    cache.unlink()
    monkeypatch.setitem(sys.modules, "av", None)  # PyAV not installed
    assert thumbnail(client_video) is None and not cache.exists()
    broken = client_video.with_name("broken.mp4")
    broken.write_bytes(b"not a video")
    monkeypatch.delitem(sys.modules, "av")
    assert thumbnail(broken) is None


def test_requests_are_rebuilt_from_summaries(image: Path) -> None:
    request = GenerationRequest(image=image, prompt="again", duration=10, negative_prompt="blur")
    rebuilt = request_from_summary(request.summary())
    assert rebuilt is not None
    assert (rebuilt.prompt, rebuilt.duration, rebuilt.negative_prompt) == ("again", 10, "blur")
    assert request_from_summary({}) is None  # an adopted id: nothing to rebuild
