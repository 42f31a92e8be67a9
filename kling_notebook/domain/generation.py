"""What the gateway says about a generation, and a finished one saved to disk.

Statuses are made canonical when a reply is parsed, so the wait, the journal and resume agree on
when a job has ended whatever wording the gateway used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .request import GenerationRequest

__all__ = [
    "Generation",
    "GenerationResult",
    "RUNNING_STATUSES",
    "COMPLETED_STATUSES",
    "FAILED_STATUSES",
    "TERMINAL_STATUSES",
    "canonical_status",
]

#: Statuses that mean "not finished yet", in their canonical words: waiting at the gateway, and
#: being made.
RUNNING_STATUSES = frozenset({"queued", "generating"})
#: Older wordings of those two (the seed's example, earlier docs, the SDK), made canonical on
#: parsing: everything past the reply parser speaks of "queued" and "generating" only.
_RUNNING_SYNONYMS = {"waiting": "queued", "active": "generating", "processing": "generating"}
#: Wordings of "done, with a video": the schema's, the seed's text and the common alternative.
COMPLETED_STATUSES = frozenset({"completed", "complete", "succeeded"})
#: Statuses of a generation that ended without a video (the journal files these as failed).
FAILED_STATUSES = frozenset({"error", "failed"})
TERMINAL_STATUSES = frozenset({"completed"}) | FAILED_STATUSES
#: How much of a video URL a repr shows (signed URLs run to hundreds of characters).
_URL_CHARS = 80


def canonical_status(given: Any, video_url: str | None, has_error: bool) -> str:
    """One word per outcome, so the wait, the journal and resume agree on when a job has ended:
    every completion wording becomes "completed", and an error without a video is a failure
    whatever the status says (a failed job reported as running would be waited for until the
    deadline). Older running wordings become "queued" or "generating". Unknown statuses stay as
    they are: running."""
    status = str(given or "unknown").lower()
    if has_error and not video_url:
        return status if status in FAILED_STATUSES else "error"
    if status in COMPLETED_STATUSES:
        return "completed"
    return _RUNNING_SYNONYMS.get(status, status)


@dataclass(frozen=True)
class Generation:
    """The gateway's view of one generation (parsed by :mod:`kling_notebook.gateway.replies`;
    the whole reply kept in ``raw``).

    ``status`` is canonical (see :func:`canonical_status`); the gateway's own word is in ``raw``.
    """

    id: str
    status: str
    video_url: str | None = None
    error_name: str | None = None
    error_message: str | None = None
    credits_used: float | None = None
    file_size: int | None = None
    duration: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_running(self) -> bool:
        """Not finished: includes statuses this package does not know (they are not errors)."""
        return self.status not in TERMINAL_STATUSES

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[0][:8]

    def __str__(self) -> str:
        """One line for ``print(generation)``: its short id, status and what came of it."""
        facts = [f"generation {self.short_id}: {self.status}"]
        if self.video_url:
            facts.append("video ready")
        if self.error_message or self.error_name:
            facts.append(f"error: {self.error_message or self.error_name}")
        if self.credits_used is not None:
            facts.append(f"{self.credits_used:g} credits")
        return ", ".join(facts)

    def __repr__(self) -> str:
        """The fields that hold something; a long (signed) video URL is cut, ``raw`` has it."""
        shown = []
        for name in ("id", "status", "video_url", "error_name", "error_message", "credits_used", "file_size", "duration"):
            value = getattr(self, name)
            if value is None:
                continue
            if name == "video_url" and len(value) > _URL_CHARS:
                value = value[: _URL_CHARS - 3] + "..."
            shown.append(f"{name}={value!r}")
        return f"Generation({', '.join(shown)})"


@dataclass(frozen=True)
class GenerationResult:
    """A finished generation and where its video was saved."""

    path: Path
    generation: Generation
    request: GenerationRequest | None = None
    elapsed: float | None = None  # seconds from submit to saved file
    sidecar: Path | None = None
    #: Made by the demo emulator: its video and credits are simulated, nothing was charged.
    simulated: bool = False

    @property
    def id(self) -> str:
        return self.generation.id

    def __str__(self) -> str:
        """One line for ``print(result)`` in a script: where the video is, and what it was."""
        seconds = self.request.duration if self.request is not None else self.generation.duration
        facts = [f"{seconds:g} s video"] if seconds else []
        credits = self.generation.credits_used
        if credits is not None:
            facts.append(f"{credits:g} credits" + (" (simulated, nothing charged)" if self.simulated else ""))
        if self.elapsed is not None:
            facts.append(f"made in {self.elapsed:.0f} s")
        return f"video saved to {self.path}" + (f" ({', '.join(facts)})" if facts else "")

    def __repr__(self) -> str:
        """Short: the saved file and the generation (the request, sidecar and timings are
        attributes); the rich display in a notebook shows the video itself."""
        simulated = ", simulated=True" if self.simulated else ""
        return (
            f"GenerationResult(path={str(self.path)!r}, id={self.id!r}, "
            f"status={self.generation.status!r}{simulated})"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ..frontends.display import result_mimebundle

        return result_mimebundle(self)
