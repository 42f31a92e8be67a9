"""Generation ids in the three shapes the real gateway hands out; all opaque to a client.

``<uuid>:<model path>`` holds ``:`` and ``/``, the nanoid ``-`` and ``_``: a client has to
URL-encode every one of them in the ``generation_id`` query parameter.
"""

from __future__ import annotations

import random
import uuid

__all__ = ["NANOID_ALPHABET", "new_id", "new_token"]

NANOID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
NANOID_LENGTH = 21
NUMERIC_DIGITS = 18  # like 789392067490349060


def new_id(shape: str, suffix: str, rng: random.Random) -> str:
    """A new id of ``shape`` (``id_uuid``, ``id_numeric`` or ``id_nanoid``)."""
    if shape == "id_numeric":
        return str(rng.randrange(10 ** (NUMERIC_DIGITS - 1), 10**NUMERIC_DIGITS))
    if shape == "id_nanoid":
        return "".join(rng.choice(NANOID_ALPHABET) for _ in range(NANOID_LENGTH))
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)) + suffix


def new_token(rng: random.Random) -> str:
    """The secret part of a video URL."""
    return f"{rng.getrandbits(128):032x}"
