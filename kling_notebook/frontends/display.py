"""How a finished video is shown in each front end, without bloating the notebook by default.

Three ways to point a ``<video>`` (and its Download link) at the result:

* ``"file"``: the saved file through the front end's own file route, as a URL relative to the
  page. JupyterLab and Notebook 7 rewrite a relative ``src``/``href`` to their ``/files/`` route, so
  the .ipynb stores a short path, never the video. Voila serves files only from its
  ``/voila/files/`` route and only names its ``VoilaConfiguration.file_allowlist`` accepts (this
  project's ``binder/`` and app launch config allow ``.mp4``): the URL then points there.
* ``"embed"``: the MP4 as base64 inside the output (up to :data:`EMBED_LIMIT`), the Download link a
  ``data:`` URL of the same bytes. The only way Colab can play a local file; VS Code does not load a
  relative ``src``; marimo shows what the page itself holds. A video too big to embed plays from its
  https URL, else from the file route.
* ``"url"``: the generation's remote https URL (it expires at some unpublished time).

``"auto"`` (the default) maps the front end :func:`~kling_notebook.frontends.detect.frontend`
detects through :data:`FRONTEND_MODES`: ``file`` for JupyterLab, Notebook 7, Voila and a terminal,
``embed`` for Colab, VS Code and marimo. :func:`set_display_mode`, ``$KLING_NOTEBOOK_DISPLAY``,
:func:`~kling_notebook.frontends.detect.set_frontend` and ``$KLING_NOTEBOOK_FRONTEND`` override it.

A URL on this machine (the demo emulator's ``http://127.0.0.1:...``) is never rendered: the browser
may run elsewhere (Binder, a remote server), where it would point at the user's own computer.
There is always a download link and a text/plain fallback, since VS Code plays only some codecs
and a terminal none.
"""

from __future__ import annotations

import base64
import html
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import quote, unquote

from ..domain.cost import credits_text
from ..domain.formatting import format_bytes, format_seconds
from ..domain.images import is_url
from ..gateway.settings import is_loopback
from .detect import Frontend, frontend

if TYPE_CHECKING:
    from ..domain.generation import GenerationResult

__all__ = [
    "DisplayMode",
    "ConcreteMode",
    "EMBED_LIMIT",
    "ENV_VAR",
    "FRONTEND_MODES",
    "VideoSource",
    "set_display_mode",
    "get_display_mode",
    "concrete_mode",
    "relative_url",
    "served_url",
    "video_source",
    "result_mimebundle",
    "result_html",
    "result_text",
    "details_html",
    "video_html",
]

DisplayMode = Literal["auto", "file", "embed", "url"]
ConcreteMode = Literal["file", "embed", "url"]
#: Largest video embedded as base64; bigger ones fall back to their URL or file path.
EMBED_LIMIT = 25 * 1024 * 1024
#: Environment variable that sets the mode for a whole session (e.g. in a Binder or Colab setup).
ENV_VAR = "KLING_NOTEBOOK_DISPLAY"
#: What ``"auto"`` means in each front end (why: see the module's docstring).
FRONTEND_MODES: dict[Frontend, ConcreteMode] = {
    "jupyter": "file",
    "voila": "file",
    "terminal": "file",
    "colab": "embed",
    "vscode": "embed",
    "marimo": "embed",
}

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


def concrete_mode(mode: DisplayMode | None = None) -> ConcreteMode:
    """``auto`` made concrete for the front end this kernel is serving."""
    chosen = mode or get_display_mode()
    if chosen != "auto":
        return chosen
    return FRONTEND_MODES[frontend()]


def relative_url(path: Path) -> str:
    """``path`` as a URL relative to the kernel's working directory, percent-quoted.

    Public because every view that links or plays a saved file must use the same form: front
    ends rewrite a relative ``src``/``href`` in cell outputs (and Output widgets) to their file
    route, so the link works in JupyterLab without storing the file in the notebook."""
    return quote(_relative_path(path))


def _relative_path(path: Path) -> str:
    try:
        relative = os.path.relpath(path, os.getcwd())
    except ValueError:  # another drive on Windows: nothing relative can reach it
        relative = str(path)
    return Path(relative).as_posix()


def served_url(path: Path) -> str:
    """Where the browser gets a saved file from the front end itself, relative to the page.

    Voila's page lives at its base URL (``voila app.ipynb``) or at ``voila/render/DIR/NAME.ipynb``
    (the server extension, Binder's link); its files at ``voila/files/`` under the server's root,
    which for a single notebook is the notebook's folder (the kernel's working directory). A URL
    relative to the page keeps working behind a proxy prefix (Binder's ``/user/NAME/``).
    Elsewhere this is :func:`relative_url`.
    """
    if frontend() != "voila":
        return relative_url(path)
    base = os.environ.get("VOILA_BASE_URL") or "/"
    page = os.environ.get("SCRIPT_NAME") or base  # the path of the page that started this kernel
    render = posixpath.join(base, "voila/render/")
    notebook_dir = posixpath.dirname(unquote(page[len(render):])) if page.startswith(render) else ""
    target = posixpath.join(base, "voila/files", notebook_dir, _relative_path(path))
    page_dir = page if page.endswith("/") else posixpath.dirname(page) + "/"
    return quote(posixpath.relpath(target, page_dir))


def _remote_url(result: GenerationResult) -> str | None:
    """The generation's own URL when it is http(s) on another machine, else None: whatever a
    journal or sidecar holds, no other scheme (``javascript:``, ``data:``) becomes a link or a media
    source, and no loopback URL (the demo emulator's) reaches a browser that may be elsewhere."""
    url = result.generation.video_url
    if not url or not is_url(url) or is_loopback(url.strip()):
        return None
    return url.strip()


@dataclass(frozen=True)
class VideoSource:
    """What a view needs to play and offer a result: one URL for both the player and the Download
    link (served by the front end, embedded, or the generation's remote URL) and why it differs
    from the mode asked for ("" when it does not)."""

    url: str
    file_name: str
    mode: ConcreteMode
    note: str = ""

    @property
    def remote(self) -> bool:
        """Whether the URL is the generation's own (it expires; say so next to the link)."""
        return self.mode == "url"


def video_source(result: GenerationResult, mode: DisplayMode | None = None) -> VideoSource:
    """The source of ``result``'s video in this front end (``mode`` as in :func:`concrete_mode`)."""
    asked = concrete_mode(mode)
    name = result.path.name
    remote = _remote_url(result)
    if asked == "url":
        if remote:
            return VideoSource(remote, name, "url")
        fallback = FRONTEND_MODES[frontend()]
        chosen = video_source(result, fallback)
        note = "no remote URL to play from (this video exists only as its saved file)"
        return VideoSource(chosen.url, name, chosen.mode, chosen.note or note)
    if asked == "embed":
        size = result.path.stat().st_size if result.path.is_file() else 0
        if 0 < size <= EMBED_LIMIT:
            data = base64.b64encode(result.path.read_bytes()).decode("ascii")
            return VideoSource(f"data:video/mp4;base64,{data}", name, "embed")
        reason = f"too large to embed ({format_bytes(size)} > {format_bytes(EMBED_LIMIT)})"
        if remote:
            return VideoSource(remote, name, "url", f"{reason}: playing from the remote URL, which expires")
        return VideoSource(served_url(result.path), name, "file", reason)
    return VideoSource(served_url(result.path), name, "file")


def video_html(result: GenerationResult, mode: DisplayMode | None = None) -> str:
    """A ``<video controls>`` (never autoplaying) plus a download link, all attributes escaped."""
    source = video_source(result, mode)
    words = f"Download {source.file_name}"
    if source.remote:
        words += " (from the generation's URL, which expires)"
    url = html.escape(source.url)
    parts = [
        f'<video controls preload="metadata" playsinline src="{url}" '
        'style="max-width:100%;max-height:480px;display:block;background:#000"></video>',
        f'<div style="margin-top:4px"><a href="{url}" '
        f'download="{html.escape(source.file_name)}">{html.escape(words)}</a></div>',
    ]
    if source.note:
        parts.append(f'<div style="color:#92400e">{html.escape(source.note)}</div>')
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
