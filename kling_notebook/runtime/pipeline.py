"""One whole generation as a sequence of phases, reported as JobEvents.

check -> submit (paid, journaled) -> wait (progress from the poll policy) -> download -> sidecar.
Every front end (panel, CLI, Python API, batches) runs this same function and only differs in how
it shows the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain import errors
from ..domain.events import EventHandler, JobEvent, Phase
from ..domain.generation import Generation, GenerationResult
from ..domain.polling import PollPolicy
from ..domain.request import GenerationRequest
from ..store.outputs import resolve_out_dir, video_filename, write_sidecar

if TYPE_CHECKING:
    import os

    from .client import AsyncKlingClient

__all__ = ["run_generation", "finish_generation"]

log = logging.getLogger("kling_notebook")


class _Reporter:
    """Stamps events with the elapsed time and never lets a subscriber's bug kill the job."""

    def __init__(self, on_event: EventHandler | None) -> None:
        self.on_event = on_event
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, phase: Phase, **fields: Any) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(JobEvent(phase=phase, elapsed=self.elapsed, **fields))
        except Exception:  # a display problem must not lose a paid generation
            log.exception("progress handler failed")


async def run_generation(
    client: AsyncKlingClient,
    request: GenerationRequest,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    poll: PollPolicy | None = None,
    timeout: float | None = None,
    on_event: EventHandler | None = None,
) -> GenerationResult:
    """Run one generation end to end and return where its video was saved."""
    report = _Reporter(on_event)
    with _final_event(report, None):
        report("checking", message="checking the request and the image")
        await client.check(request)
        report("submitting", message="submitting (this is the paid step)")
        generation = await client.submit(request)
        report("queued", generation_id=generation.id, status=generation.status, generation=generation)
        return await _follow(client, generation, request, report, out_dir, poll, timeout)


async def finish_generation(
    client: AsyncKlingClient,
    generation_id: str,
    *,
    duration: int | None = None,
    request: GenerationRequest | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    poll: PollPolicy | None = None,
    timeout: float | None = None,
    on_event: EventHandler | None = None,
) -> GenerationResult:
    """Pick up an already submitted generation by id: wait for it and save its video."""
    report = _Reporter(on_event)
    generation = Generation(id=generation_id, status="unknown")
    with _final_event(report, generation_id):
        return await _follow(client, generation, request, report, out_dir, poll, timeout, duration)


@contextlib.contextmanager
def _final_event(report: _Reporter, generation_id: str | None) -> Iterator[None]:
    """Every way out of a job ends with a final event ("cancelled" or "failed"), whatever the
    error (not only KlingErrors), so no front end is left showing a job as still running."""
    try:
        yield
    except asyncio.CancelledError:
        report("cancelled", generation_id=generation_id, message="stopped waiting")
        raise
    except Exception as exc:
        kling = isinstance(exc, errors.KlingError)
        report(
            "failed",
            error=exc if kling else None,
            message=str(exc) if kling else f"{type(exc).__name__}: {exc}",
            generation_id=getattr(exc, "generation_id", generation_id),
        )
        raise


async def _follow(
    client: AsyncKlingClient,
    generation: Generation,
    request: GenerationRequest | None,
    report: _Reporter,
    out_dir: str | os.PathLike[str] | None,
    poll: PollPolicy | None,
    timeout: float | None,
    duration: int | None = None,
) -> GenerationResult:
    poll = poll or client.poll
    # On the clock wait() polls by, so estimate and schedule agree (a resumed job is not at zero).
    submitted, duration = client.origin(generation.id, duration or (request.duration if request else None))

    def on_update(found: Generation) -> None:
        estimate = poll.progress(client.clock.now() - submitted, duration)
        phase: Phase = "queued" if found.status in ("queued", "waiting") else "generating"
        report(
            phase,
            generation_id=found.id,
            status=found.status,
            generation=found,
            fraction=estimate.fraction,
            eta=estimate.eta,
            message="taking longer than documented" if estimate.overdue else "",
        )

    done = await client.wait(generation.id, timeout=timeout, poll=poll, on_update=on_update, duration=duration)
    folder = resolve_out_dir(out_dir) if out_dir is not None else client.out_dir
    created = datetime.now(timezone.utc)
    target = folder / video_filename(done.id, request.prompt if request else None, created)
    report("downloading", generation_id=done.id, generation=done, bytes_done=0, bytes_total=done.file_size)

    def on_progress(got: int, total: int | None) -> None:
        report("downloading", generation_id=done.id, bytes_done=got, bytes_total=total)

    path = await client.download(done, target, on_progress=on_progress)
    sidecar = write_sidecar(path, _sidecar(done, request, client, report.elapsed, created))
    result = GenerationResult(
        path=Path(path), generation=done, request=request, elapsed=report.elapsed, sidecar=sidecar, simulated=client.demo
    )
    report("completed", generation_id=done.id, generation=done, result=result, fraction=1.0, eta=0.0)
    return result


def _sidecar(
    generation: Generation,
    request: GenerationRequest | None,
    client: AsyncKlingClient,
    elapsed: float,
    saved_at: datetime,
) -> dict[str, Any]:
    return {
        "id": generation.id,
        "status": generation.status,
        "request": request.summary() if request else None,
        "endpoint": client.endpoint,
        "base_url": client.base_url,
        "credits_used": generation.credits_used,
        "video_url": generation.video_url,
        "elapsed_seconds": round(elapsed, 3),
        "saved_at": saved_at.isoformat(),
    }
