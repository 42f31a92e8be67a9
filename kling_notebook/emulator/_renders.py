"""Finished clips shared by emulators, in one process or, through a folder, across processes.

An emulator keeps the clips it rendered for its lifetime. Emulators handed the same
:class:`RenderCache` also start from the clips the others finished, so a process that starts
many emulators on the same images (a test suite, a benchmark) renders each clip once. The key
is everything a render depends on, the video width included. With a ``folder``, the clips are
also files there, so the next process (the demo emulator of the next kernel or CLI run) reads a
clip instead of rendering it again: a 640 px demo clip costs seconds of CPU.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

__all__ = ["RenderCache"]

SUFFIX = ".mp4"


@functools.cache
def _renderer() -> bytes:
    """The renderer's own source: a file's name changes with it, so no clip outlives the code
    that drew it."""
    return (Path(__file__).parent / "_render.py").read_bytes()


def file_name(key: Hashable) -> str:
    """A name for ``key`` that every process computes alike (``repr`` of the render's inputs,
    images as hashes, and the renderer's source)."""
    return hashlib.sha256(_renderer() + repr(key).encode()).hexdigest() + SUFFIX


class RenderCache:
    """MP4 bytes by render key, thread-safe (each emulator runs on its own thread), holding at
    most ``max_bytes`` in memory, and as much in ``folder`` when given: the least recently used
    clips go first."""

    def __init__(self, max_bytes: int = 64 * 2**20, folder: Path | str | None = None) -> None:
        self.max_bytes = max_bytes
        self.folder = None if folder is None else Path(folder)
        self._clips: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._clips)

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            clip = self._clips.get(key)
            if clip is not None:
                self._clips.move_to_end(key)
                return clip
        clip = self._read(key)
        if clip is not None:
            self._keep(key, clip)
        return clip

    def put(self, key: Hashable, clip: bytes) -> None:
        if len(clip) > self.max_bytes:
            return
        self._keep(key, clip)
        self._write(key, clip)

    def _keep(self, key: Hashable, clip: bytes) -> None:
        with self._lock:
            earlier = self._clips.pop(key, None)
            self._size += len(clip) - (0 if earlier is None else len(earlier))
            self._clips[key] = clip
            while self._size > self.max_bytes:
                _, dropped = self._clips.popitem(last=False)
                self._size -= len(dropped)

    def _read(self, key: Hashable) -> bytes | None:
        if self.folder is None:
            return None
        path = self.folder / file_name(key)
        try:
            clip = path.read_bytes()
            os.utime(path)  # recently used
        except OSError:
            return None
        return clip

    def _write(self, key: Hashable, clip: bytes) -> None:
        """Write the file whole (another process may read it meanwhile), then drop the least
        recently used files beyond ``max_bytes``. A folder that cannot be written only costs
        renders."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(clip)
            os.replace(partial, self.folder / file_name(key))
            self._trim()
        except OSError:
            return

    def _trim(self) -> None:
        assert self.folder is not None
        files = []
        for path in self.folder.glob("*" + SUFFIX):
            try:
                found = path.stat()
            except OSError:
                continue  # removed by another process meanwhile
            files.append((found.st_mtime, found.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files, key=lambda file: file[0]):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
