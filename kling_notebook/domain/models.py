"""The Kling image-to-video models of the gateway: what each takes, its durations and its price.

Each model's published schema (``tests/data/api/models``) lists the fields it takes; they differ
in which fields (an end frame, audio, multi-shot prompts, masks and camera), whether a prompt is
required and which durations they make. :class:`~kling_notebook.domain.request.GenerationRequest`
validates against the entry of its ``model``, so a field a model does not take is refused before
anything is sent, naming the models that take it.

Fields carry one name per concept across models: ``end_image`` is sent as ``tail_image_url`` or
``last_image_url`` (O1), as the model wants. The built-in prices are USD per second of video,
v2.1 master's the published fal.ai mirror price ($0.28 per second), the others plausible figures
of the same kind; they are a fallback, labelled as built-in, for when the gateway's live price
(``GET /v1/models?include=pricing``) cannot be read. Multi-image-to-video is not listed: it takes
a list of images instead of one, which this toolkit does not model yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "FIELDS",
    "Model",
    "ModelRate",
    "BUILT_IN_LABEL",
    "get_model",
    "models_taking",
]

DEFAULT_MODEL = "klingai/v2.1-master-image-to-video"
BUILT_IN_LABEL = "built-in estimate"

#: Every optional request field a model may take, by its name in GenerationRequest.
FIELDS = (
    "prompt",
    "negative_prompt",
    "cfg_scale",
    "camera_control",
    "static_mask",
    "dynamic_masks",
    "provider",
    "end_image",
    "generate_audio",
    "multi_prompt",
    "elements",
    "shot_type",
)
FIVE_OR_TEN = (5, 10)
THREE_TO_FIFTEEN = tuple(range(3, 16))


@dataclass(frozen=True)
class ModelRate:
    """A model's price in USD per second of video (``audio_usd_per_second`` with
    ``generate_audio``) and where the figure comes from."""

    usd_per_second: float
    audio_usd_per_second: float | None = None
    label: str = BUILT_IN_LABEL

    def per_second(self, audio: bool = False) -> float:
        if audio and self.audio_usd_per_second is not None:
            return self.audio_usd_per_second
        return self.usd_per_second


@dataclass(frozen=True)
class Model:
    """One image-to-video model: its id, the fields it takes and its rules."""

    id: str
    name: str
    family: str  # "v1", "v1.5", ..., "v3 omni": the generation of Kling it belongs to
    takes: frozenset[str]
    durations: tuple[int, ...] = FIVE_OR_TEN
    prompt_required: bool = False
    end_frame: str | None = None  # the wire name of end_image: tail_image_url / last_image_url
    multi_prompt: str | None = None  # "prompts" (a list of strings) or "shots" ({prompt, duration})
    shot_types: tuple[str, ...] = ()
    max_prompt: int = 2500
    #: Kling's omni models take an end frame only with generate_audio false.
    end_frame_needs_silence: bool = False
    rate: ModelRate = ModelRate(0.28)

    @property
    def audio(self) -> bool:
        return "generate_audio" in self.takes

    @property
    def duration_text(self) -> str:
        """The durations as a person reads them: "5 or 10" or "3 to 15"."""
        if len(self.durations) == 2:
            return f"{self.durations[0]} or {self.durations[1]}"
        return f"{self.durations[0]} to {self.durations[-1]}"

    def takes_field(self, name: str) -> bool:
        return name in self.takes

    def wire_name(self, name: str) -> str:
        """The field's name in the create body (only ``end_image`` differs)."""
        if name == "end_image":
            return self.end_frame or "tail_image_url"
        return name

    def features(self) -> list[str]:
        """What a listing shows beside the plain fields, in the order a person looks for them."""
        shown = []
        if self.end_frame:
            shown.append(f"end frame ({self.end_frame})")
        if self.audio:
            shown.append("audio")
        if self.multi_prompt:
            shown.append("multi-shot prompts")
        if "camera_control" in self.takes:
            shown.append("camera and motion brush")
        if "elements" in self.takes:
            shown.append("elements")
        return shown


_MASKS = ("cfg_scale", "static_mask", "dynamic_masks", "camera_control")
_V1 = frozenset({"prompt", "negative_prompt", "end_image", *_MASKS})
_V2 = frozenset({"prompt", "negative_prompt", *_MASKS})
_PLAIN = frozenset({"prompt", "negative_prompt", "cfg_scale", "provider"})
_V3 = frozenset({"prompt", "multi_prompt", "negative_prompt", "end_image", "elements",
                 "shot_type", "generate_audio", "cfg_scale", "provider"})  # fmt: skip
_TURBO = frozenset({"prompt", "multi_prompt"})
_V3_SHOTS = ("customize", "intelligent")
_OMNI_SHOTS = ("customize", "intelligent", "intelligence")


def _model(id: str, name: str, family: str, takes: Iterable[str], rate: ModelRate,
           **rules: Any) -> Model:  # fmt: skip
    return Model(id=id, name=name, family=family, takes=frozenset(takes), rate=rate, **rules)


#: Every Kling image-to-video model the gateway lists (multi-image-to-video aside), oldest first.
MODELS: dict[str, Model] = {
    model.id: model
    for model in (
        _model("kling-video/v1/standard/image-to-video", "Kling v1 Standard", "v1", _V1,
               ModelRate(0.045), end_frame="tail_image_url"),
        _model("kling-video/v1/pro/image-to-video", "Kling v1 Pro", "v1", _V1,
               ModelRate(0.095), end_frame="tail_image_url"),
        _model("kling-video/v1.5/standard/image-to-video", "Kling v1.5 Standard", "v1.5", _V1,
               ModelRate(0.045), end_frame="tail_image_url"),
        _model("kling-video/v1.5/pro/image-to-video", "Kling v1.5 Pro", "v1.5", _V1,
               ModelRate(0.095), end_frame="tail_image_url"),
        _model("kling-video/v1.6/standard/image-to-video", "Kling v1.6 Standard", "v1.6", _PLAIN,
               ModelRate(0.045), prompt_required=True),
        _model("kling-video/v1.6/pro/image-to-video", "Kling v1.6 Pro", "v1.6", _V1,
               ModelRate(0.095), end_frame="tail_image_url"),
        _model("klingai/v2-master-image-to-video", "Kling v2 Master", "v2", {*_V2, "provider"},
               ModelRate(0.28)),
        _model(DEFAULT_MODEL, "Kling v2.1 Master", "v2.1", {*_V2, "provider"}, ModelRate(0.28)),
        _model("kling-video/v2.1/standard/image-to-video", "Kling v2.1 Standard", "v2.1", _V2,
               ModelRate(0.05)),
        _model("kling-video/v2.1/pro/image-to-video", "Kling v2.1 Pro", "v2.1", _V2,
               ModelRate(0.09)),
        _model("klingai/v2.5-turbo/pro/image-to-video", "Kling v2.5 Turbo Pro", "v2.5", _PLAIN,
               ModelRate(0.07), prompt_required=True),
        _model("klingai/video-v2-6-pro-image-to-video", "Kling v2.6 Pro", "v2.6",
               {"prompt", "negative_prompt", "end_image", "generate_audio", "provider"},
               ModelRate(0.07, 0.14), prompt_required=True, end_frame="tail_image_url"),
        _model("klingai/video-o1-image-to-video", "Kling O1", "O1",
               {"prompt", "end_image", "provider"}, ModelRate(0.112), prompt_required=True,
               end_frame="last_image_url"),
        _model("klingai/video-v3-standard-image-to-video", "Kling v3 Standard", "v3", _V3,
               ModelRate(0.084, 0.126), durations=THREE_TO_FIFTEEN, end_frame="tail_image_url",
               multi_prompt="prompts", shot_types=_V3_SHOTS),
        _model("klingai/video-v3-pro-image-to-video", "Kling v3 Pro", "v3", _V3,
               ModelRate(0.112, 0.168), durations=THREE_TO_FIFTEEN, end_frame="tail_image_url",
               multi_prompt="prompts", shot_types=_V3_SHOTS),
        _model("klingai/video-v3-standard-turbo-image-to-video", "Kling v3 Standard Turbo",
               "v3 turbo", _TURBO, ModelRate(0.056), durations=THREE_TO_FIFTEEN,
               multi_prompt="shots", max_prompt=3072),
        _model("klingai/video-v3-turbo-pro-image-to-video", "Kling v3 Turbo Pro", "v3 turbo",
               _TURBO, ModelRate(0.084), durations=THREE_TO_FIFTEEN, multi_prompt="shots",
               max_prompt=3072),
        _model("klingai/video-v3-omni-720p-image-to-video", "Kling v3 Omni 720p", "v3 omni", _V3,
               ModelRate(0.084, 0.126), durations=THREE_TO_FIFTEEN, end_frame="tail_image_url",
               multi_prompt="prompts", shot_types=_OMNI_SHOTS, end_frame_needs_silence=True),
        _model("klingai/video-v3-omni-1080p-image-to-video", "Kling v3 Omni 1080p", "v3 omni",
               _V3, ModelRate(0.112, 0.168), durations=THREE_TO_FIFTEEN,
               end_frame="tail_image_url", multi_prompt="prompts", shot_types=_OMNI_SHOTS,
               end_frame_needs_silence=True),
    )
}  # fmt: skip


def get_model(model: object) -> Model:
    """The catalogue entry of ``model`` (an id), or a ValidationError listing the ids."""
    if isinstance(model, Model):
        return model
    if isinstance(model, str) and model.strip() in MODELS:
        return MODELS[model.strip()]
    raise ValidationError(
        "model", model, f"one of the Kling image-to-video models: {', '.join(MODELS)}"
    )


def models_taking(name: str) -> list[str]:
    """The ids of the models that take field ``name``."""
    return [model.id for model in MODELS.values() if name in model.takes]
