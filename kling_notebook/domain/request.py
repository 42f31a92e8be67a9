"""What the user asks for: a generation request, validated against the schema and Kling's limits.

A :class:`GenerationRequest` that constructs without error is one the gateway should accept: every
check runs in ``__post_init__``, so bad input fails before any money is spent. Local images are
checked (and encoded) by :meth:`GenerationRequest.prepare`, which the client calls before the POST.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .cost import CostEstimate
from .errors import ValidationError
from .images import (
    KLING_LIMITS,
    ImageEncoding,
    ImageInfo,
    ImageInput,
    ImageLimits,
    PreparedImage,
    is_url,
    prepare_image,
)

__all__ = [
    "MODEL_ID",
    "MAX_PROMPT_CHARS",
    "DURATIONS",
    "CAMERA_TYPES",
    "CAMERA_AXES",
    "PROVIDERS",
    "IgnoredFieldWarning",
    "CameraControl",
    "DynamicMask",
    "GenerationRequest",
    "request_from",
    "Prepared",
]

MODEL_ID = "klingai/v2.1-master-image-to-video"
MAX_PROMPT_CHARS = 2500
DURATIONS = (5, 10)
CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
PROVIDERS = ("auto", "kling", "klingai", "fal")
MAX_DYNAMIC_MASKS = 6
TRAJECTORY_POINTS = (2, 77)

#: Fields the gateway accepts but v2.1 master is documented to ignore or not support.
IGNORED_FIELD_NOTES = {
    "cfg_scale": "v2.x Kling models ignore cfg_scale",
    "camera_control": "v2.1 master lists no camera control; it is likely dropped or rejected",
    "static_mask": "v2.1 master lists no motion brush; masks are likely dropped or rejected",
    "dynamic_masks": "v2.1 master lists no motion brush; masks are likely dropped or rejected",
}
#: Fields the legacy endpoint's published schema does not list (it likely ignores them).
LEGACY_UNLISTED_NOTES = {
    "provider": "the legacy endpoint's schema has no provider field, so it is likely ignored there; "
    "use endpoint='universal' to choose the provider",
}


class IgnoredFieldWarning(UserWarning):
    """A field is sent although the model is documented to ignore it."""


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(name, value, "must be a finite number")
    return float(value)


def _text(name: str, value: Any, allow_none: bool = True) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise ValidationError(name, value, "must be text (str)")
    if len(value) > MAX_PROMPT_CHARS:
        raise ValidationError(name, value, f"at most {MAX_PROMPT_CHARS} characters, got {len(value)}")
    if "\x00" in value:
        raise ValidationError(name, value, "must not contain NUL characters")
    return value


@dataclass(frozen=True)
class CameraControl:
    """Kling camera movement: ``simple`` moves along exactly one axis; presets take no config."""

    type: str = "simple"
    config: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in CAMERA_TYPES:
            raise ValidationError("camera_control.type", self.type, f"one of {', '.join(CAMERA_TYPES)}")
        if not isinstance(self.config, Mapping):
            raise ValidationError("camera_control.config", self.config, "must be a mapping of axis -> number")
        for axis, value in self.config.items():
            if axis not in CAMERA_AXES:
                raise ValidationError(f"camera_control.config.{axis}", axis, f"axes are {', '.join(CAMERA_AXES)}")
            if not -10 <= _number(f"camera_control.config.{axis}", value) <= 10:
                raise ValidationError(f"camera_control.config.{axis}", value, "between -10 and 10")
        moving = [axis for axis, value in self.config.items() if value != 0]
        if self.type == "simple" and len(moving) != 1:
            raise ValidationError(
                "camera_control.config", dict(self.config),
                "type 'simple' needs exactly one non-zero axis",
            )
        if self.type != "simple" and self.config:
            raise ValidationError(
                "camera_control.config", dict(self.config), f"type '{self.type}' takes no config"
            )

    @classmethod
    def coerce(cls, value: CameraControl | Mapping[str, Any] | None) -> CameraControl | None:
        if value is None or isinstance(value, CameraControl):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError("camera_control", value, "a CameraControl or a {type, config} mapping")
        unknown = set(value) - {"type", "config"}
        if unknown:
            raise ValidationError("camera_control", sorted(unknown), "only 'type' and 'config' keys")
        config = value.get("config")
        if config is not None and not isinstance(config, Mapping):
            raise ValidationError("camera_control.config", config, "must be a mapping of axis -> number")
        return cls(type=value.get("type", "simple"), config=dict(config or {}))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        if self.config:
            body["config"] = {axis: value for axis, value in self.config.items()}
        return body


@dataclass(frozen=True)
class DynamicMask:
    """A motion-brush mask (image URL) and the trajectory its area follows."""

    mask: str
    trajectories: Sequence[tuple[int, int]]

    def __post_init__(self) -> None:
        if not isinstance(self.mask, str) or not self.mask:
            raise ValidationError("dynamic_masks.mask", self.mask, "an image URL or base64 string")
        lo, hi = TRAJECTORY_POINTS
        if not lo <= len(self.trajectories) <= hi:
            raise ValidationError(
                "dynamic_masks.trajectories", len(self.trajectories), f"between {lo} and {hi} points"
            )
        for point in self.trajectories:
            if len(point) != 2 or not all(isinstance(c, int) and not isinstance(c, bool) for c in point):
                raise ValidationError("dynamic_masks.trajectories", point, "points are (x, y) integers")

    @classmethod
    def coerce(cls, value: DynamicMask | Mapping[str, Any]) -> DynamicMask:
        if isinstance(value, DynamicMask):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError("dynamic_masks", value, "each mask is {mask, trajectories}")
        points = value.get("trajectories") or []
        if isinstance(points, (str, bytes)) or not isinstance(points, Sequence):
            raise ValidationError("dynamic_masks.trajectories", points, "a list of {x, y} points")
        coerced: list[Any] = []
        for point in points:
            if isinstance(point, Mapping) and "x" in point and "y" in point:
                coerced.append((point["x"], point["y"]))
            elif isinstance(point, Sequence) and not isinstance(point, (str, bytes)):
                coerced.append(tuple(point))
            else:
                raise ValidationError("dynamic_masks.trajectories", point, "points are {x, y} integers")
        return cls(mask=value.get("mask", ""), trajectories=coerced)

    def to_json(self) -> dict[str, Any]:
        return {"mask": self.mask, "trajectories": [{"x": x, "y": y} for x, y in self.trajectories]}


_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def _is_plain_url(value: Any) -> bool:
    """An http(s) URL made only of the characters RFC 3986 allows (what ``format: uri`` accepts)."""
    return is_url(value) and _URI_CHARS.fullmatch(value) is not None


def _duration(value: Any) -> int:
    if isinstance(value, str) and value.strip() in ("5", "10"):
        return int(value)
    if isinstance(value, bool) or value not in DURATIONS:
        raise ValidationError("duration", value, "5 or 10 (seconds)")
    return int(value)


@dataclass(frozen=True)
class GenerationRequest:
    """One image-to-video generation, checked against every documented limit on construction."""

    image: ImageInput
    prompt: str | None = None
    duration: int = 5
    negative_prompt: str | None = None
    cfg_scale: float | None = None
    camera_control: CameraControl | None = None
    static_mask: str | None = None
    dynamic_masks: tuple[DynamicMask, ...] | None = None
    provider: str | None = None
    #: How a local image is sent: a data URI (None, the default) or bare base64 ("raw", what
    #: Kling's own API takes; see :attr:`encoding`).
    image_encoding: ImageEncoding | None = None
    #: The input-image limits applied before sending (Kling's by default).
    image_limits: ImageLimits = KLING_LIMITS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.image is None or (isinstance(self.image, str) and not self.image.strip()):
            raise ValidationError("image", self.image, "an image is required (URL, file path, bytes or PIL image)")
        _text("prompt", self.prompt)
        _text("negative_prompt", self.negative_prompt)
        set_(self, "duration", _duration(self.duration))
        if self.cfg_scale is not None and not 0 <= _number("cfg_scale", self.cfg_scale) <= 1:
            raise ValidationError("cfg_scale", self.cfg_scale, "between 0 and 1")
        set_(self, "camera_control", CameraControl.coerce(self.camera_control))
        if self.static_mask is not None and not _is_plain_url(self.static_mask):
            raise ValidationError("static_mask", self.static_mask, "an http(s) image URL (the gateway's schema)")
        if self.dynamic_masks is not None:
            if isinstance(self.dynamic_masks, (str, bytes)) or not isinstance(self.dynamic_masks, Sequence):
                raise ValidationError("dynamic_masks", self.dynamic_masks, "a list of masks")
            if len(self.dynamic_masks) > MAX_DYNAMIC_MASKS:
                raise ValidationError(
                    "dynamic_masks", len(self.dynamic_masks), f"at most {MAX_DYNAMIC_MASKS} masks"
                )
            set_(self, "dynamic_masks", tuple(DynamicMask.coerce(m) for m in self.dynamic_masks))
        if self.camera_control and (self.static_mask or self.dynamic_masks):
            raise ValidationError(
                "camera_control", self.camera_control.type, "masks and camera control cannot be combined"
            )
        if self.provider is not None:
            if not isinstance(self.provider, str) or self.provider.lower() not in PROVIDERS:
                raise ValidationError("provider", self.provider, f"one of {', '.join(PROVIDERS)}")
            set_(self, "provider", self.provider.lower())
        if self.image_encoding not in (None, "raw", "data_uri"):
            raise ValidationError("image_encoding", self.image_encoding, "'raw' or 'data_uri'")
        for note in self.notes():
            warnings.warn(note, IgnoredFieldWarning, stacklevel=3)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> GenerationRequest:
        """Build from keyword arguments, naming any unknown one (a typo must not be dropped silently)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValidationError(unknown[0], kwargs[unknown[0]], f"unknown field; known: {', '.join(sorted(known))}")
        return cls(**kwargs)

    def with_changes(self, **changes: Any) -> GenerationRequest:
        return replace(self, **changes)

    def notes(self) -> list[str]:
        """Why a field that will be sent will probably have no effect on this model."""
        return self._notes(IGNORED_FIELD_NOTES)

    def endpoint_notes(self, endpoint: str) -> list[str]:
        """Fields that will be sent although ``endpoint``'s published schema does not list them."""
        return self._notes(LEGACY_UNLISTED_NOTES) if endpoint == "legacy" else []

    def _notes(self, table: Mapping[str, str]) -> list[str]:
        sent = self.to_payload("")
        return [f"{name}: {note}" for name, note in table.items() if name in sent]

    @property
    def encoding(self) -> ImageEncoding:
        """How a local image is sent: a data URI (the universal endpoint's ``image_url`` is
        ``format: uri``, and the gateway's own examples send local images so), or bare base64
        (what Kling's own API takes) only when asked for with ``image_encoding="raw"``."""
        return self.image_encoding or "data_uri"

    def prepare(self) -> PreparedImage:
        """Check and encode the image (local images only; URLs are probed by the client)."""
        return prepare_image(self.image, encoding=self.encoding, limits=self.image_limits)

    def to_payload(self, image_value: str) -> dict[str, Any]:
        """The JSON body for the create call, with the prepared ``image_url``."""
        body: dict[str, Any] = {"model": MODEL_ID, "image_url": image_value, "duration": self.duration}
        optional = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "cfg_scale": self.cfg_scale,
            "camera_control": self.camera_control.to_json() if self.camera_control else None,
            "static_mask": self.static_mask,
            "dynamic_masks": [m.to_json() for m in self.dynamic_masks] if self.dynamic_masks else None,
            "provider": self.provider,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def image_label(self) -> str:
        """A short, byte-free description of the image for logs, journals and "copy as code"."""
        if is_url(self.image):
            return str(self.image).strip()
        if isinstance(self.image, (str, Path)):
            return str(self.image)
        if isinstance(self.image, (bytes, bytearray, memoryview)):
            return f"<{len(self.image)} bytes>"
        return f"<{type(self.image).__name__}>"

    def summary(self) -> dict[str, Any]:
        """What the journal and sidecars keep: the payload minus image bytes."""
        body = self.to_payload(self.image_label())
        body.pop("model")
        return body


def request_from(request: GenerationRequest | None, fields: dict[str, Any]) -> GenerationRequest:
    """What submit() and generate() accept: a request, its fields as keywords, or a request plus
    fields to change. A request given alone is returned as is (submit() knows it by identity)."""
    if request is None:
        return GenerationRequest.from_kwargs(**fields)
    return request.with_changes(**fields) if fields else request


@dataclass(frozen=True)
class Prepared:
    """A request checked against everything that can be checked before paying, ready to send:
    :meth:`GatewayClient.check <kling_notebook.gateway.client.GatewayClient.check>` makes it and
    ``submit`` takes it, so the image is read (or fetched) once per generation."""

    request: GenerationRequest
    #: The create call's JSON body, the encoded image included.
    payload: Mapping[str, Any] = field(repr=False)
    estimate: CostEstimate
    #: What the image probe found; None for a URL that was not fetched (``check_url_images``).
    image: ImageInfo | None = None
