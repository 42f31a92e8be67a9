"""The journal keeps every paid generation across crashes, threads and processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_notebook import errors
from kling_notebook.store.journal import (
    _MIGRATIONS,
    FILENAME,
    FOUND,
    NOT_CREATED,
    NOT_SUBMITTED,
    SCHEMA_VERSION,
    SUBMITTING,
    UNCERTAIN,
    Journal,
    JournalEntry,
)

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "/v2/video/generations"
BASE_URL = "http://127.0.0.1:8765"
GEN_ID = "b906d239-0000-4000-8000-000000000001:kling-video/v2.1/master/image-to-video"
SECRET = "sk-test-THIS-MUST-NEVER-BE-ON-DISK-1234567890"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.in_dir(tmp_path) as opened:
        yield opened


def submit(journal: Journal, generation_id: str, status: str = "queued") -> int:
    row = journal.begin({"model": "m", "prompt": "p"}, endpoint=ENDPOINT, base_url=BASE_URL)
    journal.submitted(row, generation_id, status)
    return row


def by_id(journal: Journal, generation_id: str) -> JournalEntry:
    entry = journal.get(generation_id)
    assert entry is not None, generation_id
    return entry


def by_row(journal: Journal, row: int) -> JournalEntry:
    entry = journal.get_row(row)
    assert entry is not None, row
    return entry


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    """A separate Python process running ``code`` against this checkout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def raw_bytes(journal: Journal) -> bytes:
    """Everything sqlite wrote for this journal, WAL included."""
    files = [journal.path, Path(f"{journal.path}-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


# -- schema and durability ----------------------------------------------------------------------


def test_schema_is_versioned_and_in_one_file(journal: Journal) -> None:
    assert journal.path.name == FILENAME
    with sqlite3.connect(journal.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # no -wal a copy misses
        columns = {row[1] for row in conn.execute("PRAGMA table_info(generations)")}
    assert {"generation_id", "endpoint", "base_url", "history", "credits_used"} <= columns
    assert not [name for name in columns if "key" in name or "auth" in name]


def test_reopening_keeps_rows_and_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / FILENAME
    with Journal(path) as first:
        submit(first, GEN_ID)
    with Journal(path) as again:
        entry = again.get(GEN_ID)
        assert entry is not None
        assert (entry.endpoint, entry.base_url) == (ENDPOINT, BASE_URL)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(errors.JournalDamagedError, match="newer kling_notebook"):
        Journal(path)


def test_a_journal_of_an_older_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / FILENAME
    with sqlite3.connect(path) as conn:
        for statement in _MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO generations (generation_id, status, request, endpoint, base_url,"
            " created_at, updated_at, history) VALUES ('old', 'queued', '{}', 'e', 'b', 'c', 'u',"
            " '[]')"
        )
    conn.close()
    with Journal(path) as journal:
        assert by_id(journal, "old").partial is None
        journal.record_partial("old", tmp_path / "old.mp4.part")
        assert by_id(journal, "old").partial == str(tmp_path / "old.mp4.part")


def test_id_survives_sigkill_right_after_submitted(tmp_path: Path) -> None:
    child = run_child(
        """
        import os, signal, sys
        from kling_notebook.store.journal import Journal
        journal = Journal(sys.argv[1])
        row = journal.begin({"model": "m", "prompt": "p"}, endpoint=sys.argv[3], base_url=sys.argv[4])
        journal.submitted(row, sys.argv[2], "queued")
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(tmp_path / FILENAME),
        GEN_ID,
        ENDPOINT,
        BASE_URL,
    )
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, stderr
    # No write-ahead log to lose: a copy of the .sqlite3 file alone holds the row.
    assert not (tmp_path / f"{FILENAME}-wal").exists()
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / FILENAME).write_bytes((tmp_path / FILENAME).read_bytes())
    with Journal.in_dir(copy) as copied:
        assert copied.get(GEN_ID) is not None
    with Journal.in_dir(tmp_path) as journal:
        entry = journal.get(GEN_ID)
        assert entry is not None
        assert (entry.status, entry.endpoint, entry.base_url) == ("queued", ENDPOINT, BASE_URL)
        assert [e.generation_id for e in journal.unfinished()] == [GEN_ID]


def test_process_killed_mid_post_leaves_an_uncertain_attempt(tmp_path: Path) -> None:
    child = run_child(
        """
        import os, signal, sys
        from kling_notebook.store.journal import Journal
        Journal(sys.argv[1]).begin({"model": "m", "prompt": "mid-post"}, endpoint="/e", base_url="b")
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(tmp_path / FILENAME),
    )
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    with Journal.in_dir(tmp_path) as journal:
        assert journal.uncertain_entries() == []  # could still be a live POST elsewhere
        (stale,) = journal.uncertain_entries(stale_after=0)
        assert (stale.status, stale.request["prompt"]) == (SUBMITTING, "mid-post")
        assert journal.unfinished() == []


def test_threads_and_processes_write_at_once_without_lock_errors(tmp_path: Path) -> None:
    path = tmp_path / FILENAME
    Journal(path).close()  # schema exists before the race starts
    go = tmp_path / "go"
    per_child, children = 40, 2
    procs = [
        run_child(
            """
            import sys, time
            from pathlib import Path
            from kling_notebook.store.journal import Journal
            path, go, name, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
            journal = Journal(path)
            while not go.exists():
                time.sleep(0.001)
            for i in range(count):
                row = journal.begin({"model": "m", "prompt": name}, endpoint="/e", base_url="b")
                journal.submitted(row, f"{name}-{i}", "queued")
                journal.update(f"{name}-{i}", "generating")
                journal.update(f"{name}-{i}", "error", error="moderation", credits_used=0)
            journal.close()
            """,
            str(path),
            str(go),
            f"proc{n}",
            str(per_child),
        )
        for n in range(children)
    ]
    threads_n, per_thread = 8, 20
    shared, second = Journal(path), Journal(path)  # two connections in this process too
    start = threading.Barrier(threads_n + 1)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        journal = shared if n % 2 else second
        start.wait()
        try:
            for i in range(per_thread):
                submit(journal, f"thread{n}-{i}")
                journal.update(f"thread{n}-{i}", "generating")
                journal.update(f"thread{n}-{i}", "generating")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    go.touch()
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * children, outputs
    assert failures == []
    entries = shared.entries(limit=10_000)
    assert len(entries) == threads_n * per_thread + children * per_child
    assert len({e.generation_id for e in entries}) == len(entries)
    assert len(shared.unfinished()) == threads_n * per_thread  # the children's ended in error
    assert all(
        [status for _, status in e.history] == [SUBMITTING, "queued", "generating"]
        for e in entries
        if e.generation_id and e.generation_id.startswith("thread")
    )
    shared.close()
    second.close()


# -- what needs work ----------------------------------------------------------------------------


def test_pending_and_uncertain_semantics(journal: Journal, tmp_path: Path) -> None:
    fresh = journal.begin({"prompt": "in flight"}, endpoint=ENDPOINT, base_url=BASE_URL)
    refused = journal.begin({"prompt": "400"}, endpoint=ENDPOINT, base_url=BASE_URL)
    journal.not_submitted(refused, "HTTP 400: Body validation error")
    unsure = journal.begin({"prompt": "timeout"}, endpoint=ENDPOINT, base_url=BASE_URL)
    journal.uncertain(unsure, "read timeout after the body was sent")
    submit(journal, "running", "generating")
    submit(journal, "failed", "queued")
    journal.update("failed", "error", error="moderation")
    submit(journal, "done-no-url", "queued")
    journal.update("done-no-url", "completed")
    submit(journal, "done", "queued")
    journal.update("done", "completed", video_url="http://v/done.mp4")

    assert [e.generation_id for e in journal.unfinished()] == ["running", "done-no-url", "done"]
    (uncertain,) = journal.uncertain_entries()
    assert (uncertain.row, uncertain.status, uncertain.error) == (
        unsure,
        UNCERTAIN,
        "read timeout after the body was sent",
    )
    assert by_row(journal, refused).status == NOT_SUBMITTED
    assert by_row(journal, fresh).status == SUBMITTING

    video = tmp_path / "done.mp4"
    video.write_bytes(b"mp4")
    journal.downloaded("done", video)
    assert [e.generation_id for e in journal.unfinished()] == ["running", "done-no-url"]
    video.unlink()  # deleted or lost: must be downloaded again
    assert [e.generation_id for e in journal.unfinished()] == ["running", "done-no-url", "done"]

    journal.found(unsure, "found-later")  # the user found the id in the dashboard
    assert journal.uncertain_entries() == []
    assert "found-later" in [e.generation_id for e in journal.unfinished()]


# -- the user's verdict on uncertain attempts ---------------------------------------------------


def uncertain_attempt(journal: Journal, prompt: str = "lost answer") -> int:
    row = journal.begin({"prompt": prompt}, endpoint=ENDPOINT, base_url=BASE_URL)
    journal.uncertain(row, "ReadTimeout after the request was sent")
    return row


def test_found_makes_an_uncertain_attempt_pending(journal: Journal) -> None:
    row = uncertain_attempt(journal)
    journal.found(row, GEN_ID)
    entry = by_row(journal, row)
    assert (entry.generation_id, entry.status) == (GEN_ID, FOUND)
    assert [status for _, status in entry.history] == [SUBMITTING, UNCERTAIN, FOUND]
    assert entry.request["prompt"] == "lost answer"  # still knows what was asked
    assert journal.uncertain_entries() == []
    assert [e.row for e in journal.unfinished()] == [row]
    journal.update(GEN_ID, "generating")  # resume's first poll
    assert by_row(journal, row).status == "generating"
    with pytest.raises(ValueError, match="not an attempt awaiting a check"):
        journal.not_created(row)  # polled since: the generation exists


def test_not_created_stops_listing_and_either_verdict_can_be_corrected(journal: Journal) -> None:
    row = uncertain_attempt(journal)
    journal.not_created(row)
    entry = by_row(journal, row)
    assert (entry.generation_id, entry.status) == (None, NOT_CREATED)
    assert journal.uncertain_entries() == [] and journal.unfinished() == []
    journal.found(row, "typo")  # it turned up after all
    journal.found(row, GEN_ID)  # ...under another id than first typed (never polled yet)
    assert journal.get("typo") is None and by_row(journal, row).generation_id == GEN_ID
    journal.not_created(row)
    assert by_row(journal, row).generation_id is None and journal.unfinished() == []


def test_stale_submitting_rows_can_be_settled_live_ones_cannot(journal: Journal) -> None:
    sending = journal.begin({"prompt": "in flight here"}, endpoint=ENDPOINT, base_url=BASE_URL)
    with sqlite3.connect(journal.path) as conn:  # rows other processes began: just now, long ago
        for created in ("2999-01-01", "2000-01-01"):
            conn.execute(
                "INSERT INTO generations (status, request, endpoint, base_url, created_at,"
                " updated_at, history) VALUES (?, '{}', ?, ?, ?, ?, '[]')",
                (SUBMITTING, ENDPOINT, BASE_URL, created, created),
            )
        conn.execute("UPDATE generations SET created_at = '2000-01-01' WHERE row = ?", (sending,))
    conn.close()
    recent, dead = sending + 1, sending + 2
    for live in (sending, recent):  # a POST that may still get its answer
        with pytest.raises(ValueError, match="'submitting'"):
            journal.not_created(live)
    journal.found(dead, GEN_ID)
    assert by_row(journal, dead).status == FOUND


def test_settling_refuses_rows_that_await_no_check(journal: Journal) -> None:
    paid = submit(journal, GEN_ID)
    refused = journal.begin({"prompt": "400"}, endpoint=ENDPOINT, base_url=BASE_URL)
    journal.not_submitted(refused, "HTTP 400")
    for row in (paid, refused):
        with pytest.raises(ValueError, match="not an attempt awaiting a check"):
            journal.not_created(row)
    with pytest.raises(ValueError, match="does not exist"):
        journal.found(999, "x")
    unsure = uncertain_attempt(journal)
    with pytest.raises(ValueError, match=f"belongs to journal row {paid}"):
        journal.found(unsure, GEN_ID)  # a typo naming another attempt's generation
    assert by_row(journal, unsure).status == UNCERTAIN
    assert by_id(journal, GEN_ID).row == paid


def test_found_folds_in_the_row_wait_adopted(journal: Journal, tmp_path: Path) -> None:
    row = uncertain_attempt(journal, "saved with wait ID first")
    adopted = journal.adopt(GEN_ID, "queued", endpoint=ENDPOINT, base_url=BASE_URL)
    journal.update(GEN_ID, "completed", video_url="http://v", credits_used=420.0)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"mp4")
    journal.downloaded(GEN_ID, video)

    journal.found(row, GEN_ID)
    assert journal.get_row(adopted) is None
    entry = by_id(journal, GEN_ID)
    assert (entry.row, entry.status, entry.credits_used) == (row, "completed", 420.0)
    assert entry.path == str(video) and entry.request["prompt"] == "saved with wait ID first"
    assert journal.unfinished() == [] and journal.uncertain_entries() == []


def test_attempt_transitions_refuse_rows_that_already_have_an_id(journal: Journal) -> None:
    row = submit(journal, GEN_ID)
    with pytest.raises(ValueError, match="already has an id"):
        journal.not_submitted(row, "would hide a paid job")
    with pytest.raises(ValueError):
        journal.uncertain(12345, "no such row")
    assert by_id(journal, GEN_ID).status == "queued"


def test_history_grows_only_on_change_and_never_regresses(journal: Journal) -> None:
    submit(journal, GEN_ID, "queued")
    first = by_id(journal, GEN_ID)
    on_disk = raw_bytes(journal)
    journal.update(GEN_ID, "queued")
    journal.update(GEN_ID, "queued", credits_used=None, video_url=None)
    assert by_id(journal, GEN_ID) == first
    assert raw_bytes(journal) == on_disk  # a poll that saw nothing new wrote nothing
    journal.update(GEN_ID, "queued", credits_used=210.0)  # credits alone are news
    second = by_id(journal, GEN_ID)
    assert second.credits_used == 210.0 and len(second.history) == len(first.history) == 2
    assert second.last_seen is not None and second.last_seen > second.created_at
    assert raw_bytes(journal) != on_disk

    journal.update(GEN_ID, "generating")
    journal.update(GEN_ID, "completed", video_url="http://v", credits_used=42.0)
    journal.update(GEN_ID, "generating")  # a stale poll from another process
    entry = by_id(journal, GEN_ID)
    assert [status for _, status in entry.history] == [
        SUBMITTING,
        "queued",
        "generating",
        "completed",
    ]
    assert (entry.status, entry.video_url, entry.credits_used) == ("completed", "http://v", 42.0)
    assert [at for at, _ in entry.history] == sorted(at for at, _ in entry.history)


def test_unknown_ids_are_errors_and_adopt_is_idempotent(journal: Journal) -> None:
    with pytest.raises(KeyError):
        journal.update("never-seen", "queued")
    with pytest.raises(KeyError):
        journal.downloaded("never-seen", "x.mp4")
    row = journal.adopt("external", "generating", endpoint=ENDPOINT, base_url=BASE_URL)
    assert journal.adopt("external", "queued", endpoint=ENDPOINT, base_url=BASE_URL) == row
    assert [e.generation_id for e in journal.unfinished()] == ["external"]
    assert by_id(journal, "external").status == "generating"


def test_the_partial_download_is_named_until_the_video_is_saved(journal: Journal) -> None:
    submit(journal, GEN_ID)
    folder = journal.path.parent
    journal.record_partial(GEN_ID, folder / "v.mp4.part")
    assert by_id(journal, GEN_ID).partial == str(folder / "v.mp4.part")
    assert [e.generation_id for e in journal.with_partial()] == [GEN_ID]
    journal.downloaded(GEN_ID, folder / "v.mp4")
    entry = by_id(journal, GEN_ID)
    assert (entry.partial, entry.path) == (None, str(folder / "v.mp4"))
    journal.record_partial(GEN_ID, folder / "again.mp4.part")
    journal.record_partial(GEN_ID, None)  # deleted as abandoned
    assert journal.with_partial() == []
    with pytest.raises(KeyError):
        journal.record_partial("never-seen", None)


def test_output_folder_can_be_moved(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Journal.in_dir(out) as journal:
        submit(journal, GEN_ID)
        journal.update(GEN_ID, "completed", video_url="http://v")
        (out / "videos").mkdir()
        (out / "videos" / "a.mp4").write_bytes(b"mp4")
        journal.downloaded(GEN_ID, out / "videos" / "a.mp4")
    moved = shutil.move(out, tmp_path / "moved")
    with Journal.in_dir(moved) as journal:
        assert by_id(journal, GEN_ID).path == str(Path(moved) / "videos" / "a.mp4")
        assert journal.unfinished() == []


# -- what is stored -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_body",
    [
        {"model": "m", "api_key": SECRET},
        {"model": "m", "Authorization": f"Bearer {SECRET}"},
        {"model": "m", "headers": {"X-API-Key": SECRET}},
        {"model": "m", "note": f"bearer {SECRET}"},
    ],
)
def test_credentials_are_refused_and_never_written(journal: Journal, request_body: dict) -> None:
    with pytest.raises(ValueError, match="refusing") as raised:
        journal.begin(request_body, endpoint=ENDPOINT, base_url=BASE_URL)
    assert SECRET not in str(raised.value)
    assert journal.entries() == []
    assert SECRET.encode() not in raw_bytes(journal)


def test_image_bytes_become_placeholders(journal: Journal) -> None:
    raw = "iVBORw0KGgo" + "A" * 5000
    data_uri = "data:image/png;base64," + "B" * 3000
    long_prompt = "word " * 400
    row = journal.begin(
        {
            "model": "m",
            "image_url": raw,
            "static_mask": data_uri,
            "dynamic_masks": [{"mask": data_uri, "trajectories": [{"x": 1, "y": 2}]}],
            "prompt": long_prompt,
            "negative_prompt": "x" * 2000,
        },
        endpoint=ENDPOINT,
        base_url=BASE_URL,
        estimate={"usd": 1.4, "credits": None},
    )
    request = by_row(journal, row).request
    assert request["image_url"].startswith(f"<base64 image, {len(raw)} chars, sha256 ")
    assert request["static_mask"].startswith(f"<base64 image, {len(data_uri)} chars")
    assert request["dynamic_masks"][0]["mask"] == request["static_mask"]
    assert request["dynamic_masks"][0]["trajectories"] == [{"x": 1, "y": 2}]
    assert (request["prompt"], request["negative_prompt"]) == (long_prompt, "x" * 2000)
    assert by_row(journal, row).estimate == {"usd": 1.4, "credits": None}
    assert b"A" * 1000 not in raw_bytes(journal)

    url_row = journal.begin(
        {"image_url": "https://example.com/a.png"}, endpoint=ENDPOINT, base_url=BASE_URL
    )
    assert by_row(journal, url_row).request["image_url"] == "https://example.com/a.png"


def test_entries_pages_newest_first(journal: Journal) -> None:
    rows = [
        journal.begin({"prompt": str(i)}, endpoint=ENDPOINT, base_url=BASE_URL) for i in range(250)
    ]
    page = journal.entries()
    assert len(page) == 200
    assert [e.row for e in page] == rows[::-1][:200]
    assert [e.row for e in journal.entries(limit=100, offset=200)] == rows[49::-1]


def test_default_location_follows_the_output_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KLING_NOTEBOOK_OUTPUTS", str(tmp_path / "env-out"))
    with Journal.in_dir() as journal:
        assert journal.path == tmp_path / "env-out" / FILENAME
        assert journal.path.is_file()


async def test_closing_lets_the_work_handed_to_the_journal_finish(tmp_path: Path) -> None:
    """close() waits for the journal's thread; work there that still needs the journal's lock
    must get it (a client closed while a job's write was queued hung here)."""
    journal = Journal.in_dir(tmp_path)
    go = threading.Event()

    def work() -> int:
        go.wait(5)
        return len(journal.entries(limit=1))

    pending = asyncio.ensure_future(journal.run(work))
    await asyncio.sleep(0.1)  # the journal's thread is in work()
    closer = threading.Thread(target=journal.close, daemon=True)
    closer.start()
    await asyncio.sleep(0.1)  # close() waits for that thread
    go.set()
    closer.join(5)
    assert not closer.is_alive(), "close() and the journal's thread wait for each other"
    assert await pending == 0
