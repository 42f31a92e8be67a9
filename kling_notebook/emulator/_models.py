"""The models the emulator serves: the Kling image-to-video family, and its live prices.

Each model takes the fields its published schema lists (``tests/data/api/models``, encoded here),
requires what it requires, and has its own durations, timing, price and id path. Prices are USD
per second of video, by ``generate_audio`` where a model takes it. v2.1 master's is the fal
mirror's published price ($1.40 per 5 s, $0.28 per extra second, i.e. $0.28 per second); the
others are plausible figures of the same kind. Credits are USD times ``credits_per_usd``:
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
    "MODELS",
    "MODEL_ID",
    "Catalogue",
    "ModelSpec",
    "Timing",
    "etag_matches",
]

MODEL_ID = "klingai/v2.1-master-image-to-video"
CREDITS_PER_USD = 1500
#: Credits per second of v2.1 master video at the default ``credits_per_usd`` (5 s = 2100).
CREDITS_PER_SECOND = 420
SECTIONS = ("pricing", "modalities", "capabilities")
MASKS_AND_CAMERA = ("cfg_scale", "static_mask", "dynamic_masks", "camera_control")
FIVE_OR_TEN = (5, 10)
THREE_TO_FIFTEEN = tuple(range(3, 16))


@dataclass(frozen=True)
class Timing:
    """How long a generation takes before ``time_scale``: seconds for a 5 s and a 10 s video
    (each a range drawn from uniformly), in between and beyond linear in the video's length."""

    five: tuple[float, float]
    ten: tuple[float, float]

    def window(self, duration: int) -> tuple[float, float]:
        share = (duration - 5) / 5
        low = self.five[0] + (self.ten[0] - self.five[0]) * share
        high = self.five[1] + (self.ten[1] - self.five[1]) * share
        return max(low, 1.0), max(high, 1.0)


@dataclass(frozen=True)
class ModelSpec:
    """One image-to-video model: identity, the fields its schema takes, its rules, its timing
    and its price (USD per second of video; ``audio_usd_per_second`` with ``generate_audio``)."""

    id: str
    name: str
    path: str  # the model's path in its generation ids: "<uuid>:<path>"
    released: str
    usd_per_second: float
    timing: Timing
    fields: tuple[str, ...]  # optional fields besides model and image_url
    required: tuple[str, ...] = ()
    durations: tuple[int, ...] = FIVE_OR_TEN
    end_frame: str | None = None  # the field naming the last frame's image
    audio_usd_per_second: float | None = None  # set when the model takes generate_audio
    multi_prompt: str | None = None  # "prompts" (a list of strings) or "shots" (objects)
    shot_types: tuple[str, ...] = ()
    max_prompt: int = 2500
    max_image_bytes: int = 10 * 1024 * 1024
    usd_in_usage: bool = False  # meta.usage also carries usd_spent (the omni schemas)
    tail_needs_silence: bool = False  # an end frame only with generate_audio false (omni)
    aliases: tuple[str, ...] = field(default=())

    @property
    def id_suffix(self) -> str:
        return f":{self.path}"

    @property
    def audio(self) -> bool:
        return self.audio_usd_per_second is not None

    @property
    def capabilities(self) -> tuple[str, ...]:
        offered = ["image_to_video"]
        offered += ["end_frame"] if self.end_frame else []
        offered += ["audio"] if self.audio else []
        offered += ["camera_control", "motion_brush"] if "camera_control" in self.fields else []
        offered += ["multi_shot"] if self.multi_prompt else []
        offered += ["elements"] if "elements" in self.fields else []
        return tuple(offered)


_V1 = ("prompt", "negative_prompt", "duration", "tail_image_url", *MASKS_AND_CAMERA)
_V2 = ("prompt", "negative_prompt", "duration", *MASKS_AND_CAMERA)
_PLAIN = ("prompt", "negative_prompt", "duration", "cfg_scale", "provider")
_V3 = ("prompt", "multi_prompt", "negative_prompt", "duration", "tail_image_url", "elements",
       "shot_type", "generate_audio", "cfg_scale", "provider")  # fmt: skip
_TURBO = ("prompt", "multi_prompt", "duration")
_STANDARD = Timing((120, 240), (240, 420))
_PRO = Timing((240, 360), (420, 660))

#: Every Kling image-to-video model the gateway lists (the multi-image one aside). Fields, rules
#: and durations follow each model's published schema; timings and prices are plausible
#: figures (v2.1 master's: the documented 5-6 and 11-14 minutes, and the fal mirror's price).
MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(id="kling-video/v1/standard/image-to-video", name="Kling v1 Standard",
              path="kling-video/v1/standard/image-to-video", released="2024-06-06",
              usd_per_second=0.045, timing=_STANDARD, fields=_V1, end_frame="tail_image_url"),
        ModelSpec(id="kling-video/v1/pro/image-to-video", name="Kling v1 Pro",
              path="kling-video/v1/pro/image-to-video", released="2024-06-06",
              usd_per_second=0.095, timing=_PRO, fields=_V1, end_frame="tail_image_url"),
        ModelSpec(id="kling-video/v1.5/standard/image-to-video", name="Kling v1.5 Standard",
              path="kling-video/v1.5/standard/image-to-video", released="2024-09-19",
              usd_per_second=0.045, timing=_STANDARD, fields=_V1, end_frame="tail_image_url"),
        ModelSpec(id="kling-video/v1.5/pro/image-to-video", name="Kling v1.5 Pro",
              path="kling-video/v1.5/pro/image-to-video", released="2024-09-19",
              usd_per_second=0.095, timing=_PRO, fields=_V1, end_frame="tail_image_url"),
        ModelSpec(id="kling-video/v1.6/standard/image-to-video", name="Kling v1.6 Standard",
              path="kling-video/v1.6/standard/image-to-video", released="2024-12-19",
              usd_per_second=0.045, timing=Timing((150, 270), (300, 480)), fields=_PLAIN,
              required=("prompt",)),
        ModelSpec(id="kling-video/v1.6/pro/image-to-video", name="Kling v1.6 Pro",
              path="kling-video/v1.6/pro/image-to-video", released="2024-12-19",
              usd_per_second=0.095, timing=_PRO, fields=_V1, end_frame="tail_image_url"),
        ModelSpec(id="klingai/v2-master-image-to-video", name="Kling v2 Master",
              path="kling-video/v2/master/image-to-video", released="2025-04-15",
              usd_per_second=0.28, timing=Timing((300, 420), (600, 900)),
              fields=(*_V2, "provider")),
        ModelSpec(id=MODEL_ID, name="Kling v2.1 Master",
              path="kling-video/v2.1/master/image-to-video", released="2025-06-02",
              usd_per_second=0.28, timing=Timing((300, 360), (660, 840)),
              fields=(*_V2, "provider")),
        ModelSpec(id="kling-video/v2.1/standard/image-to-video", name="Kling v2.1 Standard",
              path="kling-video/v2.1/standard/image-to-video", released="2025-06-02",
              usd_per_second=0.05, timing=Timing((90, 150), (180, 300)), fields=_V2),
        ModelSpec(id="kling-video/v2.1/pro/image-to-video", name="Kling v2.1 Pro",
              path="kling-video/v2.1/pro/image-to-video", released="2025-06-02",
              usd_per_second=0.09, timing=Timing((150, 240), (300, 450)), fields=_V2),
        ModelSpec(id="klingai/v2.5-turbo/pro/image-to-video", name="Kling v2.5 Turbo Pro",
              path="kling-video/v2.5-turbo/pro/image-to-video", released="2025-09-23",
              usd_per_second=0.07, timing=Timing((60, 120), (120, 240)), fields=_PLAIN,
              required=("prompt",)),
        ModelSpec(id="klingai/video-v2-6-pro-image-to-video", name="Kling v2.6 Pro",
              path="kling-video/v2.6/pro/image-to-video", released="2025-12-03",
              usd_per_second=0.07, audio_usd_per_second=0.14, timing=_STANDARD,
              fields=("prompt", "negative_prompt", "duration", "tail_image_url",
                      "generate_audio", "provider"),
              required=("prompt",), end_frame="tail_image_url"),
        ModelSpec(id="klingai/video-o1-image-to-video", name="Kling O1",
              path="kling-video/o1/image-to-video", released="2025-12-01",
              usd_per_second=0.112, timing=_STANDARD,
              fields=("prompt", "duration", "last_image_url", "provider"),
              required=("prompt",), end_frame="last_image_url"),
        ModelSpec(id="klingai/video-v3-standard-image-to-video", name="Kling v3 Standard",
              path="kling-video/v3/standard/image-to-video", released="2026-02-05",
              usd_per_second=0.084, audio_usd_per_second=0.126, timing=_STANDARD, fields=_V3,
              durations=THREE_TO_FIFTEEN, end_frame="tail_image_url", multi_prompt="prompts",
              shot_types=("customize", "intelligent")),
        ModelSpec(id="klingai/video-v3-pro-image-to-video", name="Kling v3 Pro",
              path="kling-video/v3/pro/image-to-video", released="2026-02-05",
              usd_per_second=0.112, audio_usd_per_second=0.168, timing=Timing((180, 300), (360, 540)),
              fields=_V3, durations=THREE_TO_FIFTEEN, end_frame="tail_image_url",
              multi_prompt="prompts", shot_types=("customize", "intelligent")),
        ModelSpec(id="klingai/video-v3-standard-turbo-image-to-video", name="Kling v3 Standard Turbo",
              path="kling-video/v3/standard-turbo/image-to-video", released="2026-03-10",
              usd_per_second=0.056, timing=Timing((45, 90), (90, 180)), fields=_TURBO,
              durations=THREE_TO_FIFTEEN, multi_prompt="shots", max_prompt=3072,
              max_image_bytes=50 * 1024 * 1024),
        ModelSpec(id="klingai/video-v3-turbo-pro-image-to-video", name="Kling v3 Turbo Pro",
              path="kling-video/v3/turbo-pro/image-to-video", released="2026-03-10",
              usd_per_second=0.084, timing=Timing((60, 120), (120, 240)), fields=_TURBO,
              durations=THREE_TO_FIFTEEN, multi_prompt="shots", max_prompt=3072,
              max_image_bytes=50 * 1024 * 1024),
        ModelSpec(id="klingai/video-v3-omni-720p-image-to-video", name="Kling v3 Omni 720p",
              path="kling-video/v3/omni/720p/image-to-video", released="2026-02-05",
              usd_per_second=0.084, audio_usd_per_second=0.126, timing=Timing((150, 270), (300, 480)),
              fields=_V3, durations=THREE_TO_FIFTEEN, end_frame="tail_image_url",
              multi_prompt="prompts", shot_types=("customize", "intelligent", "intelligence"),
              usd_in_usage=True, tail_needs_silence=True),
        ModelSpec(id="klingai/video-v3-omni-1080p-image-to-video", name="Kling v3 Omni 1080p",
              path="kling-video/v3/omni/1080p/image-to-video", released="2026-02-05",
              usd_per_second=0.112, audio_usd_per_second=0.168, timing=Timing((210, 330), (420, 600)),
              fields=_V3, durations=THREE_TO_FIFTEEN, end_frame="tail_image_url",
              multi_prompt="prompts", shot_types=("customize", "intelligent", "intelligence"),
              usd_in_usage=True, tail_needs_silence=True),
    )
}  # fmt: skip


def _values(request: Request, name: str) -> list[str]:
    """A filter's values: comma-separated, repeated, or both."""
    return [part for value in request.query.get(name, []) for part in value.split(",") if part]


class Catalogue:
    """The models with their current prices; a price can change while the emulator runs."""

    def __init__(self, credits_per_usd: float = CREDITS_PER_USD) -> None:
        if credits_per_usd <= 0:
            raise ValueError("credits_per_usd must be positive")
        self.credits_per_usd = credits_per_usd
        self._prices: dict[tuple[str, bool], float] = {}
        for model, spec in MODELS.items():
            self._prices[(model, False)] = spec.usd_per_second
            if spec.audio_usd_per_second is not None:
                self._prices[(model, True)] = spec.audio_usd_per_second

    @staticmethod
    def spec(model: str) -> ModelSpec:
        return MODELS[model]

    def price(self, model: str, seconds: int, audio: bool = False) -> tuple[float, int]:
        """What ``seconds`` of video by ``model`` (with audio or not) costs now: USD, credits."""
        usd = round(self._prices[(model, audio)] * seconds, 6)
        return usd, round(usd * self.credits_per_usd)

    def set_price(self, model: str, usd_per_second: float, audio: bool | None = None) -> None:
        """A new price for ``model``: with audio (``audio=True``), without, or both (None)."""
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {sorted(MODELS)}")
        if usd_per_second < 0:
            raise ValueError("a price must not be negative")
        variants = [flag for (name, flag) in self._prices if name == model]
        if audio is not None and audio not in variants:
            raise ValueError(f"{model} takes no generate_audio")
        for flag in variants if audio is None else [audio]:
            self._prices[(model, flag)] = float(usd_per_second)

    def _pricing(self, spec: ModelSpec) -> dict[str, Any]:
        def rate(audio: bool) -> dict[str, Any]:
            return {"unit": "second", "per": 1, "price": self._prices[(spec.id, audio)]}

        if not spec.audio:
            return {"kind": "fixed", "currency": "USD", "units": [rate(False)]}
        return {
            "kind": "variants",
            "currency": "USD",
            "dimensions": ["generate_audio"],
            "variants": [{"generate_audio": flag, **rate(flag)} for flag in (False, True)],
        }

    def _entry(self, spec: ModelSpec, sections: set[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": spec.id,
            "aliases": list(spec.aliases),
            "type": "video",
            "info": {
                "name": f"{spec.name} (image-to-video)",
                "developer": "Kling AI",
                "description": f"{spec.name}: animates an image into a short video.",
                "releasedAt": spec.released,
                "url": "",
            },
            "tags": ["playground:video"],
        }
        if "pricing" in sections:
            entry["pricing"] = self._pricing(spec)
        if "modalities" in sections:
            entry["modalities"] = self._modalities(spec)
        if "capabilities" in sections:
            entry["capabilities"] = list(spec.capabilities)
        return entry

    @staticmethod
    def _modalities(spec: ModelSpec) -> dict[str, list[str]]:
        return {
            "input": ["image", "text"],
            "output": ["video", "audio"] if spec.audio else ["video"],
        }

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
