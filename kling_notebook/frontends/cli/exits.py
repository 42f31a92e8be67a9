"""What the exit code of ``kling-notebook`` says went wrong, so scripts can react (for example 7:
the submission is uncertain, do not blindly run it again)."""

from __future__ import annotations

from ...domain import errors

__all__ = ["EXIT_CODES", "EXIT_MEANINGS", "UNEXPECTED", "INTERRUPTED", "exit_code", "exit_codes_help"]

#: Exit code per error kind (most specific class first).
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (errors.ValidationError, 2),
    (errors.ConfigurationError, 3),
    (errors.AuthenticationError, 3),
    (errors.InsufficientCreditsError, 4),
    (errors.BudgetExceededError, 4),
    (errors.GenerationFailedError, 5),
    (errors.WaitTimeoutError, 6),
    (errors.SubmissionUncertainError, 7),
    (errors.DownloadError, 9),
    (errors.NotFoundError, 10),
    (errors.StorageError, 11),  # a full disk, a read-only folder, a damaged journal
    (errors.BusyElsewhereError, 12),
    (errors.KlingError, 8),  # connection, server, rate limit, bad response
]

#: A bug: an error that is none of the kinds above.
UNEXPECTED = 1
#: Ctrl+C (128 + SIGINT, as shells report it).
INTERRUPTED = 130

#: What each code means, as ``--help`` lists them.
EXIT_MEANINGS: dict[int, str] = {
    0: "done",
    UNEXPECTED: "an unexpected error (a bug: please report it)",
    2: "invalid input or usage: nothing was sent",
    3: "configuration: no API key, a refused key, or a bad base URL",
    4: "not enough credits, over the key's own limit, or over --budget: nothing was charged",
    5: "the generation failed at the gateway",
    6: "the wait timed out: the generation may still finish (`kling-notebook wait ID`)",
    7: "the submission is uncertain: check before submitting again (`kling-notebook resume`)",
    8: "the gateway or the network failed (after retries)",
    9: "the download failed: the video is not lost (`kling-notebook wait ID`)",
    10: "no such generation",
    11: "a file or folder could not be read or written (full disk, read-only folder, damaged journal)",
    12: "another process on this machine is already waiting for that generation (it saves the video)",
    INTERRUPTED: "interrupted (Ctrl+C): a submitted generation goes on (`kling-notebook resume`)",
}


def exit_code(exc: BaseException) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), UNEXPECTED)


def exit_codes_help() -> str:
    """The exit codes as a help epilog (every command lists them, so a script's author finds them)."""
    lines = [f"  {code:<4} {meaning}" for code, meaning in sorted(EXIT_MEANINGS.items())]
    return "exit codes:\n" + "\n".join(lines)
