"""The journal as a history: one plain record per generation, and its request rebuilt for a re-run.

The gallery, the CLI's ``history`` command and ``resume`` read the journal through this module, so
none of them parses stored request summaries on its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.errors import KlingError
from ..domain.images import is_url
from ..domain.request import GenerationRequest
from .journal import COMPLETED, FAILED, NOT_SUBMITTED, Journal, JournalEntry

__all__ = ["HistoryItem", "load_history", "request_from_summary"]

#: Summary keys that are not GenerationRequest fields under the same name.
_RENAMED = {"image_url": "image", "tail_image_url": "end_image", "last_image_url": "end_image"}
_FIELDS = frozenset(
    {"image", "prompt", "duration", "negative_prompt", "cfg_scale", "camera_control",
     "static_mask", "dynamic_masks", "provider", "model", "end_image", "generate_audio",
     "multi_prompt", "elements", "shot_type"}
)  # fmt: skip


def request_from_summary(summary: Mapping[str, Any]) -> GenerationRequest | None:
    """The request a journal or sidecar summary describes, or None when it cannot be rebuilt
    (an adopted id has no summary). Image bytes were never stored: such a request carries the
    placeholder as its image, which fails the pre-submit check rather than paying for nothing."""
    fields = {_RENAMED.get(key, key): value for key, value in summary.items()}
    kwargs = {key: value for key, value in fields.items() if key in _FIELDS and value is not None}
    if "image" not in kwargs:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes about ignored fields were shown at submit
            return GenerationRequest.from_kwargs(**kwargs)
    except KlingError:
        return None


def _duration(value: Any) -> int | None:
    """A video length in seconds as stored (5 or 10; 3 to 15 on v3 models)."""
    if isinstance(value, (int, str)) and not isinstance(value, bool) and str(value).strip().isdigit():
        seconds = int(value)
        return seconds if 1 <= seconds <= 15 else None
    return None


@dataclass(frozen=True)
class HistoryItem:
    """What a history row shows about one journal entry (all text still unescaped)."""

    entry: JournalEntry

    @property
    def generation_id(self) -> str | None:
        return self.entry.generation_id

    @property
    def status(self) -> str:
        """The journal status, with "completed" downgraded when the video file is missing."""
        status = self.entry.status
        if status == COMPLETED and self.video is None:
            return "completed (file missing: resume downloads it)"
        return status

    @property
    def prompt(self) -> str:
        return str(self.entry.request.get("prompt") or "")

    @property
    def duration(self) -> int | None:
        return _duration(self.entry.request.get("duration"))

    @property
    def credits(self) -> float | None:
        return self.entry.credits_used

    @property
    def estimate_usd(self) -> float | None:
        usd = (self.entry.estimate or {}).get("usd")
        return float(usd) if isinstance(usd, (int, float)) else None

    @property
    def video(self) -> Path | None:
        """The saved video, when it is on disk."""
        path = self.entry.path
        return Path(path) if path and Path(path).is_file() else None

    @property
    def failed(self) -> bool:
        return self.entry.status in FAILED

    @property
    def request(self) -> GenerationRequest | None:
        return request_from_summary(self.entry.request)

    @property
    def rerunnable(self) -> bool:
        """True when the image is still reachable: a URL, or a file that exists."""
        image = self.entry.request.get("image_url")
        return isinstance(image, str) and (is_url(image) or Path(image).is_file())


def load_history(journal: Journal, limit: int = 24, offset: int = 0) -> list[HistoryItem]:
    """A page of the history, newest first, leaving out attempts that provably created nothing."""
    return [
        HistoryItem(entry) for entry in journal.entries(limit, offset, exclude=(NOT_SUBMITTED,))
    ]
