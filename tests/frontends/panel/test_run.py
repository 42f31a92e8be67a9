"""Generations started from the panel object: results, rows, errors, cancel, resume."""

from __future__ import annotations

import asyncio
import html
import threading
from pathlib import Path

import httpx
import pytest

from kling_notebook import AsyncKlingClient, GenerationRequest, GenerationResult, PollPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel, ProgressRow, ResultView
from kling_notebook.runtime.engine import run_blocking

from .conftest import demo_client_for, html_values, wait_for

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def only_row(panel: KlingPanel) -> ProgressRow:
    (row,) = panel.rows.children
    assert isinstance(row, ProgressRow)
    return row


def assert_escaped_everywhere(panel: KlingPanel) -> None:
    shown = "\n".join(html_values(panel))
    assert "<script>" not in shown
    assert "<img src=x" not in shown  # the attribute break-out stays text
    assert "&lt;script&gt;" in shown


def test_full_demo_run_from_the_panel(tmp_path: Path) -> None:
    """The default path: no key anywhere, so KlingPanel() connects to the demo emulator."""
    panel = KlingPanel(prompt="Mona Lisa puts on <glasses> & smiles")
    assert panel.client.demo and "demo mode: simulated videos, no credits used" in panel.header.value
    panel.bar.button.click()
    row = only_row(panel)
    result = row.job.result(timeout=90)
    wait_for(lambda: row.result_box.children, what="the result view")
    view = row.result_box.children[0]
    assert isinstance(view, ResultView)
    assert "<video controls" in view.html and "autoplay" not in view.html
    assert "Mona Lisa puts on &lt;glasses&gt; &amp; smiles" in view.html
    assert "base64" not in view.html  # the default keeps video bytes out of the notebook
    assert result.path.is_file() and result.path.stat().st_size > 10_000
    assert result.path.is_relative_to(tmp_path)  # ./kling_outputs under the working directory
    assert panel.results == [result]
    assert "done" in row.phase.value and row.cancel_button.layout.display == "none"
    assert result.id in row.ident.value
    code = row.code_text
    assert code is not None and code in html.unescape(view.children[1].children[0].value)
    namespace: dict[str, object] = {}
    exec(compile(code, "copy-as-code", "exec"), namespace)  # the equivalent Python call works
    again = namespace["result"]
    assert isinstance(again, GenerationResult) and again.path.is_file()
    assert again.request is not None and again.request.prompt == result.request.prompt


def test_two_generations_at_once_give_two_rows(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client, prompt="first")
    first = panel.generate()
    panel.controls.prompt.area.value = "second"
    second = panel.generate()
    assert first is not None and second is not None
    assert len(panel.rows.children) == 2 and panel.jobs == [first, second]
    results = [first.result(timeout=60), second.result(timeout=60)]
    assert results[0].id != results[1].id
    assert [r.request.prompt for r in results if r.request] == ["first", "second"]
    wait_for(lambda: all(row.result_box.children for row in panel.rows.children), what="both players")


def test_hostile_prompt_is_escaped_in_every_html_value(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client, prompt=HOSTILE)
    job = panel.generate()
    assert job is not None
    job.result(timeout=60)
    wait_for(lambda: only_row(panel).result_box.children, what="the result view")
    assert_escaped_everywhere(panel)


def gateway(status: int, body: dict[str, object]) -> AsyncKlingClient:
    """A client whose gateway answers every create call with ``status`` and ``body``."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return AsyncKlingClient(
        "test-key", "https://gateway.test", transport=httpx.MockTransport(handle), journal=False
    )


def test_hostile_error_message_is_escaped(tmp_path: Path) -> None:
    body = {"message": HOSTILE, "statusCode": 400, "path": "/v2/video/generations"}
    panel = KlingPanel(gateway(400, body), prompt=HOSTILE)
    job = panel.generate()
    assert job is not None
    with pytest.raises(Exception, match="HTTP 400"):
        job.result(timeout=30)
    row = only_row(panel)
    wait_for(lambda: "failed" in row.phase.value, what="the failed phase")
    assert "HTTP 400" in row.message.value and "nothing was created" in row.message.value
    assert "Traceback" not in row.message.value
    assert_escaped_everywhere(panel)


def test_uncertain_submission_says_what_to_check_before_paying_again() -> None:
    panel = KlingPanel(gateway(502, {"message": "Bad gateway"}))
    job = panel.generate()
    assert job is not None
    with pytest.raises(Exception, match="may or may not"):
        job.result(timeout=30)
    row = only_row(panel)
    wait_for(lambda: "Before you click Generate again" in row.message.value, what="the checklist")
    assert "generations (usage) list" in row.message.value
    assert "do not generate again" in row.message.value


def test_cancel_says_the_job_may_still_finish(tmp_path: Path) -> None:
    with Emulator(job_seconds=60, video_width=160) as slow:
        client = AsyncKlingClient(slow.api_key, slow.base_url, demo=True, out_dir=tmp_path,
                                  poll=PollPolicy(time_scale=600))
        panel = KlingPanel(client)
        job = panel.generate()
        assert job is not None
        row = only_row(panel)
        wait_for(lambda: job.generation_id, what="the submission")
        row.cancel_button.click()
        wait_for(lambda: "stopped waiting" in row.phase.value, what="the cancelled phase")
        assert "There is no cancel endpoint" in row.message.value
        assert job.generation_id in row.message.value
        assert row.cancel_button.layout.display == "none"


def test_cancel_while_waiting_for_a_slot_sends_nothing(fast_emulator: Emulator, tmp_path: Path) -> None:
    panel = KlingPanel(demo_client_for(fast_emulator, tmp_path, 60, concurrency=1))  # one at a time
    first, second = panel.generate(), panel.generate(again=True)
    assert first is not None and second is not None
    panel.rows.children[1].cancel_button.click()
    row = panel.rows.children[1]
    wait_for(lambda: "stopped waiting" in row.phase.value, what="the cancelled phase")
    assert "nothing was charged" in row.message.value
    first.result(timeout=60)


def test_pending_generations_can_be_resumed(demo_client: AsyncKlingClient) -> None:
    """A generation submitted earlier (another kernel, say) is listed and finished by Resume."""
    generation = run_blocking(demo_client.submit(GenerationRequest(image=DEMO_IMAGE, prompt="earlier")))
    panel = KlingPanel(demo_client)
    assert panel.pending.layout.display == ""
    resume = panel.pending.children[1].children[0]
    assert "earlier" in panel.pending.children[1].children[1].value
    resume.click()
    row = only_row(panel)
    assert row.job.generation_id == generation.id
    result = row.job.result(timeout=60)
    assert result.path.is_file()
    panel.show_pending()
    assert panel.pending.layout.display == "none"


def test_clicks_from_a_subshell_thread_with_its_own_loop(demo_client: AsyncKlingClient) -> None:
    """ipykernel 7 may run widget callbacks on a subshell thread whose asyncio loop ends later:
    nothing the click starts may depend on that loop."""
    panel = KlingPanel(demo_client)

    async def click() -> None:
        panel.bar.button.click()
        panel.image.url.value = "ftp://not-http"  # a second callback, same thread
        panel.image.use_demo()

    worker = threading.Thread(target=asyncio.run, args=(click(),))
    worker.start()
    worker.join()
    result = only_row(panel).job.result(timeout=60)  # that loop is closed by now
    assert result.path.is_file()


def test_resume_all_finishes_every_listed_generation_without_submitting(
    demo_client: AsyncKlingClient, fast_emulator: Emulator
) -> None:
    """Resume all: one job and row per listed generation, each saved;
    one resumed on its own first is not resumed twice, and nothing is submitted again."""
    earlier = [
        run_blocking(demo_client.submit(GenerationRequest(image=DEMO_IMAGE, prompt=f"earlier {n}")))
        for n in range(3)
    ]
    panel = KlingPanel(demo_client)
    first_resume = panel.pending.children[1].children[0]
    first_resume.click()  # one resumed on its own: JobRunner.resume
    created = len(fast_emulator.stats()["created"])
    panel.pending.resume_all_button.click()
    rows = list(panel.rows.children)
    assert len(rows) == 3 and all(isinstance(row, ProgressRow) for row in rows)
    assert [row.job.generation_id for row in rows] == [g.id for g in earlier]
    assert "earlier 1" in rows[1].title.value  # titled by the journal's request
    assert all(row.cancel_button.layout.display != "none" or row.job.done() for row in rows)  # a job each
    assert panel.pending.resume_all_button.disabled
    assert all(row.children[0].description == "Resumed" for row in panel.pending.children[1:])
    wait_for(lambda: all(row.phase_name == "completed" for row in rows), 60, "every row to finish")
    wait_for(lambda: all(row.result_box.children for row in rows), what="the players")
    assert sorted(r.id for r in panel.results) == sorted(g.id for g in earlier)
    assert all(r.path.is_file() for r in panel.results)
    assert len(fast_emulator.stats()["created"]) == created, "resuming must not submit"
    assert panel.resume_all() is None  # nothing left to resume
    panel.show_pending()
    assert panel.pending.layout.display == "none"


def test_resume_all_that_cannot_run_says_why_in_its_rows(
    demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_blocking(demo_client.submit(GenerationRequest(image=DEMO_IMAGE, prompt="stuck")))

    async def broken(*args: object, **kwargs: object) -> None:
        raise OSError("the journal's disk is gone")

    monkeypatch.setattr(demo_client, "origin", broken)
    panel = KlingPanel(demo_client)
    jobs = panel.resume_all()
    assert jobs is not None
    with pytest.raises(OSError):
        jobs[0].result(timeout=10)
    row = only_row(panel)
    wait_for(lambda: row.phase_name == "failed", what="the failed row")
    assert "the journal&#x27;s disk is gone" in row.message.value
