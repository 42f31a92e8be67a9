"""What a running generation reports to whoever shows it (panel, text progress, CLI, batch table).

Front ends subscribe to these events and never talk HTTP; the engine emits them and never imports
a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .formatting import format_bytes, format_seconds

if TYPE_CHECKING:
    from .errors import KlingError
    from .generation import Generation, GenerationResult

__all__ = ["Phase", "JobEvent", "EventHandler", "PHASES", "FINAL_PHASES", "describe"]

#: ``held``: nothing sent yet, queued locally (no free slot, or the gateway refused with 429).
Phase = Literal[
    "held", "checking", "submitting", "queued", "generating", "downloading", "completed", "failed", "cancelled"
]
PHASES: tuple[Phase, ...] = (
    "held", "checking", "submitting", "queued", "generating", "downloading", "completed", "failed", "cancelled"
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


def describe(event: JobEvent) -> str:
    """One line saying where a job is: phase, elapsed, estimate, id."""
    parts = [event.phase, f"{format_seconds(event.elapsed)} elapsed"]
    if event.phase in ("queued", "generating") and event.eta is not None:
        parts.append(f"~{format_seconds(event.eta)} left" if event.eta > 0 else "any moment now")
    if event.phase == "downloading" and event.bytes_done is not None:
        total = f" of {format_bytes(event.bytes_total)}" if event.bytes_total else ""
        parts.append(f"{format_bytes(event.bytes_done)}{total}")
    if event.phase == "completed" and event.result is not None:
        parts.append(f"saved {event.result.path}")
    if event.message and event.phase != "failed":
        parts.append(event.message)
    if event.generation_id:
        parts.append(f"id {event.generation_id}")
    return " | ".join(parts)
