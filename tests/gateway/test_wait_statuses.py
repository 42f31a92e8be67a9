"""wait() and every status: running statuses keep polling, terminal ones end the wait correctly,
unknown ones are tolerated with one warning, and every wait has a deadline that fits the video."""

from __future__ import annotations

import logging

import pytest
from fakes import GEN_ID, VIDEO_URL, gen_body

from kling_notebook import Generation, PollPolicy, errors


@pytest.mark.parametrize("running", ["queued", "generating", "waiting", "active"])
async def test_running_statuses_keep_polling_until_completed(gateway, fake_client, running):
    gateway.get(gen_body(running), gen_body(running), gen_body(running), gen_body("completed"))
    async with fake_client() as client:
        done = await client.wait(GEN_ID)
    assert done.status == "completed"
    assert done.video_url == VIDEO_URL
    assert len(gateway.status_reads) == 4


async def test_completed_returns_generation_with_url_and_credits(gateway, fake_client):
    gateway.get(gen_body("completed", credits=84))
    async with fake_client() as client:
        done = await client.wait(Generation(id=GEN_ID, status="queued"))
    assert done.id == GEN_ID
    assert done.video_url == VIDEO_URL
    assert done.credits_used == 84.0


async def test_error_status_raises_generation_failed_with_name_message_and_id(gateway, fake_client):
    failure = {"name": "ModerationError", "message": "image violates the content policy"}
    gateway.get(gen_body("generating"), gen_body("error", error=failure))
    async with fake_client() as client:
        with pytest.raises(errors.GenerationFailedError) as caught:
            await client.wait(GEN_ID)
    exc = caught.value
    assert exc.generation_id == GEN_ID
    assert exc.name == "ModerationError"
    assert exc.detail == "image violates the content policy"
    assert "ModerationError" in str(exc) and "content policy" in str(exc) and GEN_ID in str(exc)
    assert exc.hint and "try again" in exc.hint
    assert len(gateway.status_reads) == 2


async def test_completed_without_video_url_is_missing_video_not_success(gateway, fake_client):
    gateway.get(gen_body("completed", url=None))
    async with fake_client() as client:
        with pytest.raises(errors.MissingVideoError) as caught:
            await client.wait(GEN_ID)
    assert caught.value.generation_id == GEN_ID
    assert isinstance(caught.value, errors.GenerationFailedError)
    assert "no video URL" in str(caught.value)


async def test_unknown_status_is_running_with_one_warning_until_the_deadline(
    gateway, fake_client, clock, caplog
):
    gateway.get(gen_body("rendering"))
    caplog.set_level(logging.WARNING, logger="kling_notebook")
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError) as caught:
            await client.wait(GEN_ID, timeout=600)
    assert caught.value.last_status == "rendering"
    assert clock.now() - start >= 600
    assert len(gateway.status_reads) > 5
    warnings = [r for r in caplog.records if "unknown status" in r.getMessage()]
    assert len(warnings) == 1
    assert "rendering" in warnings[0].getMessage()


async def test_unknown_status_then_completed_returns(gateway, fake_client):
    gateway.get(gen_body("post-processing"), gen_body("completed"))
    async with fake_client() as client:
        assert (await client.wait(GEN_ID)).is_completed


async def test_on_update_is_called_once_per_poll(gateway, fake_client):
    statuses = ["queued", "generating", "generating", "completed"]
    gateway.get(*(gen_body(s) for s in statuses))
    seen: list[str] = []
    async with fake_client() as client:
        await client.wait(GEN_ID, on_update=lambda g: seen.append(g.status))
    assert seen == statuses


async def test_wait_timeout_carries_id_last_status_and_how_to_resume(gateway, fake_client):
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        with pytest.raises(errors.WaitTimeoutError) as caught:
            await client.wait(GEN_ID, timeout=120)
    exc = caught.value
    assert exc.generation_id == GEN_ID
    assert exc.last_status == "generating"
    assert exc.waited >= 120
    assert "wait" in exc.hint and GEN_ID in exc.hint and "Do not submit again" in exc.hint


async def test_default_deadline_is_15_minutes_for_a_5s_video(gateway, fake_client, clock):
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(GEN_ID)
    assert clock.now() - start == pytest.approx(900, abs=1)


async def test_default_deadline_is_30_minutes_for_a_10s_video_never_1000s(gateway, fake_client, clock):
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(GEN_ID, duration=10)
    waited = clock.now() - start
    assert waited == pytest.approx(1800, abs=1)
    assert waited > 1000 and PollPolicy().window(10)[1] < waited


async def test_default_deadline_scales_with_time_scale(gateway, fake_client, clock):
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(GEN_ID, duration=10, poll=PollPolicy(time_scale=60))
    assert clock.now() - start == pytest.approx(1800 / 60, abs=0.1)


async def test_bare_id_uses_the_duration_this_client_submitted(gateway, fake_client, clock, jpeg):
    gateway.post(gen_body("queued")).get(gen_body("generating"))
    async with fake_client() as client:
        generation = await client.submit(image=jpeg, duration=10)
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(generation.id)  # a bare id: the client remembers it was 10 s
    assert clock.now() - start == pytest.approx(1800, abs=1)


async def test_unknown_bare_id_uses_5s_schedule_unless_duration_given(gateway, fake_client, clock):
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait("someone-elses-id:kling-video/v2.1/master/image-to-video")
        five = clock.now() - start
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait("someone-elses-id:kling-video/v2.1/master/image-to-video", duration=10)
        ten = clock.now() - start
    assert five == pytest.approx(900, abs=1)
    assert ten == pytest.approx(1800, abs=1)


async def test_wait_schedule_follows_the_poll_policy(gateway, fake_client, clock):
    """The sleeps between polls are the policy's: a first look, then sparse, then dense."""
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(GEN_ID, timeout=340)
    assert clock.sleeps[0] == pytest.approx(15)
    assert max(clock.sleeps) <= 75
    assert clock.sleeps[-2] == pytest.approx(2)  # dense inside the 300-360 s window


async def test_get_returns_the_current_state_without_waiting(gateway, fake_client, clock):
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        found = await client.get(GEN_ID)
    assert found.status == "generating" and found.is_running
    assert clock.sleeps == []
    assert len(gateway.status_reads) == 1


async def test_status_is_recorded_in_the_journal(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued")).get(gen_body("generating"), gen_body("completed", credits=42))
    async with fake_client() as client:
        await client.submit(image=jpeg)
        await client.wait(GEN_ID)
        entry = client.journal.get(GEN_ID)
    assert entry is not None
    assert entry.status == "completed"
    assert entry.video_url == VIDEO_URL
    assert entry.credits_used == 42
