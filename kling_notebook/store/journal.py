"""The write-ahead journal: every paid (or possibly paid) generation is on disk before anything else.

A row is written *before* the create POST (status ``submitting``), then marked ``submitted`` with
the generation id, ``uncertain`` when the POST outcome is unknown, or ``not_submitted`` when it
provably never created a job. The user settles an uncertain attempt once they have checked the
gateway's dashboard: ``found`` (its id, so resume finishes it) or ``not_created``. Status polls and
the download update the same row, so a crash at any point leaves enough behind to resume without
paying twice. The journal holds the base URL and endpoint pair but never the API key.

Storage is sqlite3 with a rollback journal (so the ``.sqlite3`` file alone, copied by a backup, a
sync tool or JupyterLab's Download, holds every row) and ``synchronous=FULL`` (every commit is
fsync'd); beside it, :mod:`~kling_notebook.store.record` keeps a second, append-only copy of every
attempt and id, from which an emptied, damaged or deleted journal is rebuilt. Journal writes
are rare, so durability wins over speed: a poll writes only when it changed something (status,
credits, video URL, error), so ``last_seen`` is when a poll last brought news. One connection per
:class:`Journal`, guarded by a lock, serves all threads; other processes open their own. Writes
take the write lock up front (``BEGIN IMMEDIATE``) and are retried when another process holds it
past the busy timeout. Async code calls the journal through :meth:`Journal.run`, on the journal's
own thread, so an fsync or a lock held by another process never stalls an event loop.
Timestamps are UTC ISO-8601 strings with microseconds, so they sort as text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from ..domain import errors
from ..domain.generation import FAILED_STATUSES
from .outputs import find_out_dir, scrub
from .processes import is_running, this_process
from .record import FILENAME as RECORD_FILENAME
from .record import Record

__all__ = [
    "Journal",
    "JournalEntry",
    "FILENAME",
    "SUBMITTING",
    "UNCERTAIN",
    "NOT_SUBMITTED",
    "DUPLICATE",
    "IdTaken",
    "FOUND",
    "NOT_CREATED",
    "COMPLETED",
    "FAILED",
]

FILENAME = "journal.sqlite3"

SUBMITTING = "submitting"
UNCERTAIN = "uncertain"
NOT_SUBMITTED = "not_submitted"
#: The POST was answered with the id of a generation another row holds (see Journal.duplicate).
DUPLICATE = "duplicate"
#: The user found an uncertain attempt's generation; its state is read at the next poll.
FOUND = "found"
#: The user confirmed an uncertain attempt created nothing.
NOT_CREATED = "not_created"
COMPLETED = "completed"
#: Gateway statuses meaning the generation ended without a video (the ones the client raises for).
FAILED = FAILED_STATUSES

_BUSY_TIMEOUT_S = 10.0
_LOCK_RETRIES = 20
# A row still "submitting" after this long, and not begun by this process, belongs to a process
# that died mid-POST. Rows this process is submitting are known exactly (_in_flight), so this only
# guesses about other processes: a live one gets the POST's answer within the client's timeout
# (10 s connect + 60 s read) plus a short backoff. It used to be 300 s, long enough to hide an
# attempt lost to a kernel restart until after the user had clicked Generate again. Listing a row
# of a slow live process early loses nothing: the user's verdict is recorded, and the id that
# process receives later is still written into the row (submitted() fills any row without an id),
# so resume finishes it. What listing early cannot prevent is a user who finds nothing on the
# dashboard while that process is still backing off from 429s and pays again; the panel's advice
# says to let other notebooks finish submitting first.
_STALE_SUBMIT_S = 90.0
# Rows whose POST this process may still be sending: (journal file, row), begun and not settled.
_in_flight: set[tuple[Path, int]] = set()
_in_flight_lock = threading.Lock()

# Schema version N is reached by applying _MIGRATIONS[N - 1]; append, never edit.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE generations (
            row INTEGER PRIMARY KEY AUTOINCREMENT,
            generation_id TEXT UNIQUE,
            status TEXT NOT NULL,
            request TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            base_url TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_seen TEXT,
            history TEXT NOT NULL,
            credits_used REAL,
            video_url TEXT,
            error TEXT,
            path TEXT,
            estimate TEXT
        )""",
        "CREATE INDEX generations_status ON generations (status)",
    ),
    # The .part file a download streams into, so a later process continues it or deletes it.
    ("ALTER TABLE generations ADD COLUMN partial TEXT",),
    # The X-Client-Request-Id sent with the POST (the gateway's logs find it by that), and who sent it.
    (
        "ALTER TABLE generations ADD COLUMN client_request_id TEXT",
        "ALTER TABLE generations ADD COLUMN submitter TEXT",
        # Made by the demo emulator (simulated, free): another process's demo emulator answers it.
        "ALTER TABLE generations ADD COLUMN demo INTEGER NOT NULL DEFAULT 0",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

_T = TypeVar("_T")

log = logging.getLogger("kling_notebook")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _stale_cutoff(seconds: float) -> str:
    """The timestamp before which a ``submitting`` row belongs to a process that died."""
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds)).isoformat(
        timespec="microseconds"
    )


class IdTaken(ValueError):
    """A generation id the journal already holds for another row."""

    def __init__(self, generation_id: str, row: int) -> None:
        super().__init__(f"{generation_id} already belongs to journal row {row}")
        self.generation_id = generation_id
        self.row = row


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be written, or made in its nearest existing parent."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _is_terminal(status: str) -> bool:
    return status == COMPLETED or status in FAILED


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@dataclass(frozen=True)
class JournalEntry:
    """One attempt to generate a video, as recorded on disk."""

    row: int
    generation_id: str | None
    status: str
    request: dict[str, Any]
    endpoint: str
    base_url: str
    created_at: str
    updated_at: str
    last_seen: str | None
    history: tuple[tuple[str, str], ...]
    credits_used: float | None
    video_url: str | None
    error: str | None
    path: str | None
    estimate: dict[str, Any] | None
    partial: str | None
    client_request_id: str | None = None
    #: The process that sent the POST (see :mod:`~kling_notebook.store.processes`).
    submitter: str | None = None
    #: Made by the demo emulator (simulated videos, nothing charged).
    demo: bool = False

    @property
    def age(self) -> float:
        """Seconds since the attempt was recorded (just before its POST): how far along a job
        picked up later already is. 0 for a timestamp that cannot be read or lies ahead."""
        try:
            created = datetime.fromisoformat(self.created_at)
        except ValueError:
            return 0.0
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        return max(0.0, (datetime.now(timezone.utc) - created).total_seconds())

    @property
    def needs_work(self) -> bool:
        """Submitted but not finished, or finished without the video file on disk."""
        if self.generation_id is None or self.status in FAILED:
            return False
        if self.status != COMPLETED:
            return True
        return self.path is None or not Path(self.path).is_file()


class Journal:
    """The journal file; safe to share between threads and to open from several processes
    (open one per process: a connection must not cross a ``fork``). A thread waiting for
    another process's lock holds this object's lock meanwhile; writes are short, so that is rare."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool | None = None) -> None:
        """Open (or create) the journal at ``path``. ``readonly`` (default: when its folder is not
        writable) reads without ever writing: a copy of someone's outputs can still be listed.

        A journal that is missing, empty or unreadable is rebuilt from its record (moved aside
        first, never deleted; :attr:`notice` says what happened); without a record to rebuild
        from, or a newer schema, another program's database or a folder in its place, this raises
        :class:`~kling_notebook.errors.JournalDamagedError` saying what to do."""
        self.path = Path(path).absolute()
        self.record = Record(self.path.with_name(RECORD_FILENAME))
        folder = self.path.parent
        self.readonly = not _writable(folder) if readonly is None else readonly
        #: What opening found and did (a rebuild), for the front ends to show; None when nothing.
        self.notice: str | None = None
        self._lock = threading.RLock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._recording = True
        if self.path.is_dir():
            raise errors.JournalDamagedError(
                f"{self.path} is a folder, not a journal.",
                hint="Move it away (or choose another outputs folder) and open the journal again.",
            )
        damage = self._damage()
        if not self.readonly:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise errors.StorageError(f"Could not create {folder} ({exc.strerror or exc}).") from exc
        events = self.record.events() if damage or not self.path.exists() else []
        if damage and not events:
            raise errors.JournalDamagedError(
                f"{self.path.name} in {folder} {damage}, and there is no {RECORD_FILENAME} to rebuild it from.",
                hint="Its generations are not lost at the gateway: each video's sidecar (.json) holds "
                "its id, and `kling-notebook wait ID` saves one by id. Move the file aside to start a new journal.",
            )
        aside = self._move_aside() if damage and not self.readonly else None
        self._conn = self._connect()
        try:
            if not self.readonly:
                self._retry(self._configure)
                self._write(self._migrate)
            if not self.readonly and not self.record.path.exists():
                self._seed_record()
            if events and not self.readonly:
                self._replay(events)
                what = f"{damage}: it was moved aside as {aside.name}" if aside else "was missing"
                self.notice = f"{self.path.name} {what} and was rebuilt from {RECORD_FILENAME}."
                log.warning("%s", self.notice)
        except BaseException:
            self._conn.close()
            raise

    def _damage(self) -> str | None:
        """Why the file at :attr:`path` cannot be used as a journal, or None (missing is fine).
        A newer schema or another program's database is an error: neither is ours to rebuild."""
        if not self.path.exists():
            return None
        if self.path.stat().st_size == 0:
            return "is empty (0 bytes)"
        # Read-write when allowed: a write cut short by a kill leaves a hot rollback journal beside
        # the file, which sqlite rolls back on the first read, and a read-only probe cannot.
        try:
            probe = sqlite3.connect(f"{self.path.as_uri()}?mode={'ro' if self.readonly else 'rw'}", uri=True)
            try:
                tables = {name for (name,) in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                version = probe.execute("PRAGMA user_version").fetchone()[0]
                healthy = probe.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            finally:
                probe.close()
        except sqlite3.DatabaseError:
            return "is not a readable sqlite database"
        if tables and "generations" not in tables:
            raise errors.JournalDamagedError(
                f"{self.path} is another program's database, not a kling_notebook journal.",
                hint="Choose another outputs folder (out_dir= or $KLING_NOTEBOOK_OUTPUTS), or move the file away.",
            )
        if version > SCHEMA_VERSION:
            raise errors.JournalDamagedError(
                f"{self.path} was written by a newer kling_notebook (schema {version}, this one reads {SCHEMA_VERSION}).",
                hint="Upgrade kling_notebook (pip install -U kling_notebook) to use it.",
            )
        return None if healthy else "is damaged (sqlite's integrity check failed)"

    def _move_aside(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    os.replace(source, f"{aside}{suffix}")
        except OSError as exc:
            raise errors.StorageError(f"Could not move the damaged {self.path.name} aside ({exc.strerror or exc}).") from exc
        return aside

    def _connect(self) -> sqlite3.Connection:
        """A connection to the journal (read-only ones never create it: they see no rows)."""
        try:
            if self.readonly:
                target = f"{self.path.as_uri()}?mode=ro" if self.path.exists() else "file::memory:"
                conn = sqlite3.connect(target, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
                if not self.path.exists():
                    for statements in _MIGRATIONS:
                        for statement in statements:
                            conn.execute(statement)
            else:
                conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise errors.StorageError(f"Could not open {self.path} ({exc}).") from exc
        conn.row_factory = sqlite3.Row
        return conn

    @classmethod
    def in_dir(cls, out_dir: str | os.PathLike[str] | None = None) -> Journal:
        """The journal of an output folder (default: :func:`outputs.find_out_dir`)."""
        return cls(find_out_dir(out_dir) / FILENAME)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file once the work handed to the journal's thread has ended (outside the
        lock, which that work takes)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        with self._lock:
            self._conn.close()

    async def run(self, work: Callable[[], _T], *, undo: Callable[[_T], object] | None = None) -> _T:
        """Run ``work`` (calls of this journal) on the journal's own thread, so sqlite's fsync and
        lock waits never hold up the event loop.

        A write that has started is never abandoned half way: when the awaiting task is cancelled,
        this waits for ``work`` to end, passes its result to ``undo`` (e.g. marking a row that was
        just begun as never sent), and only then lets the cancellation go on.
        """
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(1, "kling-journal")
            future = self._executor.submit(work)
        try:
            return await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            concurrent.futures.wait([future])
            if undo is not None and not future.cancelled() and future.exception() is None:
                undo(future.result())
            raise

    # -- plumbing -------------------------------------------------------------------------------

    def _retry(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` under the thread lock, retrying while another process holds sqlite's
        lock for longer than the busy timeout. A full disk, a read-only file or a vanished folder
        is a :class:`~kling_notebook.errors.StorageError`."""
        with self._lock:
            attempt = 0
            while True:
                try:
                    return work()
                except sqlite3.OperationalError as exc:
                    if not _is_locked(exc) or attempt == _LOCK_RETRIES:
                        raise errors.StorageError(f"The journal {self.path} could not be used ({exc}).") from exc
                except sqlite3.IntegrityError:  # a rule of the journal's own, said by its caller
                    raise
                except sqlite3.DatabaseError as exc:
                    raise errors.JournalDamagedError(
                        f"The journal {self.path} is damaged ({exc}).",
                        hint=f"Open it again: a damaged journal is moved aside and rebuilt from {RECORD_FILENAME}.",
                    ) from exc
                time.sleep(min(0.05 * 2**attempt, 1.0))
                attempt += 1

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one write transaction, committed (and fsync'd) before returning."""
        if self.readonly:
            raise errors.StorageError(
                f"The journal {self.path} is read-only here: nothing can be recorded.",
                hint="Use a writable outputs folder (out_dir= or $KLING_NOTEBOOK_OUTPUTS) to generate or resume.",
            )

        def transaction() -> _T:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._conn)
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
            return result

        return self._retry(transaction)

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self._retry(lambda: self._conn.execute(sql, tuple(params)).fetchall())

    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        self._conn.execute("PRAGMA journal_mode = DELETE")  # no separate log a copy could miss
        self._conn.execute("PRAGMA synchronous = FULL")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise errors.JournalDamagedError(
                f"{self.path} was written by a newer kling_notebook (schema {version}).",
                hint="Upgrade kling_notebook (pip install -U kling_notebook) to use it.",
            )
        for statements in _MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _stored(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the journal's folder when inside it, so the whole output folder
        can be moved or copied; else absolute."""
        absolute = Path(path).absolute()
        try:
            return absolute.relative_to(self.path.parent).as_posix()
        except ValueError:
            return str(absolute)

    def _absolute(self, stored: str | None) -> str | None:
        return None if stored is None else str(self.path.parent / stored)

    def _entry(self, row: sqlite3.Row) -> JournalEntry:
        columns = row.keys()  # a read-only journal may be of an older schema
        return JournalEntry(
            row=row["row"],
            generation_id=row["generation_id"],
            status=row["status"],
            request=json.loads(row["request"]),
            endpoint=row["endpoint"],
            base_url=row["base_url"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            last_seen=row["last_seen"],
            history=tuple((at, status) for at, status in json.loads(row["history"])),
            credits_used=row["credits_used"],
            video_url=row["video_url"],
            error=row["error"],
            path=self._absolute(row["path"]),
            estimate=None if row["estimate"] is None else json.loads(row["estimate"]),
            partial=self._absolute(row["partial"]) if "partial" in columns else None,
            client_request_id=row["client_request_id"] if "client_request_id" in columns else None,
            submitter=row["submitter"] if "submitter" in columns else None,
            demo=bool(row["demo"]) if "demo" in columns else False,
        )

    def _select(self, where: str, params: Iterable[Any] = ()) -> list[JournalEntry]:
        rows = self._query(f"SELECT * FROM generations WHERE {where} ORDER BY row", params)
        return self._entries(rows)

    def _entries(self, rows: Iterable[sqlite3.Row]) -> list[JournalEntry]:
        """The entries of ``rows``; a row that cannot be read (its request is not JSON, say) is
        skipped with a warning, so one bad row never hides the others."""
        entries = []
        for row in rows:
            try:
                entries.append(self._entry(row))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("journal row %s of %s cannot be read (%s): skipped", row["row"], self.path, exc)
        return entries

    @staticmethod
    def _find(conn: sqlite3.Connection, generation_id: str) -> sqlite3.Row:
        found = conn.execute(
            "SELECT * FROM generations WHERE generation_id = ?", (generation_id,)
        ).fetchone()
        if found is None:
            raise KeyError(f"generation {generation_id!r} is not in the journal")
        return found

    @staticmethod
    def _assign(conn: sqlite3.Connection, row: int, columns: dict[str, Any]) -> None:
        """Set ``columns`` (names from this module, never from input) on journal ``row``."""
        assignments = ", ".join(f"{column} = ?" for column in columns)
        conn.execute(f"UPDATE generations SET {assignments} WHERE row = ?", (*columns.values(), row))

    @staticmethod
    def _with_status(history_json: str, status: str, at: str) -> str:
        history = json.loads(history_json)
        if not history or history[-1][1] != status:
            history.append([at, status])
        return json.dumps(history)

    # -- the submit protocol --------------------------------------------------------------------

    def begin(
        self,
        request: dict[str, Any],
        *,
        endpoint: str,
        base_url: str,
        estimate: dict[str, Any] | None = None,
        client_request_id: str | None = None,
        demo: bool = False,
    ) -> int:
        """Record an attempt before its POST is sent; returns the row to pass to the next call.
        The attempt is in the journal and its record (with ``client_request_id``, the id the POST
        carries, and this process as its submitter) before this returns, or nothing is sent.

        Image bytes in ``request`` are replaced by placeholders; a credential raises ValueError.
        """
        fields = {
            "request": scrub(request),
            "endpoint": endpoint,
            "base_url": base_url,
            "estimate": None if estimate is None else scrub(estimate),
            "client_request_id": client_request_id,
            "submitter": this_process(),
            "demo": demo,
            "created_at": _now(),
        }
        row = self._write(lambda conn: self._insert_attempt(conn, None, fields))
        try:
            self._remember("begin", row=row, **fields)
        except BaseException:
            self._record_outcome(row, NOT_SUBMITTED, error="its record could not be written")
            raise
        with _in_flight_lock:
            _in_flight.add((self.path, row))
        return row

    @staticmethod
    def _insert_attempt(conn: sqlite3.Connection, row: int | None, fields: dict[str, Any]) -> int:
        at = fields["created_at"]
        cursor = conn.execute(
            "INSERT INTO generations (row, status, request, endpoint, base_url, created_at, updated_at,"
            " history, estimate, client_request_id, submitter, demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row,
                SUBMITTING,
                json.dumps(fields["request"]),
                fields["endpoint"],
                fields["base_url"],
                at,
                at,
                json.dumps([[at, SUBMITTING]]),
                None if fields["estimate"] is None else json.dumps(fields["estimate"]),
                fields["client_request_id"],
                fields["submitter"],
                int(bool(fields.get("demo"))),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _remember(self, event: str, **fields: Any) -> None:
        """Append ``event`` to the record (not while the journal is being rebuilt from it)."""
        if self._recording:
            self.record.append(event, **fields)

    def _replay(self, events: list[dict[str, Any]]) -> None:
        """Rebuild the rows the record describes, in the order they happened."""
        self._recording = False
        try:
            for event in events:
                try:
                    self._apply(event)
                except (KeyError, ValueError, TypeError, errors.StorageError) as exc:
                    log.warning("%s: event %r not replayed (%s)", RECORD_FILENAME, event.get("event"), exc)
        finally:
            self._recording = True

    def _seed_record(self) -> None:
        """Start the record of a journal made before records were kept: one ``row`` event per
        row it holds, so a rebuild loses none of them."""
        for row in self._query("SELECT * FROM generations ORDER BY row"):
            self.record.append("row", columns=dict(row))

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "row":
            columns: dict[str, Any] = event["columns"]
            known = {info["name"] for info in self._query("PRAGMA table_info(generations)")}
            if not set(columns) <= known:  # names go into SQL: only the journal's own
                raise ValueError(f"unknown columns {sorted(set(columns) - known)}")
            names = ", ".join(columns)
            marks = ", ".join("?" * len(columns))
            self._write(lambda conn: conn.execute(
                f"INSERT OR REPLACE INTO generations ({names}) VALUES ({marks})", tuple(columns.values())
            ))
        elif kind == "begin":
            self._write(lambda conn: self._insert_attempt(conn, int(event["row"]), event))
        elif kind == "outcome":
            self._record_outcome(int(event["row"]), event["status"], generation_id=event.get("generation_id"),
                                 error=event.get("error"))
        elif kind == "verdict":
            self._settle_uncertain(int(event["row"]), event["status"], event.get("generation_id"))
        elif kind == "adopt":
            self.adopt(event["generation_id"], event["status"], endpoint=event["endpoint"], base_url=event["base_url"])
        elif kind == "saved":
            self.downloaded(event["generation_id"], self._absolute(event["path"]) or "")

    def _in_flight_here(self) -> set[int]:
        """Rows of this file whose POST this process may still be sending (never uncertain)."""
        with _in_flight_lock:
            return {row for path, row in _in_flight if path == self.path}

    def _lost(self, row: int, status: str, created_at: str, cutoff: str, submitter: str | None = None) -> bool:
        """Whether an attempt may have been paid without us knowing the id: marked uncertain, or
        still ``submitting`` since before ``cutoff`` and being sent neither by this process nor by
        another one still running (its POST may yet come back with the id, after 429s say)."""
        if status == UNCERTAIN:
            return True
        if status != SUBMITTING or created_at > cutoff or row in self._in_flight_here():
            return False
        return submitter == this_process() or is_running(submitter) is not True

    def _record_outcome(
        self, row: int, status: str, *, generation_id: str | None = None, error: str | None = None
    ) -> None:
        """Record the outcome of an attempt's POST (it has no generation id yet): ``status``."""

        def change(conn: sqlite3.Connection) -> None:
            found = conn.execute(
                "SELECT history FROM generations WHERE row = ? AND generation_id IS NULL", (row,)
            ).fetchone()
            if found is None:
                raise ValueError(f"journal row {row} does not exist or already has an id")
            if generation_id is not None:
                other = conn.execute("SELECT row FROM generations WHERE generation_id = ?", (generation_id,)).fetchone()
                if other is not None:
                    raise IdTaken(generation_id, other["row"])
            at = _now()
            conn.execute(
                "UPDATE generations SET generation_id = ?, status = ?, error = ?, updated_at = ?,"
                " last_seen = ?, history = ? WHERE row = ?",
                (
                    generation_id,
                    status,
                    error,
                    at,
                    at if generation_id else None,
                    self._with_status(found["history"], status, at),
                    row,
                ),
            )

        try:
            self._write(change)
            self._remember("outcome", row=row, status=status, generation_id=generation_id, error=error)
        finally:
            with _in_flight_lock:
                _in_flight.discard((self.path, row))

    def submitted(self, row: int, generation_id: str, status: str) -> None:
        """The POST returned ``generation_id``: durable on disk when this returns."""
        self._record_outcome(row, status, generation_id=generation_id)

    def uncertain(self, row: int, reason: str) -> None:
        """The POST outcome is unknown: it may have created (and charged) a generation."""
        self._record_outcome(row, UNCERTAIN, error=reason)

    def duplicate(self, row: int, taken: IdTaken) -> None:
        """The POST was answered with the id of a generation another row already holds: the
        gateway says both attempts are that one generation, which that row follows."""
        self._record_outcome(row, DUPLICATE, error=f"the gateway answered with the id of journal row {taken.row}")

    def not_submitted(self, row: int, reason: str) -> None:
        """The POST provably created nothing (validation, 4xx, connect error): nothing was paid."""
        self._record_outcome(row, NOT_SUBMITTED, error=reason)

    # -- the user's verdict on an uncertain attempt ----------------------------------------------

    def found(self, row: int, generation_id: str) -> None:
        """The user found the generation an uncertain attempt created (the gateway's dashboard
        lists it): the row gets its id and becomes pending, so resume waits for it and saves the
        video. A row ``wait ID`` adopted for that id is folded into this one, which knows the
        request. ValueError if ``row`` is not an attempt awaiting the user's check."""
        self._settle_uncertain(row, FOUND, generation_id)

    def not_created(self, row: int) -> None:
        """The user confirmed an uncertain attempt created nothing: it is no longer listed."""
        self._settle_uncertain(row, NOT_CREATED, None)

    def _settle_uncertain(self, row: int, status: str, generation_id: str | None) -> None:
        """Record the user's verdict. Besides uncertain and stale ``submitting`` rows, a verdict
        may be corrected while the row has not been polled since (``found``, ``not_created``)."""
        cutoff = _stale_cutoff(_STALE_SUBMIT_S)

        def change(conn: sqlite3.Connection) -> None:
            current = conn.execute("SELECT * FROM generations WHERE row = ?", (row,)).fetchone()
            if current is None:
                raise ValueError(f"journal row {row} does not exist")
            lost = self._lost(row, current["status"], current["created_at"], cutoff, current["submitter"])
            if current["status"] not in (FOUND, NOT_CREATED) and not lost:
                raise ValueError(
                    f"journal row {row} is {current['status']!r}, not an attempt awaiting a check"
                )
            at = _now()
            new: dict[str, Any] = {
                "generation_id": generation_id,
                "status": status,
                "updated_at": at,
            }
            if generation_id is not None:
                new.update(self._fold_adopted(conn, row, generation_id))
            new["history"] = self._with_status(current["history"], new["status"], at)
            self._assign(conn, row, new)

        self._write(change)
        self._remember("verdict", row=row, status=status, generation_id=generation_id)

    @staticmethod
    def _fold_adopted(conn: sqlite3.Connection, row: int, generation_id: str) -> dict[str, Any]:
        """Delete the row ``adopt`` made for ``generation_id`` (if any) and return what it knew;
        ValueError if another submitted attempt owns the id."""
        other = conn.execute(
            "SELECT * FROM generations WHERE generation_id = ? AND row != ?", (generation_id, row)
        ).fetchone()
        if other is None:
            return {}
        if other["request"] != "{}":
            raise ValueError(f"{generation_id} belongs to journal row {other['row']}")
        conn.execute("DELETE FROM generations WHERE row = ?", (other["row"],))
        keep = ("status", "last_seen", "credits_used", "video_url", "error", "path")
        return {column: other[column] for column in keep}

    def adopt(self, generation_id: str, status: str, *, endpoint: str, base_url: str) -> int:
        """Journal a generation created elsewhere (``wait ID``) so it can be resumed; returns its
        row, which already exists if the id was journalled before."""

        def insert(conn: sqlite3.Connection) -> tuple[int, bool]:
            new = self._insert_adopted(conn, generation_id, status, endpoint, base_url)
            return int(self._find(conn, generation_id)["row"]), new

        row, new = self._write(insert)
        if new:
            self._remember("adopt", generation_id=generation_id, status=status, endpoint=endpoint, base_url=base_url)
        return row

    @staticmethod
    def _insert_adopted(
        conn: sqlite3.Connection, generation_id: str, status: str, endpoint: str, base_url: str
    ) -> bool:
        """Insert the row of a generation created elsewhere; False when the id was known."""
        at = _now()
        cursor = conn.execute(
            "INSERT OR IGNORE INTO generations (generation_id, status, request, endpoint,"
            " base_url, created_at, updated_at, last_seen, history)"
            " VALUES (?, ?, '{}', ?, ?, ?, ?, ?, ?)",
            (generation_id, status, endpoint, base_url, at, at, at, json.dumps([[at, status]])),
        )
        return cursor.rowcount == 1

    # -- after submit ---------------------------------------------------------------------------

    def update(
        self,
        generation_id: str,
        status: str,
        *,
        credits_used: float | None = None,
        video_url: str | None = None,
        error: str | None = None,
        endpoint: str | None = None,
        base_url: str | None = None,
    ) -> None:
        """Record a poll result in one write transaction. ``None`` fields keep their value; the
        history grows only when the status changes, and a stale non-final status never overwrites
        a final one (two processes may poll the same id). With ``endpoint`` and ``base_url``, an
        id this journal has not seen is adopted (``wait ID``), so resume can finish it; without,
        it is a KeyError. Callers skip polls that bring no news (the client remembers what it
        recorded), so a poll costs at most this one write."""

        adopted = False

        def change(conn: sqlite3.Connection) -> None:
            nonlocal adopted
            if endpoint is not None and base_url is not None:
                adopted = self._insert_adopted(conn, generation_id, status, endpoint, base_url)
            current = self._find(conn, generation_id)
            keep_final = _is_terminal(current["status"]) and not _is_terminal(status)
            final_status: str = current["status"] if keep_final else status
            merged = {
                "status": final_status,
                "credits_used": current["credits_used"] if credits_used is None else credits_used,
                "video_url": video_url or current["video_url"],
                "error": error or current["error"],
            }
            new = {k: v for k, v in merged.items() if v != current[k]}
            if not new:
                return
            at = _now()
            new.update(updated_at=at, last_seen=at)
            new["history"] = self._with_status(current["history"], final_status, at)
            self._assign(conn, current["row"], new)

        self._write(change)
        if adopted:
            self._remember("adopt", generation_id=generation_id, status=status, endpoint=endpoint, base_url=base_url)

    def downloaded(self, generation_id: str, path: str | os.PathLike[str]) -> None:
        """The video is on disk at ``path`` (its partial download is gone: renamed to it)."""
        stored = self._stored(path)
        self._set_files(generation_id, path=stored, partial=None)
        self._remember("saved", generation_id=generation_id, path=stored)

    def record_partial(self, generation_id: str, partial: str | os.PathLike[str] | None) -> None:
        """A download of the video streams into ``partial`` (None: that file is gone), so a
        later process continues it instead of starting over, or deletes it once abandoned."""
        self._set_files(generation_id, partial=None if partial is None else self._stored(partial))

    def _set_files(self, generation_id: str, **columns: str | None) -> None:
        def change(conn: sqlite3.Connection) -> None:
            current = self._find(conn, generation_id)
            self._assign(conn, current["row"], {**columns, "updated_at": _now()})

        self._write(change)

    # -- reading --------------------------------------------------------------------------------

    def get(self, generation_id: str) -> JournalEntry | None:
        found = self._select("generation_id = ?", (generation_id,))
        return found[0] if found else None

    def get_row(self, row: int) -> JournalEntry | None:
        found = self._select("row = ?", (row,))
        return found[0] if found else None

    def unfinished(self) -> list[JournalEntry]:
        """Everything resume must finish, oldest first: submitted but not final, or completed
        without its video file on disk."""
        failed = sorted(FAILED)
        candidates = self._select(
            f"generation_id IS NOT NULL AND status NOT IN ({', '.join('?' * len(failed))})", failed
        )
        return [entry for entry in candidates if entry.needs_work]

    def with_partial(self) -> list[JournalEntry]:
        """Entries that name a partial download (in flight, interrupted, or abandoned)."""
        return self._select("partial IS NOT NULL")

    def uncertain_entries(self, stale_after: float = _STALE_SUBMIT_S) -> list[JournalEntry]:
        """Attempts that may have been paid without us knowing the id, oldest first (see
        :meth:`_lost`; a ``submitting`` row counts once it is ``stale_after`` seconds old)."""
        cutoff = _stale_cutoff(stale_after)
        found = self._select("status IN (?, ?)", (UNCERTAIN, SUBMITTING))
        return [
            entry for entry in found if self._lost(entry.row, entry.status, entry.created_at, cutoff, entry.submitter)
        ]

    def entries(
        self, limit: int = 200, offset: int = 0, *, exclude: Iterable[str] = ()
    ) -> list[JournalEntry]:
        """A page of the whole journal, newest first (the history view), leaving out the
        statuses in ``exclude``."""
        where, params = self._excluding(exclude)
        rows = self._query(
            f"SELECT * FROM generations WHERE {where} ORDER BY row DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return self._entries(rows)

    def count(self, *, exclude: Iterable[str] = ()) -> int:
        """How many entries :meth:`entries` pages through (for "page 2 of 9")."""
        where, params = self._excluding(exclude)
        return int(self._query(f"SELECT COUNT(*) FROM generations WHERE {where}", params)[0][0])

    @staticmethod
    def _excluding(statuses: Iterable[str]) -> tuple[str, list[str]]:
        params = list(statuses)
        if not params:
            return "1", params
        return f"status NOT IN ({', '.join('?' * len(params))})", params
