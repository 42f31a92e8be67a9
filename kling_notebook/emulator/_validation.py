"""Request-body validation: what each model's schema and Kling's limits reject, with
Expected/Received hints like the gateway's 400 "Body validation error".

Each model (``_models``) takes its own fields; fields outside its schema are dropped, as the
gateway strips unknown fields, and the normalized request names them (``ignored``) so a test can
see what a client sent in vain. Kling's own rules apply on top: masks, camera control and an end
frame cannot be combined; ``prompt`` and ``multi_prompt`` exclude each other.

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

from ._models import MODEL_ID, MODELS, ModelSpec
from ._source import inline_image, is_http_url

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
MAX_PROMPT = 2500  # negative_prompt, and prompt unless a model says otherwise
MAX_ELEMENTS = 4
MAX_SHOTS = 6
LEGACY_ONLY = ("type", "external_task_id")  # the legacy pair's own fields
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
    end_image_url: str | None = None  # the last frame (tail_image_url / last_image_url)
    end_image_bytes: bytes | None = None
    generate_audio: bool = False
    shots: int = 0  # prompts in multi_prompt
    elements: int = 0
    shot_type: str | None = None
    ignored: tuple[str, ...] = ()  # fields the model's schema does not take: dropped


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
    """Collects issues while reading one body (only the fields its model takes)."""

    def __init__(self, body: dict[str, Any], spec: ModelSpec) -> None:
        self.body = body
        self.spec = spec
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
    durations = check.spec.durations
    value = check.body.get("duration", 5)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # the seed's example sends "5"
    if _is_number(value) and value in durations:
        return int(value)
    expected = " | ".join(map(str, durations))
    if len(durations) > 2:
        expected = f"integer from {durations[0]} to {durations[-1]}"
    check.fail("duration", expected, check.body.get("duration"))
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
    config = value.get("config", {})
    if not isinstance(config, dict):
        check.fail("camera_control.config", "object", config, _kind(config))
        return None
    # The schemas make ``type`` optional: without one, a config is read as the one type that
    # takes a config (simple), and an empty camera_control moves nothing.
    kind = value.get("type", "simple" if any(config.get(axis) for axis in AXES) else None)
    if kind is None:
        return None
    if kind not in CAMERA_TYPES:
        check.fail("camera_control.type", " | ".join(CAMERA_TYPES), kind)
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


def _boolean(check: _Checker, name: str, default: bool) -> bool:
    value = check.body.get(name, default)
    if not isinstance(value, bool):
        check.fail(name, "boolean", value, _kind(value))
        return default
    return value


def _multi_prompt(check: _Checker) -> int:
    """A list of prompts (``prompts``) or of shots ``{prompt, duration}`` (``shots``)."""
    value = check.body.get("multi_prompt")
    if value is None:
        return 0
    shots = check.spec.multi_prompt == "shots"
    low, high = (1, MAX_SHOTS) if shots else (1, None)
    if not isinstance(value, list) or len(value) < low or (high and len(value) > high):
        expected = f"array of {low} to {high} shots" if shots else "non-empty array of strings"
        received = f"{len(value)} items" if isinstance(value, list) else _kind(value)
        check.fail("multi_prompt", expected, value, received)
        return 0
    for index, item in enumerate(value):
        path = f"multi_prompt.{index}"
        text = item.get("prompt") if shots and isinstance(item, dict) else item
        if not isinstance(text, str) or len(text) > check.spec.max_prompt:
            limit = check.spec.max_prompt
            check.fail(
                f"{path}.prompt" if shots else path, f"string of at most {limit} characters", text
            )
        elif shots and "duration" in item and item["duration"] not in range(1, 16):
            check.fail(f"{path}.duration", "integer from 1 to 15", item["duration"])
    return len(value)


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and (is_http_url(value) or value.startswith("data:"))


def _elements(check: _Checker) -> int:
    """Characters or objects to include: each an image set (reference images, maybe a frontal
    one) or a video; at most one element has a video."""
    value = check.body.get("elements")
    if value is None:
        return 0
    if not isinstance(value, list) or len(value) > MAX_ELEMENTS:
        received = f"{len(value)} elements" if isinstance(value, list) else _kind(value)
        check.fail("elements", f"array of at most {MAX_ELEMENTS} elements", value, received)
        return 0
    videos = 0
    for index, element in enumerate(value):
        path = f"elements.{index}"
        if not isinstance(element, dict):
            check.fail(path, "object", element, _kind(element))
            continue
        references = element.get("reference_image_urls")
        if (
            not isinstance(references, list)
            or not 1 <= len(references) <= 4
            or not all(map(_is_uri, references))
        ):
            check.fail(f"{path}.reference_image_urls", "array of 1 to 4 uris", references)
        for name in ("frontal_image_url", "video_url"):
            if name in element and not _is_uri(element[name]):
                check.fail(f"{path}.{name}", "uri", element[name])
        videos += "video_url" in element
    if videos > 1:
        check.fail("elements", "at most one element with a video_url", value, f"{videos} videos")
    return len(value)


def _shot_type(check: _Checker) -> str | None:
    value = check.string("shot_type")
    if value is not None and value not in check.spec.shot_types:
        check.fail("shot_type", " | ".join(check.spec.shot_types), value)
    return value


def _model(body: dict[str, Any], flavor: Flavor) -> tuple[ModelSpec, Issue | None]:
    """The model asked for (v2.1 master's rules stand in for an unknown one)."""
    offered = [MODEL_ID] if flavor == "legacy" else list(MODELS)
    if "model" not in body:
        return MODELS[MODEL_ID], Issue("model", "string", "undefined")
    if body["model"] not in offered:
        return MODELS[MODEL_ID], Issue(
            "model", " | ".join(map(json.dumps, offered)), _shown(body["model"])
        )
    return MODELS[body["model"]], None


def _accepted(
    body: dict[str, Any], spec: ModelSpec, flavor: Flavor
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The fields ``spec``'s schema on ``flavor``'s pair takes, and the names of the rest."""
    fields = {"model", "image_url", *spec.fields}
    if flavor == "legacy":
        fields = (fields - {"provider"}) | set(LEGACY_ONLY)
    kept = {name: value for name, value in body.items() if name in fields}
    return kept, tuple(sorted(set(body) - fields))


def _exclusions(check: _Checker, request: GenerationRequest) -> None:
    """Kling's rules across fields."""
    spec = check.spec
    combined = [name for name, present in (
        ("masks", request.masks or "static_mask" in check.body),
        ("camera_control", request.camera is not None),
        (spec.end_frame or "", request.end_image_url is not None),
    ) if present]  # fmt: skip
    if len(combined) > 1:
        expected = "at most one of masks, camera control and an end frame"
        check.fail(combined[-1], expected, None, " and ".join(combined))
    if "prompt" in check.body and request.shots:
        check.fail("multi_prompt", "either prompt or multi_prompt, not both", None, "both")
    if spec.tail_needs_silence and request.end_image_url is not None and request.generate_audio:
        expected = "generate_audio false with an end frame"
        check.fail(spec.end_frame or "", expected, None, "generate_audio true")


def validate(body: Any, flavor: Flavor) -> GenerationRequest:
    """Normalize a create body for ``flavor``'s endpoint, or raise :class:`BodyInvalid`.

    Fields outside the model's schema on that endpoint are ignored (and named in ``ignored``):
    ``provider`` is the universal endpoint's, ``type`` and ``external_task_id`` the legacy one's.
    """
    if not isinstance(body, dict):
        raise BodyInvalid([Issue("", "object", _kind(body))])
    spec, model_issue = _model(body, flavor)
    kept, ignored = _accepted(body, spec, flavor)
    check = _Checker(kept, spec)
    if model_issue is not None:
        check.issues.append(model_issue)
    uri = flavor == "universal"  # the legacy schema declares plain strings
    image_url, image_bytes = (
        _image(check, "image_url", uri) if check.required("image_url") else ("", None)
    )
    for name in spec.required:
        check.required(name)
    end_url, end_bytes = _image(check, spec.end_frame, uri) if spec.end_frame else ("", None)
    request = GenerationRequest(
        image_url=image_url,
        image_bytes=image_bytes,
        model=spec.id,
        duration=_duration(check),
        prompt=check.string("prompt", spec.max_prompt),
        negative_prompt=check.string("negative_prompt", MAX_PROMPT),
        cfg_scale=_cfg_scale(check),
        camera=_camera(check),
        masks=_masks(check),
        provider=_provider(check) if flavor == "universal" else "auto",
        external_task_id=check.string("external_task_id") if flavor == "legacy" else None,
        end_image_url=end_url if spec.end_frame and spec.end_frame in kept else None,
        end_image_bytes=end_bytes,
        generate_audio=_boolean(check, "generate_audio", True) if spec.audio else False,
        shots=_multi_prompt(check),
        elements=_elements(check),
        shot_type=_shot_type(check),
        ignored=ignored,
    )
    if uri:
        _image(check, "static_mask", uri)
    else:
        check.string("static_mask")
    if flavor == "legacy" and kept.get("type", "image-to-video") != "image-to-video":
        check.fail("type", '"image-to-video"', kept["type"])
    _exclusions(check, request)
    if check.issues:
        raise BodyInvalid(check.issues)
    return request
