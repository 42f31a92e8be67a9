"""Waiting on an id this client did not submit (resume, ``wait ID``, another process): the poll
schedule and the progress clock start at the journal's created_at, not now, and the duration comes
from the journal's stored request unless one is given, so a 10 s video gets the 10 s schedule and
deadline."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fakes import API, GEN_ID, MP4_HEAD, VIDEO_URL, gen_body

from kling_notebook import errors
from kling_notebook.domain.events import JobEvent
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.store.journal import FILENAME, Journal

AGE = 480.0  # submitted 8 minutes ago


def journal_entry(folder: Path, duration: int, age: float = AGE) -> None:
    """A submitted generation of ``duration`` seconds whose row was written ``age`` seconds ago."""
    with Journal.in_dir(folder) as journal:
        row = journal.begin({"image_url": "frame.jpg", "duration": duration}, endpoint="universal", base_url=API)
        journal.submitted(row, GEN_ID, "generating")
    then = (datetime.now(timezone.utc) - timedelta(seconds=age)).isoformat(timespec="microseconds")
    with sqlite3.connect(folder / FILENAME) as conn:
        conn.execute("UPDATE generations SET created_at = ? WHERE generation_id = ?", (then, GEN_ID))
    conn.close()


async def test_a_journalled_10s_video_gets_the_10s_schedule_from_its_submit_time(
    gateway, fake_client, clock, tmp_path
):
    journal_entry(tmp_path, duration=10)
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(GEN_ID)
    assert clock.now() - start == pytest.approx(1800, abs=1)  # the 10 s deadline, from now
    # 480 s into a 10 s job (ends 660-840 s): sparse polling, not the first look at 15 s
    assert clock.sleeps[0] == pytest.approx(75)


async def test_a_given_duration_still_wins(gateway, fake_client, clock, tmp_path):
    journal_entry(tmp_path, duration=10)
    gateway.get(gen_body("generating"))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError):
            await client.wait(GEN_ID, duration=5)
    assert clock.now() - start == pytest.approx(900, abs=1)
    assert clock.sleeps[0] < 15  # 480 s is past the 5 s window: dense polling at once


async def test_progress_of_a_resumed_job_counts_from_its_submit_time(gateway, fake_client, tmp_path):
    journal_entry(tmp_path, duration=10)
    gateway.serve(VIDEO_URL, MP4_HEAD + b"frames" * 100)
    gateway.get(gen_body("generating"), gen_body("completed"))
    events: list[JobEvent] = []
    async with fake_client() as client:
        await client.runner.resume(GEN_ID, out_dir=tmp_path, on_event=events.append).wait()
    first = next(e for e in events if e.phase == "generating")
    # 480 s of the 10 s job's expected 750 s: well past half way, with about 270 s left
    assert first.fraction == pytest.approx(0.95 * AGE / 750, abs=0.02)
    assert first.eta == pytest.approx(750 - AGE, abs=5)


def test_cli_wait_id_uses_the_journalled_duration_and_start(
    gateway, fake_client, clock, tmp_path, monkeypatch
):
    journal_entry(tmp_path, duration=10)
    gateway.serve(VIDEO_URL, MP4_HEAD + b"frames" * 100)
    gateway.get(gen_body("generating"), gen_body("completed"))
    monkeypatch.setattr(cli, "connect", lambda **options: fake_client())
    assert cli.main(["wait", GEN_ID, "--out", str(tmp_path)]) == 0
    assert clock.sleeps[0] == pytest.approx(75)
