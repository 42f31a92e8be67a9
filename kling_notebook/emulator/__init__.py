"""An offline emulator of the AI/ML API gateway for Kling image-to-video models.

A real HTTP server on loopback that implements both endpoint pairs (universal
``/v2/video/generations`` for every Kling image-to-video model the gateway lists, legacy
``/v2/generate/video/kling/generation`` for v2.1 master) as their published schemas describe,
runs each generation through ``queued -> generating -> completed`` on a scaled clock, renders a
real MP4 from the input image, serves it with byte ranges, injects faults on demand and keeps
exact accounts of what it received and billed::

    from kling_notebook.emulator import Emulator

    with Emulator(time_scale=60) as emu:
        ...  # point a client at emu.base_url with emu.api_key

Options of :class:`Emulator` beyond timing and rendering (each also a flag of
``kling-notebook emulator``, spelled ``--like-this``):

- ``faults``: a fault spec (``_faults``): request faults, failed generations, a misbehaving CDN.
- ``replies``: a reply profile (``_replies``): the off-schema shapes the real gateway sends,
  one by one or ``"real"``, a seeded mix. Default: every reply as the schemas say.
- ``logs_lag``: seconds before a request shows in ``GET /v2/logs``.
- ``credits_per_usd``, ``balance``: credits per USD of a price; the account's balance in USD.
- ``registry``: a folder shared by emulators that answer for each other's generations (the
  demo emulators use one per user, so a demo id works in the next process too).
- ``management_key``, ``concurrency``: the key that manages the account's API keys; the
  generations the account may run at once, whatever key made them (429 beyond).

Routes besides the two endpoint pairs, as the schemas under ``service/`` describe: ``GET
/v1/models`` (live prices, ETag), ``GET /v2/logs``, ``GET /v1/key``, ``GET /v2/usage``, ``GET
/v2/usage/detail``, ``GET /v2/billing``, and with the management key ``POST|GET /v1/keys``,
``PATCH|PUT|DELETE /v1/keys/{prefix}``. Every API reply is traced (``_tracing``). For tests and
for an emulator in another process, with the emulator's ``api_key`` or ``management_key``:
``GET /_emulator/stats``, ``GET /_emulator/generations``, ``POST /_emulator/faults`` (a fault
spec), ``POST /_emulator/replies`` (a reply profile), ``POST /_emulator/prices``
(``{"model", "usd_per_second", "generate_audio"?}``).

From a shell: ``kling-notebook emulator --port 8000`` or ``python -m kling_notebook.emulator``.
"""

from ._demo import DEMO_TIME_SCALE, demo_emulator
from ._emulator import Emulator
from ._faults import FaultSpec, parse_faults
from ._models import CREDITS_PER_SECOND, MODEL_ID
from ._payloads import GenerationSummary
from ._render import INSTALL_DEMO, missing_demo_module
from ._renders import RenderCache
from ._replies import parse_replies
from ._stats import StatsSnapshot

__all__ = [
    "CREDITS_PER_SECOND",
    "DEMO_TIME_SCALE",
    "MODEL_ID",
    "Emulator",
    "FaultSpec",
    "GenerationSummary",
    "INSTALL_DEMO",
    "RenderCache",
    "StatsSnapshot",
    "demo_emulator",
    "missing_demo_module",
    "parse_faults",
    "parse_replies",
]
