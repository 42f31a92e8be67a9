"""Durations, sizes and network text as people may safely read them, in one wording for every front end."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_TEXT_CHARS", "format_bytes", "format_seconds", "network_text"]


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs}s"


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


#: Gateway text shown in an error, a log line or a widget is cut to this many characters.
MAX_TEXT_CHARS = 500
# Terminal escape sequences (ANSI CSI) and control characters other than tab and newline.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def network_text(value: object, *, secrets: Iterable[str] = (), limit: int = MAX_TEXT_CHARS) -> str:
    """Text that came from the network, safe to raise, log, store and print: control characters
    and terminal escapes removed (first, so none can split a secret), every secret replaced by
    ``[key]``, and cut to ``limit`` characters. HTML escaping stays the renderer's job."""
    text = _CONTROL.sub("", value if isinstance(value, str) else str(value))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[key]")
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
