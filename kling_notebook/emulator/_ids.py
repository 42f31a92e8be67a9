"""Generation ids in the three shapes the real gateway hands out; all opaque to a client.

``<uuid>:<model path>`` holds ``:`` and ``/``, the nanoid ``-`` and ``_``: a client has to
URL-encode every one of them in the ``generation_id`` query parameter. Ids and video tokens come
from the operating system's randomness, never from the emulator's seed: a seeded run repeats its
timings and faults, but a client journal that outlives one run never sees an id twice.
"""

from __future__ import annotations

import secrets
import uuid

__all__ = ["NANOID_ALPHABET", "new_id", "new_token"]

NANOID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
NANOID_LENGTH = 21
NUMERIC_DIGITS = 18  # like 789392067490349060


def new_id(shape: str, suffix: str) -> str:
    """A new id of ``shape`` (``id_uuid``, ``id_numeric`` or ``id_nanoid``)."""
    if shape == "id_numeric":
        low = 10 ** (NUMERIC_DIGITS - 1)
        return str(low + secrets.randbelow(9 * low))
    if shape == "id_nanoid":
        return "".join(secrets.choice(NANOID_ALPHABET) for _ in range(NANOID_LENGTH))
    return str(uuid.uuid4()) + suffix


def new_token() -> str:
    """The secret part of a video URL."""
    return secrets.token_hex(16)
