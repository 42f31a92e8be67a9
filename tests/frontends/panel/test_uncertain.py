"""Submissions whose outcome is unknown are shown in the panel before the user pays again, with
what to check and buttons that settle them (as ``kling-notebook settle`` does)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from kling_notebook import AsyncKlingClient, GenerationRequest
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.runtime.engine import run_blocking
from kling_notebook.store.journal import FILENAME, NOT_CREATED, Journal

from .conftest import Front, demo_client_for, wait_for

HOSTILE = '<script>alert("x")</script>'


def died_mid_post(folder: Path, prompt: str) -> int:
    """A row left 'submitting' by a process killed during its POST, two minutes ago."""
    script = (
        "import os, signal, sys\n"
        "from kling_notebook.store.journal import Journal\n"
        "row = Journal(sys.argv[1]).begin({'prompt': sys.argv[2], 'duration': 5}, endpoint='/e', base_url=sys.argv[3])\n"
        "print(row, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder / FILENAME), prompt, "https://api.aimlapi.com/v2"],
        capture_output=True, text=True, timeout=60,
    )
    row = int(done.stdout.strip())
    backdate(folder, row, 120)
    return row


def backdate(folder: Path, row: int, seconds: int) -> None:
    with sqlite3.connect(folder / FILENAME) as conn:
        conn.execute(
            "UPDATE generations SET created_at = strftime('%Y-%m-%dT%H:%M:%f', 'now', ?) || '000+00:00'"
            " WHERE row = ?",
            (f"-{seconds} seconds", row),
        )


def uncertain_text(front: Front) -> str:
    """What the Unknown outcome section shows, and what its buttons last answered."""
    items = [" ".join([item["title"], item["what"], item["check"], *item["cli"]]) for item in front.panel.uncertain]
    answers = [content["error"] for content, _ in front.replies_of("settled")]
    return "\n".join(items + answers)


def test_a_submit_lost_to_a_kernel_restart_is_shown_and_dismissed(demo_client: AsyncKlingClient) -> None:
    Journal.in_dir(demo_client.out_dir).close()
    row = died_mid_post(demo_client.out_dir, HOSTILE)
    front = Front(KlingPanel(demo_client))
    assert front.panel.uncertain
    text = uncertain_text(front)
    assert "may or may not have been created" in text and "kernel restart" in text and "dashboard" in text
    assert f"kling-notebook settle {row} --id ID" in text
    assert f"kling-notebook settle {row} --not-created" in text
    assert HOSTILE in text  # plain text: the view sets it as text
    shown = front.shown()
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    front.send("settle", row=row, generation_id=None)
    assert demo_client.journal is not None
    entry = demo_client.journal.get_row(row)
    assert entry is not None and entry.status == NOT_CREATED
    assert front.panel.uncertain == []


def test_recording_the_id_found_resumes_it(demo_client: AsyncKlingClient, fast_emulator: Emulator) -> None:
    elsewhere = AsyncKlingClient(fast_emulator.api_key, demo_client.base_url, demo=True, journal=False, poll=demo_client.poll)
    generation = run_blocking(elsewhere.submit(GenerationRequest(image=DEMO_IMAGE, prompt="lost answer")))
    assert demo_client.journal is not None
    row = demo_client.journal.begin({"prompt": "lost answer", "duration": 5}, endpoint=demo_client.endpoint, base_url=demo_client.base_url)
    demo_client.journal.uncertain(row, "ReadTimeout after the request was sent")
    front = Front(KlingPanel(demo_client))
    assert "ReadTimeout after the request was sent" in uncertain_text(front)
    front.send("settle", row=row, generation_id=" ")
    assert "Paste the generation id first" in uncertain_text(front)
    other = demo_client.journal.begin({"prompt": "other"}, endpoint=demo_client.endpoint, base_url=demo_client.base_url)
    demo_client.journal.submitted(other, "no-such-generation-row-owner", "queued")
    front.send("settle", row=row, generation_id="no-such-generation-row-owner")  # another attempt's id: refused
    assert "belongs to journal row" in uncertain_text(front)
    front.send("settle", row=row, generation_id=generation.id)
    assert front.panel.uncertain == []
    (job,) = front.panel.jobs
    assert job.generation_id == generation.id
    assert job.result(timeout=60).path.is_file()


def test_a_submit_running_in_this_process_is_not_uncertain(demo_client: AsyncKlingClient) -> None:
    assert demo_client.journal is not None
    row = demo_client.journal.begin({"prompt": "in flight"}, endpoint=demo_client.endpoint, base_url=demo_client.base_url)
    backdate(demo_client.out_dir, row, 3600)
    panel = KlingPanel(demo_client)
    assert panel.uncertain == []
    demo_client.journal.not_submitted(row, "test")


def test_a_dead_submit_shows_within_about_the_post_timeout(demo_client: AsyncKlingClient) -> None:
    Journal.in_dir(demo_client.out_dir).close()
    row = died_mid_post(demo_client.out_dir, "ninety seconds")
    backdate(demo_client.out_dir, row, 95)
    panel = KlingPanel(demo_client)
    wait_for(lambda: panel.uncertain, 5, "the uncertain list")


def test_an_uncertain_submit_in_this_panel_is_listed_at_once_with_its_steps(tmp_path: Path) -> None:
    """The connection drops after the gateway created the job: the row says what to check, and
    the attempt waits under Unfinished with Record id / Not created, before anyone clicks again."""
    with Emulator(job_seconds=1, video_width=160, faults="post#1:reset_after") as emulator:
        front = Front(KlingPanel(demo_client_for(emulator, tmp_path), prompt="dropped answer"))
        job = front.panel.generate()
        assert job is not None
        wait_for(job.done, what="the submit to fail")
        wait_for(lambda: front.panel.rows[0]["final"], what="the row's end")
        row_text = front.panel.rows[0]["message_html"]
        assert "may or may not have reached the gateway" in row_text
        assert "Record id" in row_text and "Not created" in row_text
        wait_for(lambda: front.panel.uncertain, what="the uncertain list")
        listed = uncertain_text(front)
        assert "“dropped answer”" in listed and "kling-notebook settle 1 --id ID" in listed
        assert len(emulator.stats()["created"]) == 1  # the gateway did create it: never sent twice
