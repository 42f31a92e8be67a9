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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ..frontends.display import result_mimebundle

        return result_mimebundle(self)
