"""An offline emulator of the AI/ML API gateway for Kling image-to-video models.

A real HTTP server on loopback that implements both endpoint pairs (universal
``/v2/video/generations`` for every Kling image-to-video model the gateway lists, legacy
``/v2/generate/video/kling/generation`` for v2.1 master) as their published schemas describe, runs each generation through ``queued -> generating -> completed`` on a
scaled clock, renders a real MP4 from the input image, serves it with byte ranges, injects faults
on demand and keeps exact accounts of what it received::

    from kling_notebook.emulator import Emulator

    with Emulator(time_scale=60) as emu:
        ...  # point a client at emu.base_url with emu.api_key

By default every reply follows the published schemas. ``Emulator(replies="video_list,...")``
(or ``"real"``, a seeded mix; ``--replies`` on the command line; ``POST /_emulator/replies``
from another process) makes it send the off-schema shapes the real gateway sends: see
``kling_notebook.emulator._replies``.

From a shell: ``kling-notebook emulator --port 8000`` or ``python -m kling_notebook.emulator``.
"""

from ._demo import DEMO_TIME_SCALE, demo_emulator
from ._emulator import Emulator
from ._faults import FaultSpec, parse_faults
from ._models import CREDITS_PER_SECOND, MODEL_ID
from ._payloads import GenerationSummary
from ._render import INSTALL_DEMO, missing_demo_module
from ._stats import StatsSnapshot

__all__ = [
    "CREDITS_PER_SECOND",
    "DEMO_TIME_SCALE",
    "MODEL_ID",
    "Emulator",
    "FaultSpec",
    "GenerationSummary",
    "INSTALL_DEMO",
    "StatsSnapshot",
    "demo_emulator",
    "missing_demo_module",
    "parse_faults",
]
