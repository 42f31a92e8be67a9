"""Generations started from the panel: results, rows, errors, cancel, resume."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import pytest

from kling_notebook import AsyncKlingClient, GenerationRequest, GenerationResult, PollPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.runtime.engine import run_blocking

from .conftest import Front, demo_client_for, wait_for

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def assert_escaped_everywhere(front: Front) -> None:
    shown = front.shown()
    assert "<script>" not in shown
    assert "<img src=x" not in shown  # the attribute break-out stays text
    assert "&lt;script&gt;" in shown


def finished_row(front: Front, index: int = 0) -> dict[str, object]:
    wait_for(lambda: len(front.panel.rows) > index and front.panel.rows[index]["final"], 60, "the row's end")
    return front.row(index)


@pytest.mark.slow
def test_full_demo_run_from_the_panel(tmp_path: Path) -> None:
    """The default path: no key anywhere, so KlingPanel() connects to the demo emulator."""
    front = Front(KlingPanel(prompt="Mona Lisa puts on <glasses> & smiles"))
    assert front.panel.client.demo and "demo mode: simulated videos, no credits used" in front.panel.header["mode"]
    front.click_generate()
    (job,) = front.panel.jobs
    result = job.result(timeout=90)
    row = finished_row(front)
    shown = row["result"]
    assert isinstance(shown, dict) and shown["name"] == result.path.name
    assert "Mona Lisa puts on &lt;glasses&gt; &amp; smiles" in shown["details_html"]
    assert "simulated" in shown["details_html"]
    assert result.path.is_file() and result.path.stat().st_size > 10_000
    assert result.path.is_relative_to(tmp_path)  # ./kling_outputs under the working directory
    assert front.panel.results == [result]
    assert row["phase"] == "completed" and row["words"] == "done" and row["generation_id"] == result.id
    front.send("video", token=shown["token"])  # the view asks for the bytes to play
    chunks = front.replies_of("video")
    assert b"".join(buffers[0] for _, buffers in chunks) == result.path.read_bytes()
    code = str(shown["code"])
    namespace: dict[str, object] = {}
    exec(compile(code, "copy-as-code", "exec"), namespace)  # the equivalent Python call works
    again = namespace["result"]
    assert isinstance(again, GenerationResult) and again.path.is_file()
    assert again.request is not None and again.request.prompt == result.request.prompt


def test_a_video_is_sent_only_for_a_token_the_panel_gave(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("video", token="../../etc/passwd")
    ((reply, buffers),) = front.replies_of("video")
    assert reply["error"] and buffers == []


def test_two_generations_at_once_give_two_rows(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client, prompt="first"))
    first = front.panel.generate()
    front.set("prompt", "second")
    second = front.panel.generate()
    assert first is not None and second is not None
    assert len(front.panel.rows) == 2 and front.panel.jobs == [first, second]
    results = [first.result(timeout=60), second.result(timeout=60)]
    assert results[0].id != results[1].id
    assert [r.request.prompt for r in results if r.request] == ["first", "second"]
    wait_for(lambda: all(row["result"] for row in front.panel.rows), what="both players")


def test_hostile_prompt_is_escaped_in_every_html_value(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client, prompt=HOSTILE))
    job = front.panel.generate()
    assert job is not None
    job.result(timeout=60)
    finished_row(front)
    wait_for(lambda: front.row()["result"], what="the result")
    assert_escaped_everywhere(front)


def gateway(status: int, body: dict[str, object]) -> AsyncKlingClient:
    """A client whose gateway answers every create call with ``status`` and ``body``."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return AsyncKlingClient(
        "test-key", "https://gateway.test", transport=httpx.MockTransport(handle), journal=False
    )


def test_hostile_error_message_is_escaped() -> None:
    body = {"message": HOSTILE, "statusCode": 400, "path": "/v2/video/generations"}
    front = Front(KlingPanel(gateway(400, body), prompt=HOSTILE))
    job = front.panel.generate()
    assert job is not None
    with pytest.raises(Exception, match="HTTP 400"):
        job.result(timeout=30)
    row = finished_row(front)
    assert row["phase"] == "failed"
    message = str(row["message_html"])
    assert "HTTP 400" in message and "nothing was created" in message and "Traceback" not in message
    assert_escaped_everywhere(front)


def test_uncertain_submission_says_what_to_check_before_paying_again() -> None:
    front = Front(KlingPanel(gateway(502, {"message": "Bad gateway"})))
    job = front.panel.generate()
    assert job is not None
    with pytest.raises(Exception, match="may or may not"):
        job.result(timeout=30)
    message = str(finished_row(front)["message_html"])
    assert "Before you click Generate again" in message
    assert "generations (usage) list" in message and "do not generate again" in message


def test_cancel_says_the_job_may_still_finish(tmp_path: Path) -> None:
    with Emulator(job_seconds=60, video_width=160) as slow:
        client = AsyncKlingClient(slow.api_key, slow.base_url, demo=True, out_dir=tmp_path,
                                  poll=PollPolicy(time_scale=600))
        front = Front(KlingPanel(client))
        job = front.panel.generate()
        assert job is not None
        wait_for(lambda: job.generation_id, what="the submission")
        front.send("cancel", job=job.number)
        row = finished_row(front)
        assert row["phase"] == "cancelled" and row["words"] == "stopped waiting"
        message = str(row["message_html"])
        assert "There is no cancel endpoint" in message and str(job.generation_id) in message
        assert "charged" not in message  # demo mode: nothing is


def test_cancel_while_waiting_for_a_slot_sends_nothing(fast_emulator: Emulator, tmp_path: Path) -> None:
    front = Front(KlingPanel(demo_client_for(fast_emulator, tmp_path, 60, concurrency=1)))  # one at a time
    first, second = front.panel.generate(), front.panel.generate(again=True)
    assert first is not None and second is not None
    front.send("cancel", job=second.number)
    row = finished_row(front, 1)
    assert row["phase"] == "cancelled" and "nothing was charged" in str(row["message_html"])
    first.result(timeout=60)


def test_pending_generations_can_be_resumed(demo_client: AsyncKlingClient) -> None:
    """A generation submitted earlier (another kernel, say) is listed and finished by Resume."""
    generation = run_blocking(demo_client.submit(GenerationRequest(image=DEMO_IMAGE, prompt="earlier")))
    front = Front(KlingPanel(demo_client))
    (entry,) = front.panel.pending["entries"]
    assert entry["id"] == generation.id and "earlier" in entry["text"] and not entry["resumed"]
    front.send("resume", id=generation.id)
    (job,) = front.panel.jobs
    assert job.generation_id == generation.id
    assert front.panel.pending["entries"][0]["resumed"]
    assert job.result(timeout=60).path.is_file()
    front.panel.show_pending()
    assert front.panel.pending["entries"] == []


def test_clicks_from_a_subshell_thread_with_its_own_loop(demo_client: AsyncKlingClient) -> None:
    """ipykernel 7 may run comm handlers on a subshell thread whose asyncio loop ends later:
    nothing the click starts may depend on that loop."""
    front = Front(KlingPanel(demo_client))

    async def click() -> None:
        front.click_generate()
        front.send("image_url", url="ftp://not-http")  # a second message, same thread
        front.send("demo_image")

    worker = threading.Thread(target=asyncio.run, args=(click(),))
    worker.start()
    worker.join()
    (job,) = front.panel.jobs
    assert job.result(timeout=60).path.is_file()  # that loop is closed by now


def test_resume_all_finishes_every_listed_generation_without_submitting(
    demo_client: AsyncKlingClient, fast_emulator: Emulator
) -> None:
    """Resume all: one job and row per listed generation, each saved; one resumed on its own
    first is not resumed twice, and nothing is submitted again."""
    earlier = [
        run_blocking(demo_client.submit(GenerationRequest(image=DEMO_IMAGE, prompt=f"earlier {n}")))
        for n in range(3)
    ]
    front = Front(KlingPanel(demo_client))
    front.send("resume", id=earlier[0].id)  # one resumed on its own: JobRunner.resume
    created = len(fast_emulator.stats()["created"])
    front.send("resume_all")
    rows = front.panel.rows
    assert len(rows) == 3 and [job.generation_id for job in front.panel.jobs] == [g.id for g in earlier]
    assert "earlier 1" in rows[1]["title"]  # titled by the journal's request
    assert all(entry["resumed"] for entry in front.panel.pending["entries"])
    wait_for(lambda: all(row["phase"] == "completed" and row["result"] for row in front.panel.rows), 60,
             "every row to finish")
    assert sorted(r.id for r in front.panel.results) == sorted(g.id for g in earlier)
    assert len(fast_emulator.stats()["created"]) == created, "resuming must not submit"
    assert front.panel.resume_all() is None  # nothing left to resume
    front.panel.show_pending()
    assert front.panel.pending["entries"] == []


def test_resume_all_that_cannot_run_says_why_in_its_rows(
    demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_blocking(demo_client.submit(GenerationRequest(image=DEMO_IMAGE, prompt="stuck")))

    async def broken(*args: object, **kwargs: object) -> None:
        raise OSError("the journal's disk is gone")

    monkeypatch.setattr(demo_client, "origin", broken)
    front = Front(KlingPanel(demo_client))
    jobs = front.panel.resume_all()
    assert jobs is not None
    with pytest.raises(OSError):
        jobs[0].result(timeout=10)
    row = finished_row(front)
    assert row["phase"] == "failed" and "the journal&#x27;s disk is gone" in str(row["message_html"])
