"""Half-downloaded videos (``name.mp4.part``): continued after a crash, never left behind for good.

A download streams into ``<video>.part`` and renames it when complete; the journal names that
file while it exists. When a process dies mid-download (or a download fails for good), the next
download of the same generation (``resume``, ``wait ID``) continues those bytes in their file
and asks only for the rest with a Range request. ``resume`` deletes the partials of generations
that will not be downloaded again. While a download writes its partial it holds an advisory lock
on it (``flock``; Windows has none, so there a partial is not guarded), so another process never
takes over or deletes a download that is still alive.

Beside a partial, ``<video>.part.validator`` says which object its bytes came from (the host's
ETag, Last-Modified and total size): a resumed download sends it as ``If-Range`` so the host
sends the rest of that object or the whole new one, never the rest of another file. Bytes whose
origin is not known are not continued.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from ..domain import errors
from .journal import Journal

__all__ = [
    "Validator",
    "continued",
    "discard",
    "partial_path",
    "read_validator",
    "remove_abandoned",
    "started",
    "try_lock",
    "write_validator",
]

SUFFIX = ".part"
_VALIDATOR_SUFFIX = ".validator"

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


@dataclass(frozen=True)
class Validator:
    """What identifies the object a partial's bytes came from, as its host described it."""

    etag: str | None = None
    last_modified: str | None = None
    total: int | None = None

    @property
    def if_range(self) -> str | None:
        """The ``If-Range`` value: a strong ETag, else the Last-Modified date (a weak ETag may
        not be used there); None when the host gave neither, so the bytes cannot be continued."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified or None

    def differs(self, other: Validator) -> bool:
        """Whether ``other`` (a later answer's) provably describes another object: a validator or
        the total both give disagrees."""
        return any(a != b for a, b in _given(self, other, "etag", "last_modified", "total"))

    def same_object(self, other: Validator) -> bool:
        """Whether ``other`` provably describes this object: they share an ETag or Last-Modified
        date, and nothing both give disagrees."""
        return bool(_given(self, other, "etag", "last_modified")) and not self.differs(other)


def _given(one: Validator, other: Validator, *names: str) -> list[tuple[object, object]]:
    """The values of ``names`` that both validators give, as pairs."""
    pairs = [(getattr(one, name), getattr(other, name)) for name in names]
    return [(a, b) for a, b in pairs if a is not None and b is not None]


def _validator_path(partial: Path) -> Path:
    return partial.with_name(partial.name + _VALIDATOR_SUFFIX)


def read_validator(partial: Path) -> Validator | None:
    """The origin recorded for ``partial``'s bytes; None when missing or unreadable."""
    try:
        data = json.loads(_validator_path(partial).read_text(encoding="utf-8"))
        found = Validator(**{name: data.get(name) for name in ("etag", "last_modified", "total")})
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    text_ok = all(isinstance(v, (str, type(None))) for v in (found.etag, found.last_modified))
    total_ok = found.total is None or (isinstance(found.total, int) and found.total >= 0)
    return found if text_ok and total_ok else None


def write_validator(partial: Path, validator: Validator | None) -> None:
    """Record (or with None, forget) where ``partial``'s bytes come from: called before the first
    byte of an object is written, so bytes on disk never outlive the knowledge of their origin."""
    path = _validator_path(partial)
    if validator is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(validator)), encoding="utf-8")
    os.replace(tmp, path)


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


def continued(earlier: Path) -> int | None:
    """The lock of ``earlier`` (the partial the journal names for this generation) when its bytes
    can be continued where they lie: it exists and no live download holds it. None otherwise."""
    return _lock(earlier, create=False)


def started(generation_id: str, partial: Path) -> int:
    """The lock of ``partial``, created empty. The journal must name it first, so that a process
    killed from here on leaves no partial that resume does not know. DownloadError when a live
    download holds it."""
    held = _lock(partial, create=True)
    if held is None:
        raise errors.DownloadError(generation_id, f"another download is writing {partial.name}")
    os.ftruncate(held, 0)  # a leftover of unknown origin must not be continued
    write_validator(partial, None)
    return held


def discard(partial: Path) -> bool:
    """Delete ``partial`` unless a live download holds it; whether it is gone."""
    held = _lock(partial, create=False)
    if held is None:
        return not partial.exists()
    try:
        partial.unlink()
        with suppress(OSError):
            write_validator(partial, None)
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
