"""``AsyncKlingClient``: the gateway's calls plus whole jobs (generate, batches) on top of them.

The HTTP half lives in :class:`~kling_notebook.gateway.client.GatewayClient`, which knows nothing
of pipelines or jobs; this subclass adds what runs *many* calls for one generation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..domain.cost import Budget
from ..domain.events import EventHandler
from ..domain.generation import GenerationResult
from ..domain.polling import PollPolicy
from ..domain.request import GenerationRequest, request_from
from ..gateway.client import GatewayClient

if TYPE_CHECKING:
    from .batch import BatchEvent, BatchResult

__all__ = ["AsyncKlingClient"]


class AsyncKlingClient(GatewayClient):
    """Async client for Kling v2.1 master image-to-video on the AI/ML API gateway.

    ``api_key``: else AIMLAPI_KEY / AIML_API_KEY / AIMLAPI_API_KEY. ``base_url``: else
    AIMLAPI_BASE_URL / AIML_API_BASE, else https://api.aimlapi.com. ``endpoint``: "universal"
    (``/v2/video/generations``) or "legacy" (``/v2/generate/video/kling/generation``).
    ``journal``: True (a journal in ``out_dir``), False, or a :class:`Journal`.
    ``budget``: an optional :class:`Budget` every submit reserves from (refused past it);
    ``prices``: the table behind the estimate journalled with every submit.
    """


    # -- many ---------------------------------------------------------------------------------

    async def batch(
        self,
        requests: Iterable[GenerationRequest],
        *,
        concurrency: int = 4,
        confirm: bool = False,
        budget: Budget | None = None,
        on_event: Callable[[BatchEvent], None] | None = None,
        **options: Any,
    ) -> BatchResult:
        """Run many generations under one concurrency cap (lowered on 429) and one event stream.

        ``confirm=True`` is required: without it the count and estimated cost are raised in an
        error and nothing is sent. ``options``: ``out_dir``, ``poll``, ``timeout``.
        """
        from .batch import run_batch

        return await run_batch(
            self, requests, concurrency=concurrency, confirm=confirm, budget=budget, on_event=on_event, **options
        )

    # -- all in one ---------------------------------------------------------------------------

    async def generate(
        self,
        request: GenerationRequest | None = None,
        /,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        poll: PollPolicy | None = None,
        timeout: float | None = None,
        on_event: EventHandler | None = None,
        **fields: Any,
    ) -> GenerationResult:
        """Submit, wait, download and record: the whole job. Returns the saved result.

        ``on_event`` receives :class:`~kling_notebook.domain.events.JobEvent` objects (progress).
        """
        from .pipeline import run_generation

        request = request_from(request, fields)
        return await run_generation(
            self, request, out_dir=out_dir, poll=poll, timeout=timeout, on_event=on_event
        )
