"""A damaged journal never makes a paid generation disappear: an emptied, unreadable or deleted
``journal.sqlite3`` is rebuilt from its append-only record; one bad row is skipped, not fatal; a
newer schema, another program's database or a folder in its place is a typed error saying what
to do; a journal is read without write access; and nobody is told a live submitter stopped."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kling_notebook import errors
from kling_notebook.store import journal as journal_module
from kling_notebook.store.journal import FILENAME, UNCERTAIN, Journal
from kling_notebook.store.processes import this_process
from kling_notebook.store.record import FILENAME as RECORD

BASE_URL = "https://api.test"
ENDPOINT = "universal"
PAID = "b906d239-0000-4000-8000-000000000001:kling-video/v2.1/master/image-to-video"
KEY = "sk-test-SECRET-record"


def paid_generation(folder: Path) -> int:
    """A journal with one submitted (paid, unfinished) generation and one uncertain attempt."""
    with Journal.in_dir(folder) as journal:
        row = journal.begin({"prompt": "paid", "duration": 5}, endpoint=ENDPOINT, base_url=BASE_URL,
                            client_request_id="kn-1")
        journal.submitted(row, PAID, "queued")
        lost = journal.begin({"prompt": "lost answer"}, endpoint=ENDPOINT, base_url=BASE_URL)
        journal.uncertain(lost, "ReadTimeout after the request was sent")
    return lost


def test_the_record_holds_every_attempt_and_id_in_plain_json_lines(tmp_path: Path) -> None:
    paid_generation(tmp_path)
    lines = (tmp_path / RECORD).read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["begin", "outcome", "begin", "outcome"]
    assert events[0]["client_request_id"] == "kn-1" and events[0]["submitter"] == this_process()
    assert events[1]["generation_id"] == PAID and events[3]["status"] == UNCERTAIN
    assert oct((tmp_path / RECORD).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("damage", ["emptied", "garbage", "deleted"])
def test_a_damaged_journal_is_rebuilt_from_the_record(tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    lost = paid_generation(tmp_path)
    path = tmp_path / FILENAME
    if damage == "emptied":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    else:
        path.unlink()
    with caplog.at_level(logging.WARNING), Journal.in_dir(tmp_path) as journal:
        assert [e.generation_id for e in journal.unfinished()] == [PAID]  # the paid id is back
        assert [e.row for e in journal.uncertain_entries()] == [lost]
        assert journal.get(PAID) is not None and journal.get(PAID).client_request_id == "kn-1"
        assert journal.notice is not None and "rebuilt from attempts.jsonl" in journal.notice
    assert "rebuilt" in caplog.text
    if damage != "deleted":  # never deleted: moved aside for whoever wants to look
        (aside,) = tmp_path.glob(f"{FILENAME}.damaged-*")
        assert aside.stat().st_size == (0 if damage == "emptied" else 2200)


def test_without_a_record_a_damaged_journal_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_bytes(b"")
    with pytest.raises(errors.JournalDamagedError) as caught:
        Journal.in_dir(tmp_path)
    assert "is empty" in str(caught.value) and "kling-notebook wait ID" in caught.value.hint
    assert (tmp_path / FILENAME).exists()  # left in place: nothing is thrown away


def test_a_journal_older_than_records_seeds_its_record_first(tmp_path: Path) -> None:
    paid_generation(tmp_path)
    (tmp_path / RECORD).unlink()  # as a folder made before records were kept
    with Journal.in_dir(tmp_path):
        pass  # opening seeds the record from the rows
    (tmp_path / FILENAME).write_bytes(b"")
    with Journal.in_dir(tmp_path) as journal:
        assert [e.generation_id for e in journal.unfinished()] == [PAID]


def test_one_bad_row_is_skipped_and_the_others_still_work(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paid_generation(tmp_path)
    with sqlite3.connect(tmp_path / FILENAME) as conn:
        conn.execute("UPDATE generations SET request = 'not json {' WHERE generation_id IS NULL")
    with caplog.at_level(logging.WARNING), Journal.in_dir(tmp_path) as journal:
        assert [e.generation_id for e in journal.entries()] == [PAID]
        assert [e.generation_id for e in journal.unfinished()] == [PAID]
    assert "cannot be read" in caplog.text


def test_another_programs_database_a_newer_schema_and_a_folder_are_typed_errors(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    with sqlite3.connect(foreign / FILENAME) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    with pytest.raises(errors.JournalDamagedError, match="another program's database"):
        Journal.in_dir(foreign)
    folder = tmp_path / "folder"
    (folder / FILENAME).mkdir(parents=True)
    with pytest.raises(errors.JournalDamagedError, match="is a folder"):
        Journal.in_dir(folder)


def test_a_journal_is_read_without_write_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paid_generation(tmp_path)
    before = {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if mode == os.W_OK else real_access(path, mode))
    with Journal.in_dir(tmp_path) as journal:
        assert journal.readonly and [e.generation_id for e in journal.entries()] == [None, PAID]
        with pytest.raises(errors.StorageError, match="read-only"):
            journal.adopt("other", "queued", endpoint=ENDPOINT, base_url=BASE_URL)
    assert {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == before
    with Journal.in_dir(tmp_path / "never-made") as empty:  # read-only and missing: no rows, no file
        assert empty.entries() == []
    assert not (tmp_path / "never-made").exists()


def test_a_submit_still_running_in_another_process_is_not_reported_as_lost(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Journal.in_dir(tmp_path) as journal:
            alive = journal.begin({"prompt": "held by 429s"}, endpoint=ENDPOINT, base_url=BASE_URL)
            dead = journal.begin({"prompt": "killed"}, endpoint=ENDPOINT, base_url=BASE_URL)
        host, pid, start = this_process().split("/")
        with open(f"/proc/{child.pid}/stat") as stat:
            child_start = stat.read().rsplit(")", 1)[1].split()[19]
        with sqlite3.connect(tmp_path / FILENAME) as conn:
            conn.execute("UPDATE generations SET submitter = ? WHERE row = ?", (f"{host}/{child.pid}/{child_start}", alive))
            conn.execute("UPDATE generations SET submitter = ? WHERE row = ?", (f"{host}/{child.pid}/1", dead))
        time.sleep(0.01)
        # This process began both, so its in-flight set hides them: look as another process would.
        with journal_module._in_flight_lock:
            journal_module._in_flight.clear()
        with Journal.in_dir(tmp_path) as other:
            listed = [e.row for e in other.uncertain_entries(stale_after=0)]
        assert listed == [dead]  # the live submitter's attempt is not "stopped while submitting"
    finally:
        child.kill()
        child.wait()


KILLED_MID_WRITE = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")  # the change reaches the file before its commit
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE generations SET status = 'half written'")
conn.execute("CREATE TABLE padding AS SELECT zeroblob(4096) AS b FROM generations, generations g2")
os._exit(9)  # killed before the commit: a hot rollback journal is left beside the file
"""


def test_a_write_cut_by_a_kill_is_rolled_back_not_rebuilt(tmp_path: Path) -> None:
    """A process killed mid-write leaves ``journal.sqlite3-journal`` beside the file: sqlite rolls
    that write back on the next open. The journal is whole, so it is not taken for damaged and
    rebuilt from the record (which keeps no poll statuses or saved paths)."""
    paid_generation(tmp_path)
    with Journal.in_dir(tmp_path) as journal:
        journal.update(PAID, "completed", video_url="https://cdn.test/v.mp4")
        journal.downloaded(PAID, tmp_path / "v.mp4")
    subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(tmp_path / FILENAME)], check=False)
    assert (tmp_path / f"{FILENAME}-journal").stat().st_size > 0
    with Journal.in_dir(tmp_path) as journal:
        assert journal.notice is None
        entry = journal.get(PAID)
        assert entry is not None and entry.status == "completed" and entry.path == str(tmp_path / "v.mp4")
    assert not list(tmp_path.glob(f"{FILENAME}.damaged-*"))
