"""The models the emulator serves, and their live prices (``GET /v1/models``).

Prices are USD per second of video. v2.1 master's is the fal mirror's published price ($1.40 per
5 s, $0.28 per extra second, i.e. $0.28 per second). Credits are USD times ``credits_per_usd``:
the default 1500 keeps the emulator's figure of 420 credits per second of v2.1 master (two
examples in the gateway's docs suggest about 2,000,000 credits per USD; pass that to mimic it).

The catalogue answers like the gateway's (``service/models.json``): filters by ``id`` (or alias;
comma-separated or repeated, OR), ``type``, ``tags``, ``capabilities``, ``modalities``,
``input_modalities``, ``output_modalities``; sections ``pricing``, ``modalities``,
``capabilities`` on ``include`` (or ``all``, or ``details=true``); an ``ETag`` that changes when a
price does, and 304 for a matching ``If-None-Match``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ._http import Request

__all__ = [
    "CREDITS_PER_SECOND",
    "CREDITS_PER_USD",
    "MODEL_ID",
    "Catalogue",
    "ModelSpec",
    "etag_matches",
]

MODEL_ID = "klingai/v2.1-master-image-to-video"
CREDITS_PER_USD = 1500
#: Credits per second of v2.1 master video at the default ``credits_per_usd`` (5 s = 2100).
CREDITS_PER_SECOND = 420
SECTIONS = ("pricing", "modalities", "capabilities")


@dataclass(frozen=True)
class ModelSpec:
    """One model: its identity and what the catalogue says about it."""

    id: str
    name: str
    path: str  # the model's path in its generation ids: "<uuid>:<path>"
    usd_per_second: float
    released: str
    capabilities: tuple[str, ...] = ("image_to_video",)
    aliases: tuple[str, ...] = field(default=())

    @property
    def id_suffix(self) -> str:
        return f":{self.path}"


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            id=MODEL_ID,
            name="Kling v2.1 Master (image-to-video)",
            path="kling-video/v2.1/master/image-to-video",
            usd_per_second=0.28,
            released="2025-06-02",
            capabilities=("image_to_video", "camera_control", "motion_brush"),
        ),
    )
}


def _values(request: Request, name: str) -> list[str]:
    """A filter's values: comma-separated, repeated, or both."""
    return [part for value in request.query.get(name, []) for part in value.split(",") if part]


class Catalogue:
    """The models with their current prices; a price can change while the emulator runs."""

    def __init__(self, credits_per_usd: float = CREDITS_PER_USD) -> None:
        if credits_per_usd <= 0:
            raise ValueError("credits_per_usd must be positive")
        self.credits_per_usd = credits_per_usd
        self._prices = {model: spec.usd_per_second for model, spec in MODELS.items()}

    def spec(self, model: str) -> ModelSpec:
        return MODELS[model]

    def price(self, model: str, seconds: int) -> tuple[float, int]:
        """What ``seconds`` of video by ``model`` costs now, in USD and credits."""
        usd = round(self._prices[model] * seconds, 6)
        return usd, round(usd * self.credits_per_usd)

    def set_price(self, model: str, usd_per_second: float) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {sorted(MODELS)}")
        if usd_per_second < 0:
            raise ValueError("a price must not be negative")
        self._prices[model] = float(usd_per_second)

    def _entry(self, spec: ModelSpec, sections: set[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": spec.id,
            "aliases": list(spec.aliases),
            "type": "video",
            "info": {
                "name": spec.name,
                "developer": "Kling AI",
                "description": f"{spec.name}: animates an image into a short video.",
                "releasedAt": spec.released,
                "url": "",
            },
            "tags": ["playground:video"],
        }
        if "pricing" in sections:
            entry["pricing"] = {
                "kind": "fixed",
                "currency": "USD",
                "units": [{"unit": "second", "per": 1, "price": self._prices[spec.id]}],
            }
        if "modalities" in sections:
            entry["modalities"] = self._modalities(spec)
        if "capabilities" in sections:
            entry["capabilities"] = list(spec.capabilities)
        return entry

    @staticmethod
    def _modalities(spec: ModelSpec) -> dict[str, list[str]]:
        return {"input": ["image", "text"], "output": ["video"]}

    def _wanted(self, spec: ModelSpec, request: Request) -> bool:
        ids = _values(request, "id")
        if ids and not {spec.id, *spec.aliases} & set(ids):
            return False
        modalities = self._modalities(spec)
        filters = {
            "type": ["video"],
            "tags": ["playground:video"],
            "capabilities": list(spec.capabilities),
            "modalities": modalities["input"] + modalities["output"],
            "input_modalities": modalities["input"],
            "output_modalities": modalities["output"],
        }
        return all(
            not _values(request, name) or set(_values(request, name)) & set(offered)
            for name, offered in filters.items()
        )

    def listing(self, request: Request) -> tuple[bytes, str]:
        """The ``GET /v1/models`` body for ``request`` and its ETag."""
        include = set(_values(request, "include"))
        if "all" in include or request.query_value("details") in ("true", "1"):
            include.update(SECTIONS)
        data = [
            self._entry(spec, include) for spec in MODELS.values() if self._wanted(spec, request)
        ]
        body = json.dumps({"object": "list", "data": data}).encode()
        return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110 says)."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
