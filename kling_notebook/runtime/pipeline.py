"""One whole generation as a sequence of phases, reported as JobEvents.

check -> submit (paid, journaled) -> wait (progress from the poll policy) -> download -> sidecar.
Every generation runs this as a :class:`~kling_notebook.runtime.jobs.Job` (the panel's, the
CLI's, a Python call's, a batch's, a resume's); front ends only differ in how they draw the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..domain import errors
from ..domain.cost import Budget
from ..domain.events import EventHandler, JobEvent, Phase
from ..domain.generation import Generation, GenerationResult
from ..domain.polling import PollPolicy
from ..domain.request import GenerationRequest, Prepared
from ..gateway.client import GatewayClient
from ..store.claims import claim
from ..store.outputs import find_out_dir, sidecar_path, video_filename, write_sidecar

__all__ = ["Reporter", "run_generation", "resume_generation"]

log = logging.getLogger("kling_notebook")


class Reporter:
    """Stamps the pipeline's events with the job's elapsed time on their way to the job."""

    def __init__(self, on_event: EventHandler, started: float | None = None) -> None:
        self.on_event = on_event
        self.started = time.monotonic() if started is None else started

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, phase: Phase, **fields: Any) -> None:
        self.on_event(JobEvent(phase=phase, elapsed=self.elapsed, **fields))


async def run_generation(
    client: GatewayClient,
    work: GenerationRequest | Prepared,
    report: Reporter,
    *,
    budget: Budget | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    poll: PollPolicy | None = None,
    timeout: float | None = None,
) -> GenerationResult:
    """Run one generation end to end and return where its video was saved. ``work`` already
    checked (a :class:`Prepared`) is not checked again."""
    with _final_event(report, None):
        if isinstance(work, Prepared):
            prepared = work
        else:
            report("checking", message="checking the request and the image")
            prepared = await client.check(work)
        report("submitting", message="submitting (this is the paid step)")
        generation = await client.submit(prepared, budget=budget)
        report("queued", generation_id=generation.id, status=generation.status, generation=generation)
        return await _follow(client, generation, prepared.request, report, out_dir, poll, timeout)


async def resume_generation(
    client: GatewayClient,
    generation_id: str,
    report: Reporter,
    *,
    duration: int | None = None,
    request: GenerationRequest | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    poll: PollPolicy | None = None,
    timeout: float | None = None,
) -> GenerationResult:
    """Resume an already submitted generation by id: wait for it and save its video (or, when
    its video is saved already, return that file: nothing is downloaded twice)."""
    generation = Generation(id=generation_id, status="unknown")
    with _final_event(report, generation_id):
        saved = await _saved(client, generation_id, request)
        if saved is not None:
            report("completed", generation_id=generation_id, generation=saved.generation, result=saved,
                   fraction=1.0, eta=0.0, message="saved already")
            return saved
        return await _follow(client, generation, request, report, out_dir, poll, timeout, duration)


async def _saved(client: GatewayClient, generation_id: str, request: GenerationRequest | None) -> GenerationResult | None:
    """The result of a generation whose video the journal says is saved and is on disk."""
    journal = client.journal
    entry = await journal.run(lambda: journal.get(generation_id)) if journal else None
    if entry is None or entry.status != "completed" or not entry.path or not Path(entry.path).is_file():
        return None
    generation = Generation(id=generation_id, status="completed", video_url=entry.video_url,
                            credits_used=entry.credits_used)
    path = Path(entry.path)
    sidecar = sidecar_path(path)
    return GenerationResult(path=path, generation=generation, request=request,
                            sidecar=sidecar if sidecar.is_file() else None, simulated=client.demo)


@contextlib.contextmanager
def _final_event(report: Reporter, generation_id: str | None) -> Iterator[None]:
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
    client: GatewayClient,
    generation: Generation,
    request: GenerationRequest | None,
    report: Reporter,
    out_dir: str | os.PathLike[str] | None,
    poll: PollPolicy | None,
    timeout: float | None,
    duration: int | None = None,
) -> GenerationResult:
    with claim(client.out_dir, generation.id) as mine:
        if not mine:
            raise errors.BusyElsewhereError(generation.id)
        poll = poll or client.poll
        # On the clock wait() polls by, so estimate and schedule agree (a resumed job is not at zero).
        submitted, length = await client.origin(generation.id, duration or (request.duration if request else None))

        def on_update(found: Generation) -> None:
            estimate = poll.progress(client.clock.now() - submitted, length)
            phase: Phase = "queued" if found.status == "queued" else "generating"
            report(
                phase,
                generation_id=found.id,
                status=found.status,
                generation=found,
                fraction=estimate.fraction,
                eta=estimate.eta,
                message="taking longer than documented" if estimate.overdue else "",
            )

        done = await client.wait(generation, timeout=timeout, poll=poll, on_update=on_update, duration=length)
        folder = find_out_dir(out_dir) if out_dir is not None else client.out_dir
        created = datetime.now(timezone.utc)
        target = folder / video_filename(done.id, request.prompt if request else None, created)
        report("downloading", generation_id=done.id, generation=done, bytes_done=0, bytes_total=done.file_size)

        def on_progress(got: int, total: int | None) -> None:
            report("downloading", generation_id=done.id, bytes_done=got, bytes_total=total)

        path = await client.download(done, target, on_progress=on_progress)
        details = _sidecar(done, request, client, report.elapsed, created)
        try:
            sidecar: Path | None = await asyncio.to_thread(write_sidecar, path, details)  # an fsync: off the loop
        except OSError as exc:  # the video is saved and journalled: a missing sidecar loses nothing
            log.warning("no sidecar for %s (%s); the journal keeps its details", path, exc.strerror or exc)
            sidecar = None
        result = GenerationResult(
            path=Path(path), generation=done, request=request, elapsed=report.elapsed, sidecar=sidecar, simulated=client.demo
        )
        report("completed", generation_id=done.id, generation=done, result=result, fraction=1.0, eta=0.0)
        return result


def _sidecar(
    generation: Generation,
    request: GenerationRequest | None,
    client: GatewayClient,
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
