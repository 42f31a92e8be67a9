"""The shared demo emulator: what the project uses when no API key is configured.

One per process, started on first use and stopped at interpreter exit, with times shortened so a
5 s video takes 10-12 s: long enough to show progress, short enough to wait for.
"""

from __future__ import annotations

import atexit
import threading

from ._emulator import Emulator

__all__ = ["DEMO_TIME_SCALE", "demo_emulator"]

DEMO_TIME_SCALE = 30.0

_lock = threading.Lock()
_shared: Emulator | None = None


def demo_emulator() -> Emulator:
    """The process-wide demo :class:`Emulator`, started (lazily) and ready to serve."""
    global _shared
    with _lock:
        if _shared is None or not _shared.running:
            _shared = Emulator(time_scale=DEMO_TIME_SCALE, caption="demo").start()
            atexit.register(_shared.stop)
        return _shared
