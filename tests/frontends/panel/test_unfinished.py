"""A job that ends without its video goes back to the unfinished list with Resume; entries
made through another address are counted there, never resumed with this panel's key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kling_notebook import AsyncKlingClient
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.store.journal import Journal

from .conftest import demo_client_for, wait_for

GATEWAY = "https://api.aimlapi.com/v2"


@pytest.mark.slow
def test_a_cancelled_job_reappears_with_resume(tmp_path: Path) -> None:
    with Emulator(job_seconds=3, video_width=160) as slow:
        panel = KlingPanel(demo_client_for(slow, tmp_path, 60))
        job = panel.generate()
        assert job is not None and panel.pending["entries"] == []
        wait_for(lambda: job.generation_id, what="the submission")
        job.cancel()
        wait_for(lambda: panel.pending["entries"], 10, "the unfinished list")
        (entry,) = panel.pending["entries"]
        assert entry["id"] == job.generation_id and not entry["resumed"]
        created = len(slow.stats()["created"])
        panel.receive({"kind": "resume", "id": job.generation_id}, [])
        again = panel.jobs[-1]
        assert again is not job and again.generation_id == job.generation_id
        assert again.result(timeout=60).path.is_file()
        assert len(slow.stats()["created"]) == created, "keep waiting never submits"
        wait_for(lambda: panel.pending["entries"] == [], 10, "the list to empty")


def test_a_wait_timeout_reappears_too(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    job = panel.runner.start(panel.request()[0], timeout=0.0)  # type: ignore[arg-type]
    panel._follow(job)
    wait_for(job.done, 30, "the timeout")
    wait_for(lambda: panel.pending["entries"], 10, "the unfinished list")
    assert panel.pending["entries"][0]["id"] == job.generation_id


def journal_real_generation(folder: Path, generation_id: str) -> None:
    with Journal.in_dir(folder) as journal:
        row = journal.begin({"prompt": "real"}, endpoint="universal", base_url=GATEWAY)
        journal.submitted(row, generation_id, "queued")


def test_generations_waiting_for_a_key_are_mentioned_not_hidden(demo_client: AsyncKlingClient) -> None:
    journal_real_generation(demo_client.out_dir, "real-1")
    journal_real_generation(demo_client.out_dir, "real-2")
    panel = KlingPanel(demo_client)
    assert panel.client.demo
    shown = " ".join(panel.pending["notes"])
    assert f"2 generations from the gateway ({GATEWAY}) need your key; enter it above to resume them" in shown
    assert panel.pending["entries"] == [], "nothing here to resume with the demo client"
    assert panel.resume_all() is None and panel.rows == []


def test_a_key_is_never_sent_to_another_address(tmp_path: Path) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"id": "x", "status": "queued"})

    journal_real_generation(tmp_path, "real-elsewhere")
    other = AsyncKlingClient("key-for-other", "https://other.example/v2", transport=httpx.MockTransport(handle),
                             out_dir=tmp_path)
    panel = KlingPanel(other)
    shown = " ".join(panel.pending["notes"])
    assert f"were made through {GATEWAY}" in shown and "never sent to another address" in shown
    assert panel.resume_all() is None and seen == []
