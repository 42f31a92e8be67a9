"""Submissions whose outcome is unknown are shown in the panel before the user pays again, with
what to check and buttons that settle them (as ``kling-notebook settle`` does)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import ipywidgets as widgets

from kling_notebook import AsyncKlingClient, GenerationRequest
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.runtime.engine import run_blocking
from kling_notebook.store.journal import FILENAME, NOT_CREATED, Journal

from .conftest import demo_client_for, html_values, wait_for

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


def uncertain_text(panel: KlingPanel) -> str:
    return "\n".join(html_values(panel.uncertain))


def buttons(panel: KlingPanel, row_index: int) -> tuple[widgets.Text, widgets.Button, widgets.Button]:
    found, record, absent, _status = panel.uncertain.children[1 + row_index].children[1].children
    return found, record, absent


def test_a_submit_lost_to_a_kernel_restart_is_shown_and_dismissed(demo_client: AsyncKlingClient) -> None:
    Journal.in_dir(demo_client.out_dir).close()
    row = died_mid_post(demo_client.out_dir, HOSTILE)
    panel = KlingPanel(demo_client)
    assert panel.uncertain.layout.display == ""
    text = uncertain_text(panel)
    assert "may or may not have been created" in text and "kernel restart" in text
    assert "dashboard" in text and "generating again may pay twice" in text
    assert f"kling-notebook settle {row} --id ID" in text
    assert f"kling-notebook settle {row} --not-created" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    _found, _record, absent = buttons(panel, 0)
    absent.click()
    assert demo_client.journal is not None
    entry = demo_client.journal.get_row(row)
    assert entry is not None and entry.status == NOT_CREATED
    assert panel.uncertain.layout.display == "none"


def test_recording_the_id_found_resumes_it(demo_client: AsyncKlingClient, fast_emulator: Emulator) -> None:
    elsewhere = AsyncKlingClient(fast_emulator.api_key, demo_client.base_url, demo=True, journal=False, poll=demo_client.poll)
    generation = run_blocking(elsewhere.submit(GenerationRequest(image=DEMO_IMAGE, prompt="lost answer")))
    assert demo_client.journal is not None
    row = demo_client.journal.begin({"prompt": "lost answer", "duration": 5}, endpoint=demo_client.endpoint, base_url=demo_client.base_url)
    demo_client.journal.uncertain(row, "ReadTimeout after the request was sent")
    panel = KlingPanel(demo_client)
    assert "ReadTimeout after the request was sent" in uncertain_text(panel)
    found, record, _absent = buttons(panel, 0)
    record.click()
    assert "Paste the generation id first" in uncertain_text(panel)
    found.value = "no-such-generation-row-owner"
    other = demo_client.journal.begin({"prompt": "other"}, endpoint=demo_client.endpoint, base_url=demo_client.base_url)
    demo_client.journal.submitted(other, "no-such-generation-row-owner", "queued")
    record.click()  # that id belongs to another attempt: refused, said in words
    assert "belongs to journal row" in uncertain_text(panel)
    found.value = generation.id
    record.click()
    assert panel.uncertain.layout.display == "none"
    (job,) = panel.jobs
    assert job.generation_id == generation.id
    assert job.result(timeout=60).path.is_file()


def test_a_submit_running_in_this_process_is_not_uncertain(demo_client: AsyncKlingClient) -> None:
    assert demo_client.journal is not None
    row = demo_client.journal.begin({"prompt": "in flight"}, endpoint=demo_client.endpoint, base_url=demo_client.base_url)
    backdate(demo_client.out_dir, row, 3600)
    panel = KlingPanel(demo_client)
    assert panel.uncertain.layout.display == "none"
    demo_client.journal.not_submitted(row, "test")


def test_a_dead_submit_shows_within_about_the_post_timeout(demo_client: AsyncKlingClient) -> None:
    Journal.in_dir(demo_client.out_dir).close()
    row = died_mid_post(demo_client.out_dir, "ninety seconds")
    backdate(demo_client.out_dir, row, 95)
    panel = KlingPanel(demo_client)
    wait_for(lambda: panel.uncertain.layout.display == "", 5, "the uncertain list")


def test_an_uncertain_submit_in_this_panel_is_listed_at_once_with_its_steps(tmp_path: Path) -> None:
    """The connection drops after the gateway created the job: the row says what to check, and
    the attempt waits under Unfinished with Record id / Not created, before anyone clicks again."""
    with Emulator(job_seconds=1, video_width=160, faults="post#1:reset_after") as emulator:
        panel = KlingPanel(demo_client_for(emulator, tmp_path), prompt="dropped answer")
        job = panel.generate()
        assert job is not None
        wait_for(job.done, what="the submit to fail")
        row_text = "\n".join(html_values(panel.rows))
        assert "may or may not have reached the gateway" in row_text
        assert "Record id" in row_text and "Not created" in row_text
        wait_for(lambda: panel.uncertain.layout.display == "", what="the uncertain list")
        listed = uncertain_text(panel)
        assert "“dropped answer”" in listed and "kling-notebook settle 1 --id ID" in listed
        assert len(emulator.stats()["created"]) == 1  # the gateway did create it: never sent twice
