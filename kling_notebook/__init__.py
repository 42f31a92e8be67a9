"""kling_notebook: Kling image-to-video from Jupyter, Python and the command line.

The public names live here (their ``__module__`` says ``kling_notebook``, as httpx does), whatever
layer folder defines them. The engine imports only httpx; the widget panel and the emulator load on
first use, so ``import kling_notebook`` stays quick in scripts and CLIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .domain.cost import Budget, CostEstimate, PriceTable
from .domain.events import JobEvent
from .domain.generation import Generation, GenerationResult
from .domain.images import GATEWAY_LIMITS, KLING_LIMITS, ImageInfo, ImageLimits, probe_bytes
from .domain.polling import PollPolicy
from .domain.request import (
    CameraControl,
    DynamicMask,
    GenerationRequest,
    IgnoredFieldWarning,
    Prepared,
)
from .domain.retry import RetryPolicy
from .runtime.batch import BatchItem, BatchResult, ConfirmationRequiredError, sweep
from .runtime.client import AsyncKlingClient
from .runtime.connect import connect
from .runtime.jobs import Job, JobRunner
from .runtime.resume import ElsewhereError, NotResumableError, ResumeReport, resume, resume_async
from .runtime.settle import settle_uncertain
from .runtime.sync import KlingClient
from .store.journal import Journal, JournalEntry

if TYPE_CHECKING:
    from . import classroom, display
    from .emulator import Emulator
    from .frontends.compare import compare_models
    from .frontends.models import models
    from .frontends.panel import KlingPanel
    from .frontends.panel._batch import BatchView
    from .frontends.panel._history import HistoryGallery

__version__ = "0.1.0"

__all__ = [
    "connect",
    "AsyncKlingClient",
    "KlingClient",
    "GenerationRequest",
    "Prepared",
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
    "ElsewhereError",
    "settle_uncertain",
    "sweep",
    "BatchItem",
    "BatchResult",
    "ConfirmationRequiredError",
    "models",
    "compare_models",
    "classroom",
    "display",
    "Emulator",
    "KlingPanel",
    "HistoryGallery",
    "BatchView",
    "errors",
    "__version__",
]

_LAZY = {
    "models": ("kling_notebook.frontends.models", "models"),
    "compare_models": ("kling_notebook.frontends.compare", "compare_models"),
    "Emulator": ("kling_notebook.emulator", "Emulator"),
    "KlingPanel": ("kling_notebook.frontends.panel", "KlingPanel"),
    "HistoryGallery": ("kling_notebook.frontends.panel._history", "HistoryGallery"),
    "BatchView": ("kling_notebook.frontends.panel._batch", "BatchView"),
}


def _publish(value: Any) -> None:
    """Name the public home in ``__module__`` (reprs, docs and tracebacks say kling_notebook.X)."""
    if isinstance(value, type) or callable(value):
        value.__module__ = __name__


for _name in __all__:
    if _name not in _LAZY and not _name.startswith("__") and _name not in ("errors", "classroom", "display"):
        _publish(globals()[_name])
for _name in errors.__all__:
    getattr(errors, _name).__module__ = errors.__name__


def __getattr__(name: str) -> Any:
    """Load the heavier parts (emulator, panel) only when they are asked for."""
    if name in ("classroom", "display"):  # modules: ``kling_notebook.classroom.create(...)``
        import importlib

        public = importlib.import_module(f"kling_notebook.{name}")
        globals()[name] = public
        return public
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        _publish(value)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kling_notebook' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Tab completion and ``dir()`` list the lazy names too."""
    return sorted({*globals(), *__all__})
