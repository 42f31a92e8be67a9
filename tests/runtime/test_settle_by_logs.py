"""An uncertain submission is settled by asking the gateway: every create carries a fresh
X-Client-Request-Id (journalled first), and resume looks it up in the gateway's usage logs. Found,
it becomes an unfinished generation that is waited for and saved; not listed once the logs reach
past it, it is recorded as not created; the user is asked only when the logs cannot tell."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulated import client_for, posts

from kling_notebook import errors
from kling_notebook.emulator import Emulator
from kling_notebook.runtime.resume import resume_async
from kling_notebook.store.journal import COMPLETED, NOT_CREATED


async def test_a_lost_answer_is_found_in_the_logs_and_its_video_saved(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    emulator.set_faults("post#1:reset_after")  # created on the server, the answer lost
    async with client_for(emulator, out_dir) as client:
        with pytest.raises(errors.SubmissionUncertainError):
            await client.submit(image=image, prompt="did it go through?")
        (entry,) = client.journal.uncertain_entries()
        (created,) = emulator.stats()["created"]
        assert entry.client_request_id and emulator.generations()[created]["client_request_id"] == entry.client_request_id
        emulator.complete_all_now()
        report = await resume_async(client)
        saved = client.journal.get(created)
    (settled,) = report.settled
    assert (settled.verdict, settled.detail) == ("found", created)
    assert [r.id for r in report.recovered] == [created] and report.recovered[0].path.is_file()
    assert report.uncertain == () and report.ok
    assert saved is not None and saved.row == entry.row and saved.status == COMPLETED
    assert posts(emulator) == {"reset": 1}  # never sent again


async def test_an_attempt_the_logs_reach_past_without_listing_it_created_nothing(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    emulator.set_faults("post#1:503")  # refused in front of the gateway: it never got there
    async with client_for(emulator, out_dir) as client:
        with pytest.raises(errors.SubmissionUncertainError):
            await client.submit(image=image, prompt="refused by a proxy")
        (entry,) = client.journal.uncertain_entries()
        await client.submit(image=image, prompt="a later request the logs list")
        report = await resume_async(client)
        settled_row = client.journal.get_row(entry.row)
    (settled,) = report.settled
    assert settled.verdict == "not_created" and "created nothing" in str(settled)
    assert settled_row is not None and settled_row.status == NOT_CREATED and report.uncertain == ()


@pytest.mark.parametrize("emulator", [{"logs_lag": 3600}], indirect=True)
async def test_logs_that_have_not_caught_up_leave_the_question_to_the_user(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    emulator.set_faults("post#1:reset_after")
    async with client_for(emulator, out_dir) as client:
        with pytest.raises(errors.SubmissionUncertainError):
            await client.submit(image=image, prompt="too fresh for the logs")
        report = await resume_async(client)
    (settled,) = report.settled
    assert settled.verdict == "unknown" and "caught up" in settled.detail
    (uncertain,) = report.uncertain
    assert "kling-notebook settle" in uncertain.advice


async def test_unreadable_logs_leave_the_question_to_the_user(
    emulator: Emulator, out_dir: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.set_faults("post#1:reset_after")
    async with client_for(emulator, out_dir) as client:
        with pytest.raises(errors.SubmissionUncertainError):
            await client.submit(image=image, prompt="logs unreachable")

        async def unreachable(*args: object, **kwargs: object) -> None:
            raise errors.APIConnectionError("Could not talk to the gateway (ConnectError).")

        monkeypatch.setattr(client, "sightings", unreachable)
        report = await resume_async(client)
    (settled,) = report.settled
    assert settled.verdict == "unknown" and "Could not talk" in settled.detail
    assert len(report.uncertain) == 1 and posts(emulator) == {"reset": 1}
