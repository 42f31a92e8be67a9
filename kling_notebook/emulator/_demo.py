"""The shared demo emulator: what the project uses when no API key is configured.

One per process, started on first use and stopped at interpreter exit, with times shortened so a
5 s video takes 10-12 s: long enough to show progress, short enough to wait for. The demo
emulators of one user share a registry (``_registry``): a demo id one process printed is
answered by the next process's demo emulator, on the same timeline and with the same video,
and their finished clips (``renders/``), so a clip is rendered once, not in every kernel.
"""

from __future__ import annotations

import atexit
import threading

from ._emulator import Emulator
from ._registry import demo_folder
from ._renders import RenderCache

__all__ = ["DEMO_TIME_SCALE", "demo_emulator"]

DEMO_TIME_SCALE = 30.0

_lock = threading.Lock()
_shared: Emulator | None = None


def demo_emulator() -> Emulator:
    """The process-wide demo :class:`Emulator`, started (lazily) and ready to serve."""
    global _shared
    with _lock:
        if _shared is None or not _shared.running:
            try:
                emulator = Emulator(
                    time_scale=DEMO_TIME_SCALE, caption="demo", registry=demo_folder(),
                    render_cache=RenderCache(folder=demo_folder() / "renders"),
                )
            except OSError:  # no usable registry here: demo ids then live in this process only
                emulator = Emulator(time_scale=DEMO_TIME_SCALE, caption="demo")
            _shared = emulator.start()
            atexit.register(_shared.stop)
        return _shared
