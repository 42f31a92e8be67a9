"""Request-body validation: what the gateway's schema and Kling's limits reject, with
Expected/Received hints like the gateway's 400 "Body validation error".

Every problem is reported at once (not just the first), so a client's error message can show them
all. Image fields follow each endpoint's schema: ``format: uri`` on the universal endpoint (an
http(s) URL or a ``data:image/...;base64,...`` URI), a plain string on the legacy one (raw base64
too). A valid body comes back normalized (:class:`GenerationRequest`), e.g. ``"duration": "5"`` (the
seed's string) becomes ``5``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ._models import MODEL_ID
from ._source import inline_image

__all__ = [
    "AXES",
    "CAMERA_TYPES",
    "MODEL_ID",
    "BodyInvalid",
    "CameraControl",
    "Flavor",
    "GenerationRequest",
    "Issue",
    "validate",
]

Flavor = Literal["universal", "legacy"]
MAX_PROMPT = 2500
CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
PROVIDERS = ("auto", "kling", "klingai", "fal")
MAX_MASKS = 6
TRAJECTORY_POINTS = (2, 77)


@dataclass(frozen=True)
class Issue:
    """One rejected field: where, what was expected, what was received."""

    path: str
    expected: str
    received: str

    def as_json(self) -> dict[str, str]:
        message = f"Expected {self.expected}, received {self.received}"
        return {
            "path": self.path,
            "expected": self.expected,
            "received": self.received,
            "message": message,
        }


class BodyInvalid(Exception):
    """The body breaks the schema or Kling's limits; nothing may be created."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{i.path}: expected {i.expected}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class CameraControl:
    """A camera move: its type and the non-zero config axes, hashable for the render cache."""

    type: str
    axes: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class GenerationRequest:
    """A valid create body, normalized."""

    image_url: str
    image_bytes: bytes | None  # decoded when inline, None for an http(s) URL
    model: str = MODEL_ID
    duration: int = 5
    prompt: str | None = None
    negative_prompt: str | None = None
    cfg_scale: float | None = None
    camera: CameraControl | None = None
    masks: int = 0
    provider: str = "auto"
    external_task_id: str | None = None


def _kind(value: Any) -> str:
    """The JSON type of ``value`` as the gateway (JavaScript) names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{_kind(value)} {text[:30]}..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


class _Checker:
    """Collects issues while reading one body."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.issues: list[Issue] = []

    def fail(self, path: str, expected: str, value: Any, received: str | None = None) -> None:
        self.issues.append(Issue(path, expected, received or _shown(value)))

    def string(self, name: str, limit: int | None = None) -> str | None:
        if name not in self.body:
            return None
        value = self.body[name]
        if not isinstance(value, str):
            self.fail(name, "string", value, _kind(value))
            return None
        if limit is not None and len(value) > limit:
            expected = f"string of at most {limit} characters"
            self.fail(name, expected, value, f"{len(value)} characters")
            return None
        return value

    def required(self, name: str) -> bool:
        if name not in self.body:
            self.fail(name, "string", None, "undefined")
            return False
        return True


def _duration(check: _Checker) -> int:
    value = check.body.get("duration", 5)
    if _is_number(value) and value in (5, 10):
        return int(value)
    if isinstance(value, str) and value.strip() in ("5", "10"):
        return int(value)
    check.fail("duration", "5 | 10", value)
    return 5


def _cfg_scale(check: _Checker) -> float | None:
    if "cfg_scale" not in check.body:
        return None
    value = check.body["cfg_scale"]
    if not _is_number(value) or not 0 <= value <= 1:
        check.fail("cfg_scale", "number between 0 and 1", value)
        return None
    return float(value)


def _camera(check: _Checker) -> CameraControl | None:
    if "camera_control" not in check.body:
        return None
    value = check.body["camera_control"]
    if not isinstance(value, dict):
        check.fail("camera_control", "object", value, _kind(value))
        return None
    kind = value.get("type")
    if kind not in CAMERA_TYPES:
        check.fail(
            "camera_control.type",
            " | ".join(CAMERA_TYPES),
            kind,
            None if "type" in value else "undefined",
        )
        return None
    config = value.get("config", {})
    if not isinstance(config, dict):
        check.fail("camera_control.config", "object", config, _kind(config))
        return None
    axes: list[tuple[str, float]] = []
    for axis in AXES:
        amount = config.get(axis, 0)
        if not _is_number(amount) or not -10 <= amount <= 10:
            check.fail(f"camera_control.config.{axis}", "number between -10 and 10", amount)
        elif amount:
            axes.append((axis, float(amount)))
    if kind == "simple" and len(axes) != 1:
        check.fail(
            "camera_control.config",
            "exactly one non-zero axis for type simple",
            config,
            f"{len(axes)} non-zero axes",
        )
    if kind != "simple" and axes:
        check.fail("camera_control.config", f"no config for type {kind}", config)
    return CameraControl(kind, tuple(axes))


def _trajectory_ok(points: Any) -> bool:
    low, high = TRAJECTORY_POINTS
    return (
        isinstance(points, list)
        and low <= len(points) <= high
        and all(
            isinstance(p, dict) and _is_integer(p.get("x")) and _is_integer(p.get("y"))
            for p in points
        )
    )


def _masks(check: _Checker) -> int:
    if "dynamic_masks" not in check.body:
        return 0
    masks = check.body["dynamic_masks"]
    if not isinstance(masks, list) or len(masks) > MAX_MASKS:
        check.fail(
            "dynamic_masks",
            f"array of at most {MAX_MASKS} masks",
            masks,
            f"{len(masks)} masks" if isinstance(masks, list) else _kind(masks),
        )
        return 0
    for index, mask in enumerate(masks):
        path = f"dynamic_masks.{index}"
        if not isinstance(mask, dict) or not isinstance(mask.get("mask"), str):
            check.fail(
                f"{path}.mask", "string", mask.get("mask") if isinstance(mask, dict) else mask
            )
        elif not _trajectory_ok(mask.get("trajectories")):
            low, high = TRAJECTORY_POINTS
            check.fail(
                f"{path}.trajectories",
                f"{low}..{high} points {{x: integer, y: integer}}",
                mask.get("trajectories"),
            )
    return len(masks)


def _provider(check: _Checker) -> str:
    value = check.string("provider")
    if value is None:
        return "auto"
    if value.lower() not in PROVIDERS:
        check.fail("provider", " | ".join(PROVIDERS), value)
    return value.lower()


def _image(check: _Checker, name: str, uri: bool) -> tuple[str, bytes | None]:
    """An image field: on a ``format: uri`` field an http(s) URL or an image data URI, elsewhere
    also raw base64."""
    value = check.string(name)
    if value is None:
        return "", None
    try:
        return value, inline_image(value, uri=uri)
    except ValueError as error:
        expected = "uri (an http(s) URL or data:image/...;base64,...)"
        check.fail(
            name, expected if uri else "an http(s) URL or a base64-encoded image", value, str(error)
        )
        return value, None


def validate(body: Any, flavor: Flavor) -> GenerationRequest:
    """Normalize a create body for ``flavor``'s endpoint, or raise :class:`BodyInvalid`.

    Fields that belong to the other endpoint's schema are ignored, as the gateway strips unknown
    fields: ``provider`` is checked on the universal endpoint, ``type`` and ``external_task_id``
    on the legacy one.
    """
    if not isinstance(body, dict):
        raise BodyInvalid([Issue("", "object", _kind(body))])
    check = _Checker(body)
    if check.required("model") and body["model"] != MODEL_ID:
        check.fail("model", json.dumps(MODEL_ID), body["model"])
    uri = flavor == "universal"  # the legacy schema declares plain strings
    image_url, image_bytes = (
        _image(check, "image_url", uri) if check.required("image_url") else ("", None)
    )
    request = GenerationRequest(
        image_url=image_url,
        image_bytes=image_bytes,
        duration=_duration(check),
        prompt=check.string("prompt", MAX_PROMPT),
        negative_prompt=check.string("negative_prompt", MAX_PROMPT),
        cfg_scale=_cfg_scale(check),
        camera=_camera(check),
        masks=_masks(check),
        provider=_provider(check) if flavor == "universal" else "auto",
        external_task_id=check.string("external_task_id") if flavor == "legacy" else None,
    )
    if uri:
        _image(check, "static_mask", uri)
    else:
        check.string("static_mask")
    if flavor == "legacy" and body.get("type", "image-to-video") != "image-to-video":
        check.fail("type", '"image-to-video"', body["type"])
    if check.issues:
        raise BodyInvalid(check.issues)
    return request
