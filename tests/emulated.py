"""Clients and counters for tests against an emulator on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kling_notebook import AsyncKlingClient, PollPolicy, RetryPolicy
from kling_notebook.emulator import Emulator, RenderCache

#: Emulated generations take 1/TIME_SCALE of the documented 5-14 minutes.
TIME_SCALE = 600.0
#: Videos this wide render in a fraction of a second.
SMALL_VIDEO = 160
#: Clips every emulator of this process shares: most tests render the same few images, and a
#: test of rendering itself starts an emulator with ``render_cache=None``.
RENDERS = RenderCache()
EMULATOR_DEFAULTS: dict[str, Any] = {
    "time_scale": TIME_SCALE, "video_width": SMALL_VIDEO, "seed": 7, "render_cache": RENDERS
}
UNIVERSAL = "POST /v2/video/generations"
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)
#: Real seconds a test waits for a generation at least, whatever the time scale.
PATIENCE = 30.0


class PatientPoll(PollPolicy):
    """The sped-up poll schedule with a deadline of at least :data:`PATIENCE`: at 600x the
    default deadline is 1.5 s, which a machine running browsers and kernels beside can overrun
    for a job of 0.6 s. Tests of the deadline itself pass ``timeout=`` or their own policy."""

    def default_timeout(self, duration: int) -> float:
        return max(super().default_timeout(duration), PATIENCE)


def client_for(emulator: Emulator, out_dir: Path, **options: Any) -> AsyncKlingClient:
    """A client for ``emulator`` (with its key unless ``api_key`` is given) polling on its time
    scale, with short back-off delays."""
    key = options.pop("api_key", emulator.api_key)
    settings: dict[str, Any] = {
        "out_dir": out_dir,
        "poll": PatientPoll(time_scale=emulator.time_scale),
        "retry": FAST_RETRY,
        **options,
    }
    return AsyncKlingClient(key, emulator.base_url, **settings)


def posts(emulator: Emulator) -> dict[str, int]:
    """Create calls the emulator answered, by outcome (``{"200": 3, "429": 1}``)."""
    return emulator.stats()["requests"].get(UNIVERSAL, {})
