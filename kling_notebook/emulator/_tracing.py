"""Request tracing: what the gateway's headers say about each API call, and what it remembers.

A request may carry ``X-Client-Request-Id`` (1-128 characters of ``A-Z a-z 0-9 . _ : -``; any
other value is dropped without a word, as the gateway does); a valid one is echoed as
``x-client-request-id`` and kept with the call (its log row, its generation). Every API reply
carries ``x-inference-id`` (for a create or status read of a generation: the generation's id),
and JSON replies carry ``x-aimlapi-credits-used`` and ``x-aimlapi-usd-spent``: what this very
request spent, which on a video create is the hold it placed (the charge lands when the
generation completes) and elsewhere zero.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from ._http import Request, Response
from ._jobs import Job

__all__ = ["Call", "client_request_id"]

_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def client_request_id(request: Request) -> str | None:
    """The request's valid ``X-Client-Request-Id``, or None (absent or invalid: dropped)."""
    value = request.headers.get("x-client-request-id")
    return value if value is not None and _CLIENT_ID.fullmatch(value) else None


@dataclass
class Call:
    """One request to the gateway's API, as its tracing and its logs see it.

    Handlers fill in what they learn: the key it came with, the model asked for, the generation
    created or read, what the reply reports as spent. ``reached_gateway`` is False when a fault in front of the gateway
    answered (or reset) instead: such calls carry no trace headers and leave no log row.
    """

    request: Request
    client_request_id: str | None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # this HTTP call's
    inference_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    key_prefix: str | None = None  # the key it authenticated with
    model: str | None = None
    job: Job | None = None
    credits: int = 0
    usd: float = 0.0
    reached_gateway: bool = True

    @classmethod
    def of(cls, request: Request) -> Call:
        return cls(request, client_request_id(request))

    def about(self, job: Job) -> None:
        """This call created or read ``job``: its id is the inference id."""
        self.job = job
        self.model = job.request.model
        self.inference_id = job.id

    def trace(self, response: Response) -> None:
        """Add the tracing headers to ``response``."""
        headers = response.headers
        headers["x-inference-id"] = self.inference_id
        if self.client_request_id is not None:
            headers["x-client-request-id"] = self.client_request_id
        if headers.get("Content-Type", "").startswith("application/json"):
            headers["x-aimlapi-credits-used"] = str(self.credits)
            headers["x-aimlapi-usd-spent"] = f"{self.usd:.6f}".rstrip("0").rstrip(".")
