"""A submit refused with 429 (nothing created) queues the job locally and submits again with
backoff until it goes through or is cancelled; nothing is ever created twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_notebook import AsyncKlingClient, GenerationRequest, Job, RetryPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.runtime.jobs import JobRunner

from .conftest import demo_client_for, wait_for

# Two POSTs per submit (the client's own retry), so four 429s refuse two submits in a row.
REFUSE_TWICE = "post#1:429,post#2:429,post#3:429,post#4:429,retry_after=0"


@pytest.fixture
def busy_gateway(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(job_seconds=1, video_width=160, faults=request.param) as emulator:
        yield emulator


def client_for(emulator: Emulator, folder: Path, delay: float = 0.05) -> AsyncKlingClient:
    return demo_client_for(emulator, folder, retry=RetryPolicy(max_attempts=2, base_delay=delay / 5, max_delay=delay))


def started(emulator: Emulator, folder: Path, delay: float = 0.05) -> tuple[KlingPanel, Job]:
    """A panel on ``emulator`` with one job started from it."""
    panel = KlingPanel(client_for(emulator, folder, delay))
    job = panel.generate()
    assert job is not None
    return panel, job


@pytest.mark.parametrize("busy_gateway", [REFUSE_TWICE], indirect=True)
def test_a_refused_submit_waits_in_a_local_queue_then_goes_through(busy_gateway: Emulator, tmp_path: Path) -> None:
    panel, job = started(busy_gateway, tmp_path)
    phases: list[str] = []
    job.subscribe(lambda event: phases.append(event.phase))
    result = job.result(timeout=60)
    assert result.path.is_file()
    assert phases.count("held") >= 1 and "failed" not in phases
    assert len(busy_gateway.stats()["created"]) == 1, "nothing submitted twice"
    assert panel.runner.gate.limits[:2] == [4, 2], "the runner's cap halves on a refusal"


@pytest.mark.parametrize("busy_gateway", ["post:429=1,retry_after=0"], indirect=True)
def test_a_job_queued_on_429_waits_until_cancelled(busy_gateway: Emulator, tmp_path: Path) -> None:
    # Waits of about 0.3 s between attempts, so the click lands in the local queue and not during
    # a POST (a Cancel during a POST is rightly reported as "may or may not have started").
    panel, job = started(busy_gateway, tmp_path, delay=0.3)
    wait_for(lambda: panel.rows[0]["words"] == "queued locally", 30, "the local queue")
    assert "concurrency limit is reached" in panel.rows[0]["message_html"]
    wait_for(lambda: busy_gateway.stats()["faults"].get("post:429", 0) >= 6, 30, "a few more refusals")
    assert not job.done(), "a refusal does not fail the job"
    wait_for(lambda: panel.rows[0]["words"] == "queued locally", 10, "the local queue again")
    panel.receive({"kind": "cancel", "job": job.number}, [])
    wait_for(lambda: panel.rows[0]["words"] == "stopped waiting", 10, "the cancelled phase")
    assert "nothing was charged" in panel.rows[0]["message_html"]
    assert len(busy_gateway.stats()["created"]) == 0


@pytest.mark.parametrize("busy_gateway", [REFUSE_TWICE], indirect=True)
def test_plain_runner_jobs_queue_too(busy_gateway: Emulator, tmp_path: Path) -> None:
    runner = JobRunner(client_for(busy_gateway, tmp_path), concurrency=1)
    first = runner.start(GenerationRequest(image=DEMO_IMAGE, prompt="first"))
    second = runner.start(GenerationRequest(image=DEMO_IMAGE, prompt="second"))
    assert first.result(timeout=60).path.is_file() and second.result(timeout=60).path.is_file()
    assert len(busy_gateway.stats()["created"]) == 2
