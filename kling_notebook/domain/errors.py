"""Typed errors: each says what happened and what to do next.

Every error derives from :class:`KlingError`. Messages never contain the API key; where the gateway
sent a ``requestId`` it is appended so support can trace the call.
"""

from __future__ import annotations

import shlex
from typing import Any

__all__ = [
    "KlingError",
    "ValidationError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "InsufficientCreditsError",
    "KeyLimitError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "GatewayTimeoutError",
    "APIConnectionError",
    "APITimeoutError",
    "InvalidResponseError",
    "GenerationFailedError",
    "MissingVideoError",
    "WaitTimeoutError",
    "SubmissionUncertainError",
    "DownloadError",
    "BusyElsewhereError",
    "BudgetExceededError",
    "ConfigurationError",
    "StorageError",
    "JournalDamagedError",
]


def shell_quote(value: str) -> str:
    """``value`` as one word of a suggested shell command: a pasted hint never runs anything else,
    whatever the gateway put in an id."""
    return shlex.quote(value)


def shorten(value: Any, limit: int = 60) -> str:
    """A repr of ``value`` cut to ``limit`` characters, so huge inputs never flood a message."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, bytes):
        size = f"{len(value)} bytes"
    else:  # a string's own length, as the user counts it; anything else, its repr's
        size = f"{len(value if isinstance(value, str) else text)} characters"
    return f"{text[: limit - 15]}... ({size})"


class KlingError(Exception):
    """Base of every error this package raises."""

    #: One line telling the user what to do about it (shown by the panel and the CLI).
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        if hint is not None:
            self.hint = hint
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        """The message and what to do, read when shown (a hint may be added on the way up); the
        message is ended as a sentence before the hint begins."""
        if not self.hint:
            return self.message
        told = self.message.rstrip()
        if told and not told.endswith((".", "!", "?")):
            told += "."
        return f"{told} {self.hint}".strip()


class ConfigurationError(KlingError):
    """Missing or contradictory settings (for example no API key)."""


class StorageError(KlingError):
    """The outputs folder, its journal or a video file could not be written or read (a full disk,
    a read-only folder). Nothing already recorded is lost: the journal and its record keep every
    paid generation's id."""

    hint = "Free some disk space or choose a writable folder (out_dir= or $KLING_NOTEBOOK_OUTPUTS), then resume."


class JournalDamagedError(StorageError):
    """``journal.sqlite3`` cannot be used as it is (damaged, a newer schema, another program's
    file, a folder in its place); the message says which, and what to do."""


class ValidationError(KlingError, ValueError):
    """A request that Kling would reject; raised before any request is sent (so nothing is paid)."""

    def __init__(self, field: str, given: Any, limit: str) -> None:
        self.field = field
        self.given = given
        self.limit = limit
        super().__init__(
            f"{field}: {limit} (given {shorten(given)}).",
            hint="Nothing was sent and nothing was charged.",
        )


class APIStatusError(KlingError):
    """The gateway answered with an HTTP error status."""

    hint = "See the message above."

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        field: str | None = None,
    ) -> None:
        self.status_code = status_code
        #: What the gateway said, without the status (may be empty).
        self.detail = message
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
        #: The request field a 400 is about, when the gateway named one.
        self.field = field
        text = f"HTTP {status_code}: {message}" if message else f"HTTP {status_code}"
        if field:
            text += f" (field {field})"
        if request_id:
            text += f" (requestId {request_id})"
        super().__init__(text)


class BadRequestError(APIStatusError):
    hint = "The gateway rejected the request body; nothing was created."

    def __init__(self, message: str, **details: Any) -> None:
        field = details.get("field")
        if field:
            self.hint = f"The gateway rejected `{field}`: fix it and try again; nothing was created."
        super().__init__(message, **details)


class AuthenticationError(APIStatusError):
    hint = (
        "Check the API key (argument api_key=, or AIMLAPI_KEY / AIML_API_KEY / AIMLAPI_API_KEY)."
    )


class InsufficientCreditsError(APIStatusError):
    hint = "The account is out of credits: top it up before trying again. This is never retried."


class KeyLimitError(InsufficientCreditsError):
    """The key's own spending limit (set by whoever manages it, a teacher) refused the charge."""

    hint = (
        "This key's spending limit is reached; nothing was created. It resets as its limit says "
        "(00:00 UTC), or whoever manages the key can raise it."
    )


class NotFoundError(APIStatusError):
    hint = "Check the generation id and that it was created with the same key and endpoint."


class RateLimitError(APIStatusError):
    hint = "Too many requests or too many running generations: wait and try again."


class ServerError(APIStatusError):
    hint = "The gateway had a problem; status reads are retried, this one ran out of retries."


class GatewayTimeoutError(ServerError):
    hint = "The gateway gave up (504 Generation timeout). Check the generation id before paying again."


class APIConnectionError(KlingError):
    hint = "Check the network and the base URL."


class APITimeoutError(APIConnectionError):
    hint = "The gateway did not answer in time."


class InvalidResponseError(KlingError):
    hint = "The gateway sent something that is not the documented JSON; try again later."


class GenerationFailedError(KlingError):
    """The generation ended with status ``error`` (for example moderation)."""

    hint = "Change the image or prompt and try again; a failed generation is usually not charged."

    def __init__(self, generation_id: str, name: str | None, detail: str | None) -> None:
        self.generation_id = generation_id
        self.name = name
        self.detail = detail
        what = ": ".join(part for part in (name, detail) if part) or "no reason given"
        super().__init__(f"Generation {generation_id} failed ({what}).")


class MissingVideoError(GenerationFailedError):
    """Status ``completed`` but no video URL: a broken result, never treated as success."""

    hint = "Ask again later with `kling-notebook wait ID`; if it persists, contact support with the id."

    def __init__(self, generation_id: str) -> None:
        super().__init__(generation_id, "MissingVideo", "status is completed but no video URL was sent")


class WaitTimeoutError(KlingError):
    """The wait deadline passed; the generation may still finish and can be picked up by id."""

    def __init__(self, generation_id: str, waited: float, last_status: str | None) -> None:
        self.generation_id = generation_id
        self.waited = waited
        self.last_status = last_status
        super().__init__(
            f"Stopped waiting for {generation_id} after {waited:.0f} s (last status: {last_status}).",
            hint=f"It may still finish: resume with `kling-notebook wait {shell_quote(generation_id)}` "
            "or client.wait(id). Do not submit again.",
        )


class SubmissionUncertainError(KlingError):
    """The create POST may or may not have started a paid generation.

    Raised instead of retrying, because a retry could pay twice. ``request`` is the request that
    was sent; the journal keeps it marked "uncertain".
    """

    def __init__(self, reason: str, request: Any = None, *, row: int | None = None) -> None:
        self.reason = reason
        self.request = request
        #: The journal row that keeps the attempt (None when nothing was journalled).
        self.row = row
        where = f" The journal keeps it as row {row}." if row is not None else ""
        settle = f"kling-notebook settle {row if row is not None else 'ROW'}"
        super().__init__(
            f"The submission may or may not have reached the gateway ({reason}).{where}",
            hint="Before submitting again, check the generations list of your account: a second "
            f"submit may pay twice. Then record what you found: `{settle} --id ID` (resume then "
            f"saves the video) or `{settle} --not-created` (`kling-notebook resume` lists the row).",
        )


class BusyElsewhereError(KlingError):
    """Another job (another kernel or terminal on this machine) is already waiting for this
    generation and saves its video; following it here too would save it twice."""

    def __init__(self, generation_id: str) -> None:
        self.generation_id = generation_id
        super().__init__(
            f"Generation {generation_id} is being waited for by another process on this machine.",
            hint="It is saved there; look for it in the outputs folder once that process is done.",
        )


class DownloadError(KlingError):
    """The video could not be downloaded; the generation itself is done and paid for."""

    def __init__(self, generation_id: str, reason: str) -> None:
        self.generation_id = generation_id
        self.reason = reason
        super().__init__(
            f"Downloading the video of {generation_id} failed ({reason}).",
            hint=f"It is not lost: `kling-notebook wait {shell_quote(generation_id)}` downloads it again.",
        )


class BudgetExceededError(KlingError):
    """Submitting would pass the budget the user set; nothing was sent."""

    def __init__(self, needed: float, remaining: float, unit: str = "USD") -> None:
        self.needed = needed
        self.remaining = remaining
        super().__init__(
            f"Budget exceeded: this needs about {needed:.2f} {unit}, {remaining:.2f} {unit} remain.",
            hint="Raise the budget or generate fewer/shorter videos. Nothing was sent.",
        )
