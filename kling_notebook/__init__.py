"""kling_notebook: Kling v2.1 master image-to-video from Jupyter, Python and the command line.

The engine (client, polling, journal) imports only httpx; the widget panel and the emulator load on
first use, so ``import kling_notebook`` stays quick in scripts and CLIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .domain import errors
from .domain.cost import Budget, CostEstimate, PriceTable
from .domain.events import JobEvent
from .domain.generation import Generation, GenerationResult
from .domain.images import GATEWAY_LIMITS, KLING_LIMITS, ImageInfo, ImageLimits, probe_bytes
from .domain.polling import PollPolicy
from .domain.request import CameraControl, DynamicMask, GenerationRequest, IgnoredFieldWarning
from .domain.retry import RetryPolicy
from .runtime.batch import BatchEvent, BatchResult, ConfirmationRequiredError, sweep
from .runtime.client import AsyncKlingClient
from .runtime.connect import connect
from .runtime.jobs import Job, JobRunner
from .runtime.resume import NotResumableError, ResumeReport, resume, resume_async
from .runtime.settle import resolve_uncertain
from .runtime.sync import KlingClient
from .store.journal import Journal, JournalEntry

if TYPE_CHECKING:
    from .emulator import Emulator
    from .frontends.panel import KlingPanel
    from .frontends.panel._batch import BatchView
    from .frontends.panel._history import HistoryGallery

__version__ = "0.1.0"

__all__ = [
    "connect",
    "AsyncKlingClient",
    "KlingClient",
    "GenerationRequest",
    "Generation",
    "GenerationResult",
    "CameraControl",
    "DynamicMask",
    "IgnoredFieldWarning",
    "PollPolicy",
    "RetryPolicy",
    "JobEvent",
    "Job",
    "JobRunner",
    "Journal",
    "JournalEntry",
    "PriceTable",
    "CostEstimate",
    "Budget",
    "ImageInfo",
    "ImageLimits",
    "KLING_LIMITS",
    "GATEWAY_LIMITS",
    "probe_bytes",
    "resume",
    "resume_async",
    "ResumeReport",
    "NotResumableError",
    "resolve_uncertain",
    "sweep",
    "BatchEvent",
    "BatchResult",
    "ConfirmationRequiredError",
    "Emulator",
    "KlingPanel",
    "HistoryGallery",
    "BatchView",
    "errors",
    "__version__",
]

_LAZY = {
    "Emulator": ("kling_notebook.emulator", "Emulator"),
    "KlingPanel": ("kling_notebook.frontends.panel", "KlingPanel"),
    "HistoryGallery": ("kling_notebook.frontends.panel._history", "HistoryGallery"),
    "BatchView": ("kling_notebook.frontends.panel._batch", "BatchView"),
}


def __getattr__(name: str) -> Any:
    """Load the heavier parts (emulator, panel) only when they are asked for."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'kling_notebook' has no attribute {name!r}")
