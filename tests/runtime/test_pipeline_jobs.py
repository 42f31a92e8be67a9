"""generate() and jobs: the event sequence checking -> submitting -> queued -> generating ->
downloading -> completed, a saved file with a clean sidecar, failures reported as a final event,
subscribers that cannot break a job, a concurrency cap that holds, cancel() that stops polling, and
late subscribers that get the latest event."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time

import httpx
import pytest
from fakes import GEN_ID, KEY, MP4_HEAD, VIDEO_URL, FakeClock, gen_body

from kling_notebook import GenerationRequest, PollPolicy, errors
from kling_notebook.runtime.jobs import Job, JobRunner

VIDEO = MP4_HEAD + bytes(range(256)) * 600


def compress(phases: list[str]) -> list[str]:
    return [phase for phase, _ in itertools.groupby(phases)]


def eventually(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


@pytest.fixture
def scripted(gateway):
    gateway.serve(VIDEO_URL, VIDEO).post(gen_body("queued"))
    gateway.get(gen_body("queued"), gen_body("generating"), gen_body("generating"), gen_body("completed", credits=70))
    return gateway


# -- generate -------------------------------------------------------------------------------------


async def test_event_sequence_and_result(scripted, fake_client, tmp_path, jpeg):
    events = []
    async with fake_client() as client:
        result = await client.generate(image=jpeg, prompt="the tide comes in", out_dir=tmp_path / "out", on_event=events.append)
    phases = [e.phase for e in events]
    assert compress(phases) == ["checking", "submitting", "queued", "generating", "downloading", "completed"]
    assert events[-1].result is result and events[-1].fraction == 1.0 and events[-1].is_final
    assert all(not e.is_final for e in events[:-1])
    assert all(e.generation_id == GEN_ID for e in events[2:])
    fractions = [e.fraction for e in events if e.phase in ("queued", "generating") and e.fraction is not None]
    assert fractions == sorted(fractions) and all(f < 1 for f in fractions)
    downloads = [e.bytes_done for e in events if e.phase == "downloading" and e.bytes_done]
    assert downloads == sorted(downloads) and downloads[-1] == len(VIDEO)

    assert result.path.read_bytes() == VIDEO
    assert result.path.parent == tmp_path / "out"
    assert result.generation.credits_used == 70 and result.id == GEN_ID
    assert result.path.suffix == ".mp4" and "the-tide-comes-in" in result.path.name


async def test_sidecar_has_the_facts_but_no_image_bytes_and_no_key(scripted, fake_client, tmp_path, jpeg):
    async with fake_client() as client:
        result = await client.generate(image=jpeg, prompt="p", out_dir=tmp_path)
    assert result.sidecar is not None
    text = result.sidecar.read_text()
    sidecar = json.loads(text)
    assert sidecar["id"] == GEN_ID and sidecar["status"] == "completed"
    assert sidecar["video_url"] == VIDEO_URL and sidecar["credits_used"] == 70
    assert sidecar["request"]["prompt"] == "p"
    assert base64.b64encode(jpeg).decode()[:32] not in text
    assert len(text) < 2000
    assert KEY not in text


async def test_progress_estimate_follows_the_client_clock(scripted, fake_client, tmp_path, jpeg):
    events = []
    async with fake_client() as client:
        await client.generate(image=jpeg, out_dir=tmp_path, on_event=events.append)
    fractions = [e.fraction for e in events if e.phase == "generating"]
    assert fractions and fractions[-1] > 0.05  # the fake clock moved minutes, and so did the bar


async def test_a_failing_subscriber_does_not_break_the_job(scripted, fake_client, tmp_path, jpeg, caplog):
    def broken(event):
        raise ValueError("display bug")

    async with fake_client() as client:
        result = await client.generate(image=jpeg, out_dir=tmp_path, on_event=broken)
    assert result.path.exists()
    assert "progress handler failed" in caplog.text


async def test_failure_is_reported_as_a_final_event(gateway, fake_client, tmp_path, jpeg):
    gateway.post(gen_body("queued")).get(gen_body("error", error={"name": "Moderation", "message": "no"}))
    events = []
    async with fake_client() as client:
        with pytest.raises(errors.GenerationFailedError):
            await client.generate(image=jpeg, out_dir=tmp_path, on_event=events.append)
    assert events[-1].phase == "failed"
    assert isinstance(events[-1].error, errors.GenerationFailedError)
    assert events[-1].generation_id == GEN_ID
    assert "Moderation" in events[-1].message


async def test_validation_failure_is_reported_and_nothing_sent(fake_client, no_network, tmp_path):
    events = []
    async with fake_client(transport=no_network) as client:
        with pytest.raises(errors.ValidationError):
            await client.generate(image=b"not an image", out_dir=tmp_path, on_event=events.append)
    assert [e.phase for e in events] == ["checking", "failed"]


async def test_an_unexpected_error_still_ends_with_a_failed_event(scripted, fake_client, tmp_path, jpeg):
    """A disk problem while saving is not a KlingError, but subscribers must still see the end."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    events = []
    async with fake_client() as client:
        with pytest.raises(OSError):
            await client.generate(image=jpeg, out_dir=blocker, on_event=events.append)
    assert events[-1].phase == "failed"
    assert events[-1].is_final
    assert events[-1].message


# -- jobs ------------------------------------------------------------------------------------------


def job_gateway(gateway, polls_until_done: int = 3):
    """Each POST creates a new id; each id completes after a few polls; in-flight jobs counted."""
    state = {"next": 0, "polls": {}, "active": set(), "peak": 0}
    lock = threading.Lock()

    def create(request):
        with lock:
            state["next"] += 1
            gid = f"job-{state['next']}:kling-video/v2.1/master/image-to-video"
            state["polls"][gid] = 0
            state["active"].add(gid)
            state["peak"] = max(state["peak"], len(state["active"]))
        return gen_body("queued", id=gid)

    def status(request):
        gid = request.url.params["generation_id"]
        with lock:
            state["polls"][gid] += 1
            done = state["polls"][gid] >= polls_until_done
        if done:
            return gen_body("completed", id=gid, url=f"https://cdn.test/{gid.split(':')[0]}.mp4")
        return gen_body("generating", id=gid)

    def video(request):
        name = request.url.path.strip("/").removesuffix(".mp4")
        with lock:
            state["active"].discard(f"{name}:kling-video/v2.1/master/image-to-video")
        return httpx.Response(200, stream=httpx.ByteStream(VIDEO), headers={"content-length": str(len(VIDEO))})

    gateway.post(create).get(status)
    original = gateway._file

    def file_or_video(request):
        if request.url.host == "cdn.test":
            return video(request)
        return original(request)

    gateway._file = file_or_video
    return state


def test_concurrency_cap_is_respected(gateway, fake_client, tmp_path, jpeg):
    state = job_gateway(gateway)
    client = fake_client(clock=FakeClock(real_sleep=0.001))
    runner = JobRunner(client, concurrency=2)
    jobs = [runner.start(GenerationRequest(image=jpeg, prompt=f"job {i}"), out_dir=tmp_path) for i in range(5)]
    results = [job.result(timeout=10) for job in jobs]
    assert len({r.id for r in results}) == 5
    assert all(r.path.exists() for r in results)
    assert state["peak"] == 2  # the cap was reached, never exceeded
    assert len(gateway.posts) == 5
    assert all(job.done() and job.last_event and job.last_event.phase == "completed" for job in jobs)


def test_cancel_stops_waiting(gateway, fake_client, tmp_path, jpeg):
    gateway.post(gen_body("queued")).get(gen_body("generating"))
    client = fake_client(clock=FakeClock(real_sleep=0.002))
    job = JobRunner(client).start(GenerationRequest(image=jpeg), out_dir=tmp_path, timeout=10**7)
    events = []
    job.subscribe(events.append)
    eventually(lambda: len(gateway.status_reads) >= 3)
    assert job.cancel() is True
    eventually(lambda: job.last_event is not None and job.last_event.phase == "cancelled")
    reads = len(gateway.status_reads)
    time.sleep(0.05)
    assert len(gateway.status_reads) == reads  # no more polling
    assert events[-1].phase == "cancelled"
    assert job.done()
    with pytest.raises(BaseException) as caught:
        job.result(timeout=1)
    assert type(caught.value).__name__ == "CancelledError"
    assert job.generation_id == GEN_ID  # the paid id is kept for a later pick-up


def test_subscribe_replays_the_last_event_and_unsubscribe_stops(scripted, fake_client, tmp_path, jpeg):
    client = fake_client(clock=FakeClock(real_sleep=0.001))
    job = JobRunner(client).start(GenerationRequest(image=jpeg), out_dir=tmp_path)
    job.result(timeout=10)
    late = []
    unsubscribe = job.subscribe(late.append)
    assert [e.phase for e in late] == ["completed"]
    assert late[0] is job.last_event
    unsubscribe()
    job._emit(late[0])  # an event after unsubscribing is not delivered
    assert len(late) == 1


def test_a_failing_job_subscriber_does_not_starve_the_others(scripted, fake_client, tmp_path, jpeg):
    client = fake_client(clock=FakeClock(real_sleep=0.001))
    job = Job(client.runner, GenerationRequest(image=jpeg), out_dir=tmp_path)
    seen = []

    def broken(event):
        raise RuntimeError("widget gone")

    job.subscribe(broken)
    job.subscribe(seen.append)
    result = job.start().result(timeout=10)
    assert result.path.exists()
    assert compress([e.phase for e in seen]) == [
        "checking", "submitting", "queued", "generating", "downloading", "completed"
    ]


def test_resume_an_existing_id(scripted, fake_client, tmp_path):
    client = fake_client(clock=FakeClock(real_sleep=0.001))
    job = JobRunner(client).resume(GEN_ID, out_dir=tmp_path, duration=10, poll=PollPolicy())
    result = job.result(timeout=10)
    assert result.id == GEN_ID and result.path.read_bytes() == VIDEO
    assert scripted.posts == []  # resuming never pays again
    assert client.journal.get(GEN_ID).path == str(result.path)


async def test_generate_probes_a_url_image_once(gateway, fake_client, tmp_path):
    image_url = "https://images.test/frame.jpg"
    from fakes import image_bytes

    gateway.serve(image_url, image_bytes(), "image/jpeg").serve(VIDEO_URL, VIDEO)
    gateway.post(gen_body("queued")).get(gen_body("completed"))
    async with fake_client() as client:
        await client.generate(image=image_url, out_dir=tmp_path)
    assert len(gateway.to_host("images.test")) == 1


def test_cancelling_a_queued_job_ends_it_with_a_cancelled_event(gateway, fake_client, tmp_path, jpeg):
    """A job still waiting for a concurrency slot tells its subscribers it was cancelled."""
    gateway.post(gen_body("queued")).get(gen_body("generating"))
    client = fake_client(clock=FakeClock(real_sleep=0.002))
    runner = JobRunner(client, concurrency=1)
    running = runner.start(GenerationRequest(image=jpeg), out_dir=tmp_path, timeout=10**7)
    queued = runner.start(GenerationRequest(image=jpeg), out_dir=tmp_path, timeout=10**7)
    eventually(lambda: len(gateway.status_reads) >= 2)
    assert queued.last_event is not None and queued.last_event.phase == "held"  # for a slot
    queued.cancel()
    eventually(lambda: queued.last_event is not None and queued.last_event.is_final)
    assert queued.last_event is not None and queued.last_event.phase == "cancelled"
    assert len(gateway.posts) == 1  # the queued job never paid
    running.cancel()
    eventually(lambda: running.last_event is not None and running.last_event.phase == "cancelled")
