"""``KlingClient``: the same methods as the async client, blocking.

Each call runs on the shared engine loop (see :mod:`kling_notebook.runtime.engine`), so it works the same in
a plain script and inside a running notebook cell, and the async code exists only once.
Callbacks (``on_update``, ``on_progress``, ``on_event``) are called on the engine thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..domain.generation import Generation, GenerationResult
from ..domain.request import GenerationRequest
from .batch import BatchResult
from .client import AsyncKlingClient
from .engine import run_blocking

__all__ = ["KlingClient"]


class KlingClient:
    """Blocking client. Takes the same arguments as :class:`AsyncKlingClient`, or wraps one."""

    def __init__(self, *args: Any, client: AsyncKlingClient | None = None, **kwargs: Any) -> None:
        self.async_client = client or AsyncKlingClient(*args, **kwargs)

    def __repr__(self) -> str:
        inner = self.async_client
        return f"KlingClient(base_url={inner.base_url!r}, endpoint={inner.endpoint!r})"

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        run_blocking(self.async_client.aclose())

    def submit(self, request: GenerationRequest | None = None, /, **fields: Any) -> Generation:
        return run_blocking(self.async_client.submit(request, **fields))

    def get(self, generation: Generation | str) -> Generation:
        return run_blocking(self.async_client.get(generation))

    def wait(self, generation: Generation | str, **options: Any) -> Generation:
        return run_blocking(self.async_client.wait(generation, **options))

    def download(self, generation: Generation, path: str | os.PathLike[str], **options: Any) -> Path:
        return run_blocking(self.async_client.download(generation, path, **options))

    def generate(self, request: GenerationRequest | None = None, /, **options: Any) -> GenerationResult:
        job = self.async_client.start(request, **options)
        try:
            return run_blocking(job.wait())
        except KeyboardInterrupt:  # Ctrl-C, or Jupyter's stop button: say what goes on
            job.cancel()
            raise KeyboardInterrupt(job.stopped_waiting()) from None

    def batch(self, requests: Iterable[GenerationRequest], **options: Any) -> BatchResult:
        return run_blocking(self.async_client.batch(requests, **options))
