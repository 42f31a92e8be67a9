"""The journal's second copy: an append-only record of every attempt and id, one JSON line each.

A ``journal.sqlite3`` that is emptied, damaged or deleted must never make a paid generation
disappear. So each moment the journal learns something that cannot be asked of the gateway again
(an attempt begun, the outcome of its POST with the generation id, the user's verdict on an
uncertain one, an id adopted, a video saved) is also appended here, flushed and fsync'd, as one
line anyone can read (``attempts.jsonl``), and :class:`~kling_notebook.store.journal.Journal`
rebuilds itself from it. Statuses and credits are not recorded: a resume asks the gateway again.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..domain import errors

__all__ = ["FILENAME", "Record"]

FILENAME = "attempts.jsonl"

log = logging.getLogger("kling_notebook")


class Record:
    """The record beside a journal; safe for several threads and processes to append to (each
    line is one ``O_APPEND`` write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def append(self, event: str, **fields: Any) -> None:
        """Add one event, durable on disk when this returns; StorageError when it cannot be."""
        stamp = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        line = json.dumps({"event": event, "at": stamp, **fields}, ensure_ascii=False) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise errors.StorageError(f"Could not write {self.path.name} ({exc.strerror or exc}).") from exc

    def events(self) -> list[dict[str, Any]]:
        """Every event in order; a line that cannot be read (a torn last write) is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise errors.StorageError(f"Could not read {self.path.name} ({exc.strerror or exc}).") from exc
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                event = json.loads(line)
            except ValueError:
                log.warning("%s line %d is not JSON: skipped", self.path.name, number)
                continue
            if isinstance(event, dict) and isinstance(event.get("event"), str):
                found.append(event)
        return found
