"""The JSON the gateway answers with: generation bodies for both endpoint pairs, error bodies.

The two pairs differ only here: the legacy one reports ``meta.usage.tokens_used`` and the video's
``duration`` (top level and in ``video``), the universal one ``meta.usage.credits_used``.
Usage is reported on the create response (where the credits are spent) and again on completion;
it is the cost of that one generation, not a running total.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, TypedDict

from ._jobs import Job, Status
from ._validation import Flavor

__all__ = ["GenerationSummary", "error_body", "generation_body", "generation_summary", "video_path"]

MODERATION = {"name": "ModerationError", "message": "The input was rejected by content moderation."}


def video_path(job: Job) -> str:
    return f"/cdn/{job.token}/output.mp4"


def _error(job: Job) -> dict[str, str]:
    outcome = job.outcome
    if outcome is not None and outcome.video is None:
        return {"name": outcome.error_name, "message": outcome.error_message}
    return dict(MODERATION)


def generation_body(
    job: Job, flavor: Flavor, status: Status, base_url: str, *, created: bool = False
) -> dict[str, Any]:
    """The body of a create (``created``) or status response for ``job`` on ``flavor``'s pair."""
    body: dict[str, Any] = {"id": job.id, "status": status}
    legacy = flavor == "legacy"
    if legacy:
        body["duration"] = job.request.duration
    if status == "completed":
        video = job.outcome.video if job.outcome is not None else None
        if job.fault == "no_video" or video is None:
            body["video"] = None
        else:
            body["video"] = {
                "url": base_url + video_path(job),
                "content_type": "video/mp4",
                "file_name": "output.mp4",
                "file_size": len(video),
                **({"duration": job.request.duration} if legacy else {}),
            }
    if status == "error":
        body["error"] = _error(job)
    if created or status == "completed":
        body["meta"] = {"usage": {"tokens_used" if legacy else "credits_used": job.credits}}
    return body


def error_body(status: int, message: str, path: str, **extra: Any) -> dict[str, Any]:
    """The gateway's error shape (``extra`` carries details such as validation ``errors``)."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "message": message,
        "path": path,
        "requestId": str(uuid.uuid4()),
        "statusCode": status,
        "timestamp": stamp,
        **extra,
    }


class GenerationSummary(TypedDict):
    """What ``Emulator.generations()`` tells about one generation (for tests and benchmarks)."""

    endpoint: Flavor
    status: Status
    duration: int
    prompt: str | None
    image: str  # "url" or "inline"
    camera_control: str | None  # its type
    provider: str
    external_task_id: str | None
    fault: str | None
    download_fault: str | None
    downloads: int
    credits: int
    video_url: str | None
    error: dict[str, str] | None
    ends_in: float  # real seconds until the job ends (negative once it has): when a poll can see it


def generation_summary(job: Job, now: float, base_url: str) -> GenerationSummary:
    status = job.status(now)
    body = generation_body(job, job.flavor, status, base_url)
    video = body.get("video")
    request = job.request
    return GenerationSummary(
        endpoint=job.flavor,
        status=status,
        duration=request.duration,
        prompt=request.prompt,
        image="inline" if request.image_bytes is not None else "url",
        camera_control=request.camera.type if request.camera else None,
        provider=request.provider,
        external_task_id=request.external_task_id,
        fault=job.fault,
        download_fault=job.download_fault,
        downloads=job.downloads,
        credits=job.credits,
        video_url=video["url"] if video else None,
        error=body.get("error"),
        ends_in=job.finished_at - now,
    )
