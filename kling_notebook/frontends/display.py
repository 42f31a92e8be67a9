"""How a finished video is shown in each front end, without bloating the notebook by default.

Three ways to point a ``<video>`` at the result:

* ``"file"`` (default): a path relative to the kernel's working directory (the notebook's
  folder). JupyterLab and Notebook 7 rewrite relative ``src``/``href`` to their ``/files/`` route,
  so the .ipynb stores a short path, never the video.
* ``"embed"``: the MP4 as base64 inside the output (up to :data:`EMBED_LIMIT`). The only way
  Colab and Voila (whose file route serves no .mp4 by default) can play it.
* ``"url"``: the generation's remote URL (it expires at some unpublished time).

``"auto"`` picks ``"embed"`` on Colab and Voila and ``"file"`` elsewhere. There is always a
download link and a text/plain fallback, since VS Code plays only some codecs and a terminal none.
"""

from __future__ import annotations

import base64
import html
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import quote

from ..domain.cost import credits_text
from ..domain.formatting import format_bytes, format_seconds
from ..domain.images import is_url

if TYPE_CHECKING:
    from ..domain.generation import GenerationResult

__all__ = [
    "DisplayMode",
    "EMBED_LIMIT",
    "set_display_mode",
    "get_display_mode",
    "concrete_mode",
    "relative_url",
    "result_mimebundle",
    "result_html",
    "result_text",
    "details_html",
    "video_html",
]

DisplayMode = Literal["auto", "file", "embed", "url"]
#: Largest video embedded as base64; bigger ones fall back to their URL or file path.
EMBED_LIMIT = 25 * 1024 * 1024
#: Environment variable that sets the mode for a whole session (e.g. in a Binder or Colab setup).
ENV_VAR = "KLING_NOTEBOOK_DISPLAY"

_mode: DisplayMode | None = None


def set_display_mode(mode: DisplayMode) -> None:
    """Choose how videos are shown from now on (``"auto"`` clears the choice)."""
    global _mode
    if mode not in get_args(DisplayMode):
        raise ValueError(f"display mode must be one of {', '.join(get_args(DisplayMode))} (got {mode!r})")
    _mode = None if mode == "auto" else mode


def get_display_mode() -> DisplayMode:
    """The mode set with :func:`set_display_mode`, else ``$KLING_NOTEBOOK_DISPLAY``, else auto."""
    if _mode is not None:
        return _mode
    env = os.environ.get(ENV_VAR, "").strip().lower()
    return env if env in get_args(DisplayMode) else "auto"  # type: ignore[return-value]


def concrete_mode(mode: DisplayMode | None = None) -> Literal["file", "embed", "url"]:
    """``auto`` made concrete for the front end this kernel is serving."""
    chosen = mode or get_display_mode()
    if chosen != "auto":
        return chosen
    served_without_files = "google.colab" in sys.modules or "VOILA_KERNEL_ID" in os.environ
    return "embed" if served_without_files else "file"


def relative_url(path: Path) -> str:
    """``path`` as a URL relative to the kernel's working directory, percent-quoted.

    Public because every view that links or plays a saved file must use the same form: front
    ends rewrite a relative ``src``/``href`` in cell outputs (and Output widgets) to their file
    route, so the link works in JupyterLab without storing the file in the notebook."""
    try:
        relative = os.path.relpath(path, os.getcwd())
    except ValueError:  # another drive on Windows: nothing relative can reach it
        relative = str(path)
    return quote(Path(relative).as_posix())


def _remote_url(result: GenerationResult) -> str | None:
    """The generation's own URL when it is http(s), else None: whatever a journal or sidecar
    holds, no other scheme (``javascript:``, ``data:``) becomes a link or a media source."""
    url = result.generation.video_url
    return url.strip() if url and is_url(url) else None


def _source(result: GenerationResult, mode: Literal["file", "embed", "url"]) -> tuple[str, str]:
    """The ``src`` for the video and a note on why it differs from what was asked (or "")."""
    url = _remote_url(result)
    if mode == "url" and url:
        return url, ""
    if mode == "embed":
        size = result.path.stat().st_size if result.path.is_file() else 0
        if 0 < size <= EMBED_LIMIT:
            data = base64.b64encode(result.path.read_bytes()).decode("ascii")
            return f"data:video/mp4;base64,{data}", ""
        reason = f"too large to embed ({format_bytes(size)} > {format_bytes(EMBED_LIMIT)})"
        if url:
            return url, f"{reason}: playing from the remote URL, which expires"
        return relative_url(result.path), reason
    return relative_url(result.path), ""


def _link(result: GenerationResult, mode: Literal["file", "embed", "url"]) -> tuple[str, str]:
    """Where the download link points and what it says.

    Outside "file" mode the front end may not serve the kernel's files (Colab, Voila), so the link
    uses the generation's own URL when there is one (the embedded player's menu also saves it).
    """
    name = result.path.name
    url = _remote_url(result)
    if mode == "file" or not url:
        return relative_url(result.path), f"Download {name}"
    return url, f"Download {name} (from the generation's URL, which expires)"


def video_html(result: GenerationResult, mode: DisplayMode | None = None) -> str:
    """A ``<video controls>`` (never autoplaying) plus a download link, all attributes escaped."""
    concrete = concrete_mode(mode)
    src, note = _source(result, concrete)
    link, words = _link(result, concrete)
    parts = [
        f'<video controls preload="metadata" playsinline src="{html.escape(src)}" '
        'style="max-width:100%;max-height:480px;display:block;background:#000"></video>',
        f'<div style="margin-top:4px"><a href="{html.escape(link)}" '
        f'download="{html.escape(result.path.name)}">{html.escape(words)}</a></div>',
    ]
    if note:
        parts.append(f'<div style="color:#92400e">{html.escape(note)}</div>')
    return "\n".join(parts)


def _details(result: GenerationResult) -> list[tuple[str, str]]:
    """(label, value) rows describing a result; values are plain text (escape before HTML)."""
    generation = result.generation
    rows: list[tuple[str, str]] = []
    request = result.request
    if request is not None and request.prompt:
        rows.append(("Prompt", request.prompt))
    duration = request.duration if request is not None else generation.duration
    if duration:
        rows.append(("Duration", f"{duration} s"))
    if result.path.is_file():
        rows.append(("File size", format_bytes(result.path.stat().st_size)))
    if generation.credits_used is not None:
        rows.append(("Credits used", credits_text(generation.credits_used, simulated=result.simulated)))
    if result.elapsed is not None:
        rows.append(("Time taken", format_seconds(result.elapsed)))
    rows.append(("Generation id", generation.id))
    rows.append(("Saved to", _shown_path(result.path)))
    return rows


def _shown_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def details_html(result: GenerationResult) -> str:
    """The details as a small table (every value escaped)."""
    cells = "".join(
        f'<tr><th style="text-align:left;padding:2px 10px 2px 0;font-weight:600;vertical-align:top;'
        f'white-space:nowrap">{html.escape(label)}</th>'
        '<td style="text-align:left;overflow-wrap:anywhere">'
        f"{html.escape(value)}</td></tr>"
        for label, value in _details(result)
    )
    return f'<table style="border-collapse:collapse;font-size:90%">{cells}</table>'


def result_html(result: GenerationResult, mode: DisplayMode | None = None) -> str:
    """Video, link and details: what a result shows in a notebook without the panel."""
    return (
        '<div class="kling-result" style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">'
        f'<div style="flex:0 1 auto;max-width:640px">{video_html(result, mode)}</div>'
        f'<div style="flex:1 1 260px">{details_html(result)}</div></div>'
    )


def result_text(result: GenerationResult) -> str:
    """The text fallback (terminals, logs, front ends without HTML)."""
    lines = [f"GenerationResult: video saved to {result.path}"]
    lines += [f"  {label}: {value}" for label, value in _details(result) if label != "Saved to"]
    return "\n".join(lines)


def result_mimebundle(result: GenerationResult, mode: DisplayMode | None = None) -> dict[str, Any]:
    """The rich display of a :class:`~kling_notebook.domain.generation.GenerationResult`."""
    return {"text/plain": result_text(result), "text/html": result_html(result, mode)}
