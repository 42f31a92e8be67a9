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


#: The multi-image model's schema sits beside the image-to-video ones; it takes a list of images.
MULTI_IMAGE = "kling-video/v1.6/standard/multi-image-to-video"


def model_schemas() -> dict[str, dict[str, Any]]:
    """Each image-to-video model's request fields, required fields and 200 reply schema, by
    model id (two files describe v2.6 pro: their fields are taken together)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((DATA / "api" / "models").glob("*.json")):
        post = schema(f"models/{path.name}")["paths"]["/v2/video/generations"]["post"]
        request = post["requestBody"]["content"]["application/json"]["schema"]
        (model,) = request["properties"]["model"]["enum"]
        if model == MULTI_IMAGE:
            continue
        entry = found.setdefault(model, {"fields": {}, "required": set(), "file": path.name})
        entry["fields"].update(request["properties"])
        entry["required"].update(request["required"])
        entry["response"] = post["responses"]["200"]["content"]["application/json"]["schema"]
    return found
