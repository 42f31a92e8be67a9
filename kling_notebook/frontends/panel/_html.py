"""The few HTML snippets every view uses, so escaping happens in one place.

Every user-visible string (prompts, URLs, file names, error messages from the gateway) passes
through :func:`esc` before it reaches a widget's HTML value.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Literal

from ...domain import errors

__all__ = ["esc", "note", "code", "error_html", "Tone"]

Tone = Literal["muted", "ok", "warn", "bad", "info"]

_COLORS: dict[Tone, str] = {
    "muted": "#6b7280",
    "ok": "#047857",
    "warn": "#92400e",
    "bad": "#b91c1c",
    "info": "#1d4ed8",
}


def esc(text: object) -> str:
    """HTML-escape anything (quotes too, so the result is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def note(text: str, tone: Tone = "muted") -> str:
    """A small line of (escaped) text in one of a few colours."""
    return f'<span style="color:{_COLORS[tone]};font-size:90%">{esc(text)}</span>'


def code(text: str) -> str:
    """Inline code the user can select whole with one click (ids, paths, commands)."""
    return (
        '<code style="user-select:all;-webkit-user-select:all;word-break:break-all;'
        f'background:rgba(127,127,127,.12);padding:0 3px;border-radius:3px">{esc(text)}</code>'
    )


def _uncertain_steps() -> list[str]:
    """Exactly what to check before paying again when a POST may or may not have landed."""
    at = datetime.now().strftime("%H:%M")
    return [
        f"Open the generations (usage) list of your AI/ML API account and look for a Kling v2.1 "
        f"master generation started around {at}.",
        "If it is there, do not generate again: it is running and will be charged once. "
        "Record its id under Unfinished (Record id) and the panel saves its video.",
        "If nothing appears after a few minutes, it was not created: press Not created there, "
        "and generating again is safe.",
    ]


def error_html(exc: BaseException | None, fallback: str = "") -> str:
    """An error in plain words: what happened and what to do, never a traceback.

    ``fallback`` is the event's message, used when the failure was not a KlingError.
    """
    if isinstance(exc, errors.KlingError):
        message, hint = exc.message, exc.hint
    else:
        what = fallback or f"{type(exc).__name__}: {exc}"
        message = f"Unexpected error: {what}"
        hint = "This is a bug in kling_notebook; if a generation id is shown, the job is in the journal."
    parts = [f'<div style="color:{_COLORS["bad"]};font-weight:600">{esc(message)}</div>']
    if hint:
        parts.append(f"<div>{esc(hint)}</div>")
    if isinstance(exc, errors.SubmissionUncertainError):
        steps = "".join(f"<li>{esc(step)}</li>" for step in _uncertain_steps())
        parts.append(f'<div>Before you click Generate again:</div><ol style="margin:2px 0">{steps}</ol>')
    return "".join(parts)
