"""Half-downloaded videos (``name.mp4.part``): continued after a crash, never left behind for good.

A download streams into ``<video>.part`` and renames it when complete; the journal names that
file while it exists. When a process dies mid-download (or a download fails for good), the next
download of the same generation (``resume``, ``wait ID``) moves those bytes to its own ``.part``
and asks only for the rest with a Range request. ``resume`` deletes the partials of generations
that will not be downloaded again. While a download writes its partial it holds an advisory lock
on it (``flock``; Windows has none, so there a partial is not guarded), so another process never
takes over or deletes a download that is still alive.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..domain import errors
from .journal import Journal

__all__ = ["claimed", "discard", "partial_path", "remove_abandoned", "try_lock"]

SUFFIX = ".part"

if sys.platform == "win32":

    def try_lock(fd: int) -> bool:
        return True

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take ``fd``'s exclusive advisory lock if nobody (in any process) holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def partial_path(target: Path) -> Path:
    """Where the download of ``target`` streams before it takes that name."""
    return target.with_name(target.name + SUFFIX)


def _lock(path: Path, *, create: bool) -> int | None:
    """A descriptor holding ``path``'s lock; None when it is missing or a live download holds it."""
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o666)
    except FileNotFoundError:
        return None
    if try_lock(fd):
        return fd
    os.close(fd)
    return None


def _take_over(earlier: Path, partial: Path) -> int | None:
    """Move ``earlier``'s bytes to ``partial`` unless a live download holds them; returns the
    descriptor that now holds ``partial``'s lock, or None."""
    held = _lock(earlier, create=False)
    if held is None:
        return None
    try:
        os.replace(earlier, partial)
    except OSError:  # another file system: not worth a copy, the download starts over
        os.close(held)
        return None
    return held


@contextmanager
def claimed(generation_id: str, partial: Path, earlier: Path | None) -> Iterator[None]:
    """Hold ``partial`` for one download of ``generation_id``. It keeps its bytes when the journal
    names it as this generation's partial (``earlier``); it takes over ``earlier``'s bytes when that
    is another file no live download holds; else it starts empty (a leftover of unknown origin
    must not be continued). DownloadError when a live download holds ``partial``."""
    held = _lock(partial, create=True)
    if held is None:
        raise errors.DownloadError(generation_id, f"another download is writing {partial.name}")
    if earlier != partial:
        moved = _take_over(earlier, partial) if earlier is not None else None
        if moved is None:
            os.ftruncate(held, 0)
        else:  # the lock that counts is on the inode now named ``partial``
            os.close(held)
            held = moved
    try:
        yield
    finally:
        os.close(held)


def discard(partial: Path) -> bool:
    """Delete ``partial`` unless a live download holds it; whether it is gone."""
    held = _lock(partial, create=False)
    if held is None:
        return not partial.exists()
    try:
        partial.unlink()
    finally:
        os.close(held)
    return True


def remove_abandoned(journal: Journal, abandoned: Collection[str] = ()) -> list[Path]:
    """Delete the partials of generations that will not be downloaded again: no longer pending
    (saved, failed, settled) or in ``abandoned`` (ids whose emulator is gone). A partial a live
    download holds stays. Returns the files deleted (or already gone) and forgotten."""
    keep = {entry.generation_id for entry in journal.unfinished()} - set(abandoned)
    swept = []
    for entry in journal.with_partial():
        assert entry.generation_id is not None and entry.partial is not None  # set together
        partial = Path(entry.partial)
        if entry.generation_id not in keep and discard(partial):
            journal.record_partial(entry.generation_id, None)
            swept.append(partial)
    return swept
