"""Interrupting a wait (Jupyter's stop button, Ctrl-C, a cancelled task) says what goes on: a
submitted generation goes on at the gateway, and how to save it later."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path

import pytest
from emulated import client_for

from kling_notebook import KlingClient
from kling_notebook.emulator import Emulator

SLOW = {"job_seconds": 30}


@pytest.mark.parametrize("emulator", [SLOW], indirect=True)
def test_ctrl_c_in_a_blocking_generate_says_the_generation_goes_on(emulator: Emulator, out_dir: Path, image: Path) -> None:
    client = KlingClient(client=client_for(emulator, out_dir))
    # A real SIGINT to the main thread, as a terminal's Ctrl-C or Jupyter's stop button sends: it
    # wakes a blocked wait (``_thread.interrupt_main`` only sets a flag the wait never looks at).
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt) as caught:
        client.generate(image=image, prompt="interrupted")
    (created,) = emulator.stats()["created"]
    assert f"generation {created} goes on at the gateway" in str(caught.value)
    assert "kling-notebook wait" in str(caught.value) and "resume()" in str(caught.value)
    client.close()


@pytest.mark.parametrize("emulator", [SLOW], indirect=True)
async def test_a_cancelled_await_says_the_same(emulator: Emulator, out_dir: Path, image: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    async with client_for(emulator, out_dir) as client:
        task = asyncio.ensure_future(client.generate(image=image, prompt="cancelled cell"))
        while not emulator.stats()["created"]:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        with caplog.at_level(logging.WARNING, logger="kling_notebook"):
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    (created,) = emulator.stats()["created"]
    assert f"generation {created} goes on at the gateway" in caplog.text
