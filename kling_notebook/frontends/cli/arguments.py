"""Argument types the CLI's commands share."""

from __future__ import annotations

import argparse

__all__ = ["usd", "positive"]


def usd(text: str) -> float:
    """A dollar amount (``--budget``, ``--limit-usd``): a finite number, not negative."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a dollar amount: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more dollars, got {text!r}")
    return value


def positive(text: str) -> int:
    """A count (``--limit``, ``--concurrency``): a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
