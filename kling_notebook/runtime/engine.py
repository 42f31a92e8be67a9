"""A process-wide event loop on a daemon thread: where background and blocking calls run.

Why a thread and not the kernel's own loop: a notebook cell that blocks (``time.sleep``, heavy
compute) freezes every task on the kernel loop, so progress would stop. Work on this loop keeps
going, widget updates from it reach the front end (ipykernel >= 7.1), and the sync facade can
block on it from a script or from inside a running notebook cell without patching asyncio.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["engine_loop", "spawn", "run_blocking", "in_engine_thread"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def engine_loop() -> asyncio.AbstractEventLoop:
    """The engine loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or not _thread or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            _thread = threading.Thread(target=run, name="kling-notebook-engine", daemon=True)
            _thread.start()
            ready.wait()
            _loop = loop
        return _loop


def in_engine_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def spawn(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Run ``coro`` on the engine loop; returns at once with a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, engine_loop())


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the engine loop and block this thread until it is done.

    An interrupt (Ctrl-C, Jupyter's stop button) cancels the coroutine before re-raising.
    """
    if in_engine_thread():
        coro.close()
        raise RuntimeError("run_blocking() called from the engine thread would deadlock; await instead")
    future = spawn(coro)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise
