"""What the user asks for: a generation request, validated against its model's schema and Kling's limits.

A :class:`GenerationRequest` that constructs without error is one the gateway should accept: every
check runs in ``__post_init__`` against the rules of its ``model`` (v2.1 master by default; see
:mod:`~kling_notebook.domain.models`), so bad input fails before any money is spent. Local images
(the first frame and an end frame) are checked and encoded the same way by
:meth:`GenerationRequest.prepare` and :meth:`GenerationRequest.prepare_end_image`, which the
client calls before the POST.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
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
from .models import DEFAULT_MODEL, FIELDS, Model, get_model, models_taking

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

MODEL_ID = DEFAULT_MODEL
MAX_PROMPT_CHARS = 2500
#: v2.1 master's durations (each model's are in its catalogue entry).
DURATIONS = (5, 10)
CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
PROVIDERS = ("auto", "kling", "klingai", "fal")
MAX_DYNAMIC_MASKS = 6
TRAJECTORY_POINTS = (2, 77)
MAX_SHOTS = 6
MAX_ELEMENTS = 4

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


#: The notes already warned for the request a :meth:`GenerationRequest.with_changes` copies.
_WARNED: ContextVar[frozenset[str]] = ContextVar("warned_notes", default=frozenset())


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(name, value, "must be a finite number")
    return float(value)


def _text(name: str, value: Any, allow_none: bool = True, limit: int = MAX_PROMPT_CHARS) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise ValidationError(name, value, "must be text (str)")
    if len(value) > limit:
        raise ValidationError(name, value, f"at most {limit} characters, got {len(value)}")
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


def _duration(value: Any, model: Model) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in model.durations:
        raise ValidationError("duration", value, f"{model.duration_text} (seconds) for {model.id}")
    return int(value)


def _is_uri(value: Any) -> bool:
    """What a ``format: uri`` field of another kind takes: an http(s) URL or a data URI."""
    return _is_plain_url(value) or (isinstance(value, str) and value.startswith("data:"))


def _multi_prompt(value: Any, model: Model) -> tuple[Any, ...]:
    """A list of prompts (``prompts`` models) or of shots ``{prompt, duration}`` (``shots``
    models, where a plain string is a shot of the default length)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ValidationError("multi_prompt", value, "a non-empty list of prompts")
    shots = model.multi_prompt == "shots"
    if shots and len(value) > MAX_SHOTS:
        raise ValidationError("multi_prompt", len(value), f"at most {MAX_SHOTS} shots for {model.id}")
    items: list[Any] = []
    for index, item in enumerate(value):
        name = f"multi_prompt[{index}]"
        if not shots:
            items.append(_text(name, item, allow_none=False, limit=model.max_prompt))
            continue
        shot = {"prompt": item} if isinstance(item, str) else item
        if not isinstance(shot, Mapping) or set(shot) - {"prompt", "duration"}:
            raise ValidationError(name, item, "a prompt, or a {prompt, duration} shot")
        _text(f"{name}.prompt", shot.get("prompt"), allow_none=False, limit=model.max_prompt)
        length = shot.get("duration")
        if length is not None and (isinstance(length, bool) or length not in range(1, 16)):
            raise ValidationError(f"{name}.duration", length, "1 to 15 (seconds)")
        items.append(dict(shot))
    return tuple(items)


def _elements(value: Any) -> tuple[dict[str, Any], ...]:
    """Characters or objects to include: each reference images (1 to 4 URIs), perhaps a frontal
    image, or a video; at most one element has a video."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) > MAX_ELEMENTS:
        raise ValidationError("elements", value, f"a list of at most {MAX_ELEMENTS} elements")
    for index, element in enumerate(value):
        name = f"elements[{index}]"
        if not isinstance(element, Mapping) or set(element) - {"reference_image_urls", "frontal_image_url", "video_url"}:
            raise ValidationError(name, element, "{reference_image_urls, frontal_image_url, video_url}")
        references = element.get("reference_image_urls")
        if (
            isinstance(references, str)
            or not isinstance(references, Sequence)
            or not 1 <= len(references) <= 4
            or not all(map(_is_uri, references))
        ):
            raise ValidationError(f"{name}.reference_image_urls", references, "1 to 4 image URLs")
        for key in ("frontal_image_url", "video_url"):
            if key in element and not _is_uri(element[key]):
                raise ValidationError(f"{name}.{key}", element[key], "an http(s) URL or a data URI")
    if sum("video_url" in element for element in value) > 1:
        raise ValidationError("elements", len(value), "at most one element with a video_url")
    return tuple({**element, "reference_image_urls": list(element["reference_image_urls"])} for element in value)


def _not_taken(name: str, model: Model) -> ValidationError:
    """A field this model does not take, naming the models that do."""
    takers = models_taking(name)
    return ValidationError(
        name, model.id, f"{model.name} does not take it; the models that do: {', '.join(takers)}"
    )


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
    #: The model's id (see :data:`~kling_notebook.domain.models.MODELS`); v2.1 master by default.
    model: str = DEFAULT_MODEL
    #: The last frame (URL, file path, bytes or PIL image), checked like ``image``; sent as
    #: ``tail_image_url`` or ``last_image_url``, as the model wants.
    end_image: ImageInput | None = None
    #: Audio with the video (the gateway's default is on where a model takes it).
    generate_audio: bool | None = None
    #: Several shots: prompts (v3) or ``{prompt, duration}`` shots (v3 turbo); not with ``prompt``.
    multi_prompt: tuple[Any, ...] | None = None
    #: Characters or objects to include (v3): ``{reference_image_urls, frontal_image_url, video_url}``.
    elements: tuple[dict[str, Any], ...] | None = None
    shot_type: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.image is None or (isinstance(self.image, str) and not self.image.strip()):
            raise ValidationError("image", self.image, "an image is required (URL, file path, bytes or PIL image)")
        model = get_model(self.model)
        set_(self, "model", model.id)
        for name in FIELDS:
            if getattr(self, name) is not None and not model.takes_field(name):
                raise _not_taken(name, model)
        _text("prompt", self.prompt, limit=model.max_prompt)
        _text("negative_prompt", self.negative_prompt)
        set_(self, "duration", _duration(self.duration, model))
        self._check_family_fields(model)
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
            if note not in _WARNED.get():
                warnings.warn(note, IgnoredFieldWarning, stacklevel=3)

    def _check_family_fields(self, model: Model) -> None:
        """The fields beyond v2.1 master's, and Kling's rules across them."""
        set_ = object.__setattr__
        if model.prompt_required and not (self.prompt and self.prompt.strip()):
            raise ValidationError("prompt", self.prompt, f"{model.name} requires a prompt")
        if self.end_image is not None and isinstance(self.end_image, str) and not self.end_image.strip():
            raise ValidationError("end_image", self.end_image, "an image (URL, file path, bytes or PIL image), or None")
        if self.generate_audio is not None and not isinstance(self.generate_audio, bool):
            raise ValidationError("generate_audio", self.generate_audio, "True or False")
        if self.multi_prompt is not None:
            set_(self, "multi_prompt", _multi_prompt(self.multi_prompt, model))
            if self.prompt is not None:
                raise ValidationError("multi_prompt", len(self.multi_prompt), "either prompt or multi_prompt, not both")
        if self.elements is not None:
            set_(self, "elements", _elements(self.elements))
        if self.shot_type is not None and self.shot_type not in model.shot_types:
            raise ValidationError("shot_type", self.shot_type, f"one of {', '.join(model.shot_types)} for {model.id}")
        shaping = [name for name, given in (
            ("masks", self.static_mask is not None or self.dynamic_masks is not None),
            ("camera_control", self.camera_control is not None),
            ("end_image", self.end_image is not None),
        ) if given]  # fmt: skip
        if "end_image" in shaping and len(shaping) > 1:
            raise ValidationError("end_image", " and ".join(shaping), "an end frame cannot be combined with masks or camera control")
        if model.end_frame_needs_silence and self.end_image is not None and self.generate_audio is not False:
            raise ValidationError(
                "end_image", model.id, f"{model.name} takes an end frame only without audio: pass generate_audio=False"
            )

    @property
    def model_info(self) -> Model:
        """This request's model: its fields, durations and built-in price."""
        return get_model(self.model)
    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> GenerationRequest:
        """Build from keyword arguments, naming any unknown one (a typo must not be dropped silently)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValidationError(unknown[0], kwargs[unknown[0]], f"unknown field; known: {', '.join(sorted(known))}")
        return cls(**kwargs)

    def with_changes(self, **changes: Any) -> GenerationRequest:
        """A copy with ``changes``; it warns only notes this request's construction did not."""
        token = _WARNED.set(frozenset(self.notes()))
        try:
            return replace(self, **changes)
        finally:
            _WARNED.reset(token)

    def notes(self) -> list[str]:
        """Why a field that will be sent will probably have no effect on this model."""
        return self._notes(IGNORED_FIELD_NOTES) if self.model == DEFAULT_MODEL else []

    def endpoint_notes(self, endpoint: str) -> list[str]:
        """Fields that will be sent although ``endpoint``'s published schema does not list them.
        Raises ValidationError for a model the endpoint does not serve (the legacy pair is v2.1
        master's alone)."""
        if endpoint != "legacy":
            return []
        if self.model != DEFAULT_MODEL:
            raise ValidationError(
                "model", self.model, "the legacy endpoint serves v2.1 master only: use endpoint='universal'"
            )
        return self._notes(LEGACY_UNLISTED_NOTES)

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

    def prepare_end_image(self) -> PreparedImage | None:
        """Check and encode the end frame exactly as the image (None without one); its errors
        name ``end_image``."""
        if self.end_image is None:
            return None
        try:
            return prepare_image(self.end_image, encoding=self.encoding, limits=self.image_limits)
        except ValidationError as error:
            raise ValidationError("end_image", error.given, error.limit) from error

    def to_payload(self, image_value: str, end_image_value: str | None = None) -> dict[str, Any]:
        """The JSON body for the create call, with the prepared ``image_url`` (and end frame;
        its label stands in when none is given)."""
        body: dict[str, Any] = {"model": self.model, "image_url": image_value, "duration": self.duration}
        if self.end_image is not None:
            end_image_value = end_image_value or _label(self.end_image)
        optional = {
            "prompt": self.prompt,
            "multi_prompt": list(self.multi_prompt) if self.multi_prompt else None,
            "negative_prompt": self.negative_prompt,
            "cfg_scale": self.cfg_scale,
            "camera_control": self.camera_control.to_json() if self.camera_control else None,
            "static_mask": self.static_mask,
            "dynamic_masks": [m.to_json() for m in self.dynamic_masks] if self.dynamic_masks else None,
            self.model_info.wire_name("end_image"): end_image_value,
            "generate_audio": self.generate_audio,
            "elements": list(self.elements) if self.elements else None,
            "shot_type": self.shot_type,
            "provider": self.provider,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def image_label(self) -> str:
        """A short, byte-free description of the image for logs, journals and "copy as code"."""
        return _label(self.image)

    def summary(self) -> dict[str, Any]:
        """What the journal and sidecars keep: the payload minus image bytes (and minus the
        model when it is the default, as before there was a choice)."""
        body = self.to_payload(self.image_label())
        if body["model"] == DEFAULT_MODEL:
            body.pop("model")
        return body


def _label(image: ImageInput) -> str:
    """A short, byte-free description of an image."""
    if is_url(image):
        return str(image).strip()
    if isinstance(image, (str, Path)):
        return str(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"<{len(image)} bytes>"
    return f"<{type(image).__name__}>"


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
    #: The same for the end frame (None without one, or for an unfetched URL).
    end_image: ImageInfo | None = None
