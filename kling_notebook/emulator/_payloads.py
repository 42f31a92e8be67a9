"""The JSON the gateway answers with: generation bodies for both endpoint pairs, error bodies.

The two pairs differ only here: the legacy one reports ``meta.usage.tokens_used`` and the video's
``duration`` (top level and in ``video``), the universal one ``meta.usage.credits_used``.
Usage is reported on the create response (the price it holds) and again on completion (the price
charged); it is the cost of that one generation, not a running total. Each generation's
:class:`~._replies.ReplyShape` picks the off-schema variants its bodies use.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, TypedDict

from ._http import Response
from ._jobs import Job, Status
from ._models import MODELS
from ._validation import Flavor, Issue

__all__ = [
    "JSON",
    "GenerationSummary",
    "Refused",
    "body_invalid",
    "error_body",
    "json_reply",
    "failure",
    "generation_body",
    "generation_summary",
]

MODERATION = ("ModerationError", "The input was rejected by content moderation.")
JSON = {"Content-Type": "application/json; charset=utf-8"}


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(body).encode(), {**JSON, **(headers or {})})


INPUT_SHOWN = 60  # characters of the image_url a pydantic-style error echoes as its input


def failure(job: Job) -> tuple[str, str]:
    """The name and message of why ``job`` failed (its input, or an injected refusal)."""
    outcome = job.outcome
    if outcome is not None and outcome.video is None:
        return outcome.error_name, outcome.error_message
    return MODERATION


def _error(job: Job) -> Any:
    name, message = failure(job)
    shape = job.shape.error
    if shape == "error_detail":
        shown = job.request.image_url
        shown = shown if len(shown) <= INPUT_SHOWN else shown[:INPUT_SHOWN] + "..."
        detail = {
            "loc": ["body", "image_url"],
            "msg": message,
            "type": "value_error",
            "input": shown,
        }
        return {"detail": [detail]}
    if shape == "error_string":
        return message
    if shape == "error_null":
        return None
    return {"name": name, "message": message}


def _reported(job: Job, status: Status, now: float) -> str:
    """The status as this generation's replies spell it (``old_statuses``: the SDK's names)."""
    if job.shape.statuses != "old_statuses" or status in ("completed", "error"):
        return status
    if status == "queued":
        return "waiting"
    return "active" if now < (job.started_at + job.finished_at) / 2 else "processing"


def generation_body(
    job: Job, flavor: Flavor, now: float, video_url: str, *, created: bool = False
) -> dict[str, Any]:
    """The body of a create (``created``) or status response for ``job`` on ``flavor``'s pair,
    as of ``now``; ``video_url`` is where its video is served."""
    status = job.status(now)
    body: dict[str, Any] = {"id": job.id, "status": _reported(job, status, now)}
    legacy = flavor == "legacy"
    if legacy:
        body["duration"] = job.request.duration
    if status == "completed":
        video = job.outcome.video if job.outcome is not None else None
        if job.fault == "no_video" or video is None:
            body["video"] = None
        else:
            described = {
                "url": video_url,
                "content_type": "video/mp4",
                "file_name": "output.mp4",
                "file_size": len(video),
                **({"duration": job.request.duration} if legacy else {}),
            }
            body["video"] = [described] if job.shape.video == "video_list" else described
    if status == "error":
        body["error"] = _error(job)
    if created or status == "completed":
        usage: dict[str, Any] = {"tokens_used" if legacy else job.shape.usage: job.credits}
        if MODELS[job.request.model].usd_in_usage:
            usage["usd_spent"] = job.usd
        body["meta"] = {"usage": usage}
    return body


class Refused(Exception):
    """A request the gateway answers with its error shape: ``status``, ``message``, extra
    ``headers`` (e.g. Retry-After) and extra body fields (e.g. validation ``errors``)."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def body_invalid(issues: list[Issue]) -> Refused:
    """The gateway's 400 for a body that breaks its schema, naming every issue."""
    return Refused(400, "Body validation error", errors=[issue.as_json() for issue in issues])


def error_body(
    status: int,
    message: str,
    path: str,
    status_code: int | str | None = None,
    request_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The gateway's error shape (``extra`` carries details such as validation ``errors``);
    ``status_code`` replaces the number in ``statusCode`` (e.g. by its string)."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "message": message,
        "path": path,
        "requestId": request_id or str(uuid.uuid4()),
        "statusCode": status if status_code is None else status_code,
        "timestamp": stamp,
        **extra,
    }


class GenerationSummary(TypedDict):
    """What ``Emulator.generations()`` tells about one generation (for tests and benchmarks).

    ``status`` is the schema's name whatever the replies call it; ``error`` is
    ``{name, message}`` whatever shape the replies give it.
    """

    endpoint: Flavor
    model: str
    status: Status
    duration: int
    prompt: str | None
    image: str  # "url" or "inline"
    camera_control: str | None  # its type
    end_frame: bool  # whether it ends on an end image
    generate_audio: bool
    ignored_fields: list[str]  # fields its model's schema does not take: dropped
    provider: str
    external_task_id: str | None
    client_request_id: str | None  # the X-Client-Request-Id its create carried
    fault: str | None
    download_fault: str | None
    downloads: int
    credits: int
    video_url: str | None
    error: dict[str, str] | None
    ends_in: float  # real seconds until the job ends (negative once it has): when a poll can see it


def generation_summary(job: Job, now: float, video_url: str) -> GenerationSummary:
    status = job.status(now)
    request = job.request
    has_video = status == "completed" and job.fault != "no_video"
    name, message = failure(job)
    return GenerationSummary(
        endpoint=job.flavor,
        model=request.model,
        status=status,
        duration=request.duration,
        prompt=request.prompt,
        image="inline" if request.image_bytes is not None else "url",
        camera_control=request.camera.type if request.camera else None,
        end_frame=request.end_image_url is not None,
        generate_audio=request.generate_audio,
        ignored_fields=list(request.ignored),
        provider=request.provider,
        external_task_id=request.external_task_id,
        client_request_id=job.client_request_id,
        fault=job.fault,
        download_fault=job.download_fault,
        downloads=job.downloads,
        credits=job.credits,
        video_url=video_url if has_video else None,
        error={"name": name, "message": message} if status == "error" else None,
        ends_in=job.finished_at - now,
    )
