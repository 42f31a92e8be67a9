"""Finished clips shared by emulators in one process.

An emulator keeps the clips it rendered for its lifetime. Emulators handed the same
:class:`RenderCache` also start from the clips the others finished, so a process that starts
many emulators on the same images (a test suite, a benchmark) renders each clip once. The key
is everything a render depends on, the video width included.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["RenderCache"]


class RenderCache:
    """MP4 bytes by render key, thread-safe (each emulator runs on its own thread), holding at
    most ``max_bytes``: the least recently used clips go first."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
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

    def put(self, key: Hashable, clip: bytes) -> None:
        if len(clip) > self.max_bytes:
            return
        with self._lock:
            earlier = self._clips.pop(key, None)
            self._size += len(clip) - (0 if earlier is None else len(earlier))
            self._clips[key] = clip
            while self._size > self.max_bytes:
                _, dropped = self._clips.popitem(last=False)
                self._size -= len(dropped)
