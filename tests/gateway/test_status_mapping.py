"""Every wording of the end of a generation ends the wait: ``failed`` or any status carrying an
error and no video is a failure, ``complete``/``completed``/``succeeded`` with a video URL is a
completion, and the journal files both under its own final statuses (so resume neither waits for a
failed one nor downloads a finished one again)."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import GEN_ID, MP4_HEAD, VIDEO_URL

from kling_notebook import errors
from kling_notebook.gateway.replies import generation_from
from kling_notebook.store.journal import COMPLETED, FAILED

FAILURE = {"name": "ModerationError", "message": "image violates the content policy"}


def body(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": GEN_ID, "status": status, **fields}


@pytest.mark.parametrize("status", ["failed", "error", "cancelled", "generating"])
async def test_an_error_without_a_video_is_a_failure_at_once(gateway, fake_client, clock, jpeg, status):
    gateway.post(body("queued")).get(body("generating"), body(status, error=FAILURE))
    async with fake_client() as client:
        await client.submit(image=jpeg)
        start = clock.now()
        with pytest.raises(errors.GenerationFailedError) as caught:
            await client.wait(GEN_ID)
        entry = client.journal.get(GEN_ID)
        pending = client.journal.unfinished()
    assert caught.value.name == "ModerationError" and "content policy" in str(caught.value)
    assert clock.now() - start < 120, "a failure must not wait for the deadline"
    assert len(gateway.status_reads) == 2
    assert entry is not None and entry.status in FAILED and entry.error
    assert pending == []


@pytest.mark.parametrize("status", ["complete", "completed", "succeeded", "COMPLETE"])
async def test_every_completion_wording_with_a_url_completes(gateway, fake_client, clock, jpeg, tmp_path, status):
    gateway.serve(VIDEO_URL, MP4_HEAD + b"frames" * 100)
    gateway.post(body("queued")).get(body(status, video={"url": VIDEO_URL}))
    async with fake_client() as client:
        await client.submit(image=jpeg)
        done = await client.wait(GEN_ID)
        assert done.is_completed and done.video_url == VIDEO_URL
        await client.download(done, tmp_path / "v.mp4")
        entry = client.journal.get(GEN_ID)
        pending = client.journal.unfinished()
    assert entry is not None and entry.status == COMPLETED
    assert pending == [], "a saved video must not be listed for resume again"
    assert len(gateway.status_reads) == 1


def test_the_gateways_own_word_is_kept_in_raw():
    found = generation_from(body("succeeded", video={"url": VIDEO_URL}))
    assert found.status == "completed" and found.raw["status"] == "succeeded"
    failed = generation_from(body("generating", error={"message": "quota"}))
    assert failed.is_failed and not failed.is_running and failed.raw["status"] == "generating"


@pytest.mark.parametrize("error", [None, {}, {"name": None, "message": ""}, ""])
def test_an_empty_error_field_is_not_a_failure(error):
    found = generation_from(body("generating", error=error))
    assert found.status == "generating" and found.is_running and not found.is_failed


def test_a_video_with_an_error_note_is_still_a_completion():
    found = generation_from(body("completed", video={"url": VIDEO_URL}, error={"message": "upscaler skipped"}))
    assert found.is_completed and not found.is_failed
