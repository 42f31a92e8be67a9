"""The test suite's own data (API schemas, input images), kept in ``tests/data`` so a clone
anywhere runs every test: nothing outside the repository is ever read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def data_file(*parts: str) -> Path:
    """A file under ``tests/data``; fails loudly (never skips) when it is missing."""
    path = DATA.joinpath(*parts)
    if not path.is_file():
        raise AssertionError(f"tests/data/{'/'.join(parts)} is missing from the repository")
    return path


def schema(name: str) -> dict[str, Any]:
    """A published API schema, by file name under ``tests/data/api``."""
    return json.loads(data_file("api", *name.split("/")).read_text())


def image(name: str) -> bytes:
    """An input image under ``tests/data/images`` (``mushroom.jpg``, ``mona_lisa_extended.jpg``)."""
    return data_file("images", name).read_bytes()
