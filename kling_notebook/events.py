"""What a running generation reports to whoever shows it (panel, text progress, CLI, batch table).

Front ends subscribe to these events and never talk HTTP; the engine emits them and never imports
a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .errors import KlingError
    from .models import Generation, GenerationResult

__all__ = ["Phase", "JobEvent", "EventHandler", "PHASES", "FINAL_PHASES"]

#: ``waiting``: nothing sent yet, queued locally (no free slot, or the gateway refused with 429).
Phase = Literal[
    "waiting", "checking", "submitting", "queued", "generating", "downloading", "completed", "failed", "cancelled"
]
PHASES: tuple[Phase, ...] = (
    "waiting", "checking", "submitting", "queued", "generating", "downloading", "completed", "failed", "cancelled"
)
FINAL_PHASES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class JobEvent:
    """One step of one generation. Fields that do not apply to a phase are None."""

    phase: Phase
    elapsed: float  # seconds since the job started (real seconds)
    generation_id: str | None = None
    status: str | None = None  # the gateway's status string, as sent
    fraction: float | None = None  # 0..1 estimate of the whole job
    eta: float | None = None  # seconds left (estimate)
    bytes_done: int | None = None
    bytes_total: int | None = None
    message: str = ""
    generation: Generation | None = None
    result: GenerationResult | None = None
    error: KlingError | None = None

    @property
    def is_final(self) -> bool:
        return self.phase in FINAL_PHASES


EventHandler = Callable[[JobEvent], None]
