"""What the exit code of ``kling-notebook`` says went wrong, so scripts can react (for example 7:
the submission is uncertain, do not blindly run it again)."""

from __future__ import annotations

from ...domain import errors

__all__ = ["EXIT_CODES", "exit_code"]

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
    (errors.KlingError, 8),  # connection, server, rate limit, bad response
]


def exit_code(exc: BaseException) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), 1)
