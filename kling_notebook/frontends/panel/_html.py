"""The few HTML snippets every view uses, so escaping happens in one place.

Every user-visible string (prompts, URLs, file names, error messages from the gateway) passes
through :func:`esc` before it reaches HTML the panel's view shows as markup.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Literal

from ...domain import errors

__all__ = ["esc", "note", "code", "error_html", "Tone"]

Tone = Literal["muted", "ok", "warn", "bad", "info"]



def esc(text: object) -> str:
    """HTML-escape anything (quotes too, so the result is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def note(text: str, tone: Tone = "muted") -> str:
    """A small line of (escaped) text in one of a few tones; the panel's stylesheet gives each
    tone a colour readable in light and dark themes."""
    return f'<span class="kling-note kling-{tone}">{esc(text)}</span>'


def code(text: str) -> str:
    """Inline code the user can select whole with one click (ids, paths, commands)."""
    return f'<code class="kling-code" style="user-select:all;-webkit-user-select:all">{esc(text)}</code>'



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
    parts = [f'<div class="kling-bad kling-strong">{esc(message)}</div>']
    if hint:
        parts.append(f"<div>{esc(hint)}</div>")
    if isinstance(exc, errors.SubmissionUncertainError):
        steps = "".join(f"<li>{esc(step)}</li>" for step in _uncertain_steps())
        parts.append(f'<div>Before you click Generate again:</div><ol class="kling-steps">{steps}</ol>')
    return "".join(parts)
