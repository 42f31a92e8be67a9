"""A free check of a key just entered, so a wrong key shows up now rather than at Generate.

One status read for a made-up generation id (polling costs nothing): the gateway checks the key
before it looks the id up, so 401 means the key was refused and any other HTTP answer means it
was accepted. The read is bounded to a few seconds; the verdict never contains the key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ...domain import errors
from ...runtime.client import AsyncKlingClient
from ._html import Tone

__all__ = ["KeyVerdict", "check_key", "not_checked", "UNCHECKED", "CHECKING", "KEY_CHECK_SECONDS"]

#: How long the check may take, retries of a status read included.
KEY_CHECK_SECONDS = 5.0
#: No generation has this id: the answer can only be about the key.
_MADE_UP_ID = "kling-notebook-key-check"


@dataclass(frozen=True)
class KeyVerdict:
    """What the key status line says, and in which colour."""

    text: str
    tone: Tone


UNCHECKED = KeyVerdict("Key in use, not checked here (a wrong key shows at Generate).", "muted")
CHECKING = KeyVerdict("Key entered: checking the key with the gateway (a free status read)...", "muted")
ACCEPTED = KeyVerdict("Key accepted (checked with the gateway).", "ok")
REFUSED = KeyVerdict(
    "The gateway refused this key (HTTP 401). Check the key on your AI/ML API dashboard and enter "
    "it again. The panel stays usable, but Generate would fail with this key.",
    "bad",
)


def not_checked(reason: str) -> KeyVerdict:
    """The check ended without the gateway's word on the key."""
    return KeyVerdict(f"Key not checked: {reason}", "warn")


def _unreachable(reason: str) -> KeyVerdict:
    return not_checked(f"the gateway could not be reached ({reason}).")


async def check_key(client: AsyncKlingClient, seconds: float = KEY_CHECK_SECONDS) -> KeyVerdict:
    """Ask the gateway about ``client``'s key with one free status read."""
    try:
        await asyncio.wait_for(client.get(_MADE_UP_ID), seconds)
    except errors.AuthenticationError:
        return REFUSED
    except (errors.APIStatusError, errors.InvalidResponseError):
        return ACCEPTED  # an answer past the key check
    except errors.APIConnectionError as exc:
        return _unreachable(f"{type(exc.__cause__ or exc).__name__} at {client.base_url}")
    except asyncio.TimeoutError:
        return _unreachable(f"no answer within {seconds:g} s from {client.base_url}")
    except errors.KlingError as exc:  # a redirect: a wrong base URL (never followed)
        return not_checked(str(exc))
    return ACCEPTED
