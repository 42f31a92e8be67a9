"""Pick the right client for where the user is: their key and the gateway, or demo mode.

With no key configured, the panel, the CLI and the notebooks run against an in-process emulator
(simulated videos from the real input image, no credits used), so a Binder visitor or a class
sees the whole tool working before anyone types a key.
"""

from __future__ import annotations

import os
from typing import Any

from ..domain import errors
from ..domain.polling import PollPolicy
from ..gateway.settings import BASE_URL_ENV_VARS, Endpoint, find_api_key
from .client import AsyncKlingClient

__all__ = ["connect", "demo_wanted", "DEMO_ENV_VAR"]


DEMO_ENV_VAR = "KLING_NOTEBOOK_DEMO"


def demo_wanted(api_key: str | None = None, base_url: str | None = None) -> bool:
    """Demo mode is the default only when neither a key nor a base URL is configured.

    ``KLING_NOTEBOOK_DEMO=1`` forces demo mode (a classroom), ``=0`` forbids it (a missing key
    is then an error instead of a silent switch to simulated videos).
    """
    forced = os.environ.get(DEMO_ENV_VAR, "").strip().lower()
    if forced in ("1", "true", "yes"):
        return True
    if forced in ("0", "false", "no"):
        return False
    configured_base = base_url or any(os.environ.get(name) for name in BASE_URL_ENV_VARS)
    return find_api_key(api_key) is None and not configured_base


def connect(
    api_key: str | None = None,
    *,
    demo: bool | None = None,
    base_url: str | None = None,
    endpoint: Endpoint = "universal",
    **options: Any,
) -> AsyncKlingClient:
    """A client for the gateway, or (``demo=True``, or no key anywhere) for the demo emulator.

    Demo mode without the ``demo`` extra raises ConfigurationError here, not at the first render.
    Estimates follow the gateway's live prices (``live_prices=False`` keeps to the price table).
    """
    options.setdefault("live_prices", True)
    if demo is None:
        demo = demo_wanted(api_key, base_url)
    if not demo:
        return AsyncKlingClient(api_key, base_url, endpoint, **options)
    from ..emulator import INSTALL_DEMO, demo_emulator, missing_demo_module

    missing = missing_demo_module()
    if missing:
        raise errors.ConfigurationError(
            f"Demo mode renders its videos with the {missing!r} module, which is not installed.",
            hint=f"Install it with: {INSTALL_DEMO} (or set an API key to use the gateway).",
        )

    emulator = demo_emulator()
    options.setdefault("poll", PollPolicy(time_scale=emulator.time_scale))
    return AsyncKlingClient(emulator.api_key, emulator.base_url, endpoint, demo=True, **options)
