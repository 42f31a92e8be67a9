"""Which process is waiting for (or saving) a generation: a claim any process on this machine sees.

Two kernels in one folder must not both wait for and download one paid generation (two files, two
sidecars for one video). While a job follows a generation it holds an advisory lock (``flock``) on
a small file named for the generation's id under the outputs folder's ``.claims``; the lock ends
with the job, or with its process however it dies. Elsewhere (no ``flock``, as on Windows) claims
always succeed and nothing is guarded.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .partials import try_lock

__all__ = ["CLAIMS_DIR", "claim", "held_elsewhere"]

CLAIMS_DIR = ".claims"

def _claim_path(folder: Path, generation_id: str) -> Path:
    digest = hashlib.sha256(generation_id.encode("utf-8")).hexdigest()[:32]
    return folder / CLAIMS_DIR / f"{digest}.lock"


@contextmanager
def claim(folder: Path, generation_id: str) -> Iterator[bool]:
    """Hold the claim on ``generation_id`` for the block; yields False when another job (of any
    process) holds it, or True. A folder where no claim can be written guards nothing (True)."""
    path = _claim_path(folder, generation_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield True
        return
    try:
        yield try_lock(fd)
    finally:
        os.close(fd)


def held_elsewhere(folder: Path, generation_id: str) -> bool:
    """Whether a job holds the claim on ``generation_id`` right now (checked without keeping it)."""
    path = _claim_path(folder, generation_id)
    if not path.exists():
        return False
    with claim(folder, generation_id) as mine:
        return not mine
