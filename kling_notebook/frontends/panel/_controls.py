"""The request controls' values: model, prompt, negative prompt, duration and the advanced fields.

The holder only collects values (the view sends each edit as ``set(field, value)``); whether
they make a valid request is decided by :class:`~kling_notebook.domain.request.GenerationRequest`
itself, so the panel and the Python API can never disagree about what is allowed. What the
chosen model takes (durations, end frame, audio, a required prompt) is part of the state, so the
view shows only the controls that model uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ...domain.errors import ValidationError
from ...domain.formatting import format_seconds
from ...domain.models import DEFAULT_MODEL, MODELS, get_model
from ...domain.polling import EXPECTED_SECONDS
from ...domain.request import (
    CAMERA_AXES,
    CAMERA_TYPES,
    IGNORED_FIELD_NOTES,
    MAX_PROMPT_CHARS,
    PROVIDERS,
    GenerationRequest,
)

__all__ = ["Controls", "expected_wait", "MODEL_CHOICES"]

#: (id, name) of every model, for the model menu.
MODEL_CHOICES = [[model.id, model.name] for model in MODELS.values()]
_DEFAULTS: dict[str, Any] = {
    "model": DEFAULT_MODEL,
    "prompt": "",
    "negative_prompt": "",
    "duration": 5,
    "generate_audio": False,
    "end_image": "",
    "send_cfg": False,
    "cfg_scale": 0.5,
    "camera": "",
    "axis": "zoom",
    "amount": 5,
    "provider": "",
}


def expected_wait(duration: int, time_scale: float = 1.0) -> str:
    """How long a video of ``duration`` seconds is expected to take, in words: the documented
    time, divided by the emulator's speed-up in demo mode (``time_scale``)."""
    base = 5 if duration <= 5 else 10
    low, high = (seconds * duration / base / time_scale for seconds in EXPECTED_SECONDS[base])
    if time_scale == 1.0:
        return f"expected wait about {round(low / 60)}-{round(high / 60)} min"
    return f"expected wait about {format_seconds(low)}-{format_seconds(high)} (simulated)"


def _coerce(field: str, value: Any) -> Any:
    """A value from the browser, as the field holds it (anything odd is refused)."""
    kind = type(_DEFAULTS[field])
    if kind is bool:
        return bool(value)
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    return str(value)


class Controls:
    """Everything about the request except the image (thread-safe: edits come from the comm)."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._values = dict(_DEFAULTS)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever any value that goes into the request changes."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def get(self, field: str) -> Any:
        with self._lock:
            return self._values[field]

    def set(self, field: str, value: Any) -> None:
        """One edit from the view. Unknown fields and values of the wrong kind are ignored
        (the browser's messages are not trusted); a model change keeps a duration it makes."""
        if field not in _DEFAULTS:
            return
        try:
            coerced = _coerce(field, value)
            if field == "model":
                get_model(coerced)
        except (TypeError, ValueError, ValidationError):
            return
        with self._lock:
            self._values[field] = coerced
            if field == "model":
                durations = get_model(coerced).durations
                if self._values["duration"] not in durations:
                    self._values["duration"] = durations[0]
        self._changed()

    def load(self, request: GenerationRequest) -> None:
        """Show everything of ``request`` but the image (to edit it and generate again)."""
        values = dict(_DEFAULTS)
        values.update(
            model=request.model,
            prompt=request.prompt or "",
            negative_prompt=request.negative_prompt or "",
            duration=request.duration,
            generate_audio=bool(request.generate_audio),
            end_image=request.end_image if isinstance(request.end_image, str) else "",
            send_cfg=request.cfg_scale is not None,
            cfg_scale=request.cfg_scale if request.cfg_scale is not None else _DEFAULTS["cfg_scale"],
            provider=request.provider or "",
        )
        camera = request.camera_control
        if camera is not None:
            values["camera"] = camera.type
            if camera.type == "simple":
                # A valid "simple" camera moves along exactly one axis; the slider takes whole steps.
                ((axis, amount),) = [(a, v) for a, v in camera.config.items() if v != 0]
                values["axis"], values["amount"] = axis, round(amount)
        with self._lock:
            self._values = values
        self._changed()

    def advanced_set(self) -> bool:
        """Whether any advanced field is sent (the section opens to show it)."""
        with self._lock:
            values = self._values
            return bool(values["send_cfg"] or values["camera"] or values["provider"])

    def values(self) -> dict[str, Any]:
        """Keyword arguments for GenerationRequest (everything but the image); fields the
        chosen model does not take are left out, so the request's own check decides the rest."""
        with self._lock:
            v = dict(self._values)
        model = get_model(v["model"])
        chosen: dict[str, Any] = {
            "model": model.id,
            "prompt": v["prompt"] if v["prompt"].strip() else None,
            "duration": v["duration"],
        }
        if model.takes_field("negative_prompt") and v["negative_prompt"].strip():
            chosen["negative_prompt"] = v["negative_prompt"]
        if model.audio:
            chosen["generate_audio"] = v["generate_audio"]
        if model.end_frame and v["end_image"].strip():
            chosen["end_image"] = v["end_image"].strip()
        if model.takes_field("cfg_scale") and v["send_cfg"]:
            chosen["cfg_scale"] = v["cfg_scale"]
        if model.takes_field("camera_control") and v["camera"] == "simple":
            chosen["camera_control"] = {"type": "simple", "config": {v["axis"]: v["amount"]}}
        elif model.takes_field("camera_control") and v["camera"]:
            chosen["camera_control"] = {"type": v["camera"]}
        if model.takes_field("provider") and v["provider"]:
            chosen["provider"] = v["provider"]
        return chosen

    def state(self) -> dict[str, Any]:
        """What the view draws (JSON): the values, and what the chosen model takes."""
        with self._lock:
            values = dict(self._values)
        model = get_model(values["model"])
        notes = {
            field: f"Documented to be ignored by {model.name}: {text}."
            for field, text in IGNORED_FIELD_NOTES.items()
            if model.id == DEFAULT_MODEL and model.takes_field(field)
        }
        return {
            "values": values,
            "model": {
                "id": model.id,
                "name": model.name,
                "durations": list(model.durations),
                "takes": sorted(model.takes),
                "prompt_required": model.prompt_required,
                "end_frame": bool(model.end_frame),
                "audio": model.audio,
                "max_prompt": model.max_prompt,
                "max_negative": MAX_PROMPT_CHARS,
            },
            "wait": expected_wait(values["duration"], self.time_scale),
            "notes": notes,
            "cameras": list(CAMERA_TYPES),
            "axes": list(CAMERA_AXES),
            "providers": list(PROVIDERS),
        }
