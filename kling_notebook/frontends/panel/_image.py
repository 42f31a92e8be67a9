"""The input image: a URL with a live preview, a file upload, or the bundled demo image.

A past request's image can be loaded back (:meth:`ImagePicker.use_image`): a URL, bytes or a file
still on disk load directly; the journal keeps no image bytes, so otherwise the picker asks again.

Whatever the source, the same checker (:meth:`ImageInfo.problems`) gives the verdict in words, so
the user learns that Kling would refuse an image before paying for an attempt. A URL is probed on
the engine loop with a key-less HTTP client (the image host is a third party), debounced so that
typing does not fire a request per keystroke; the preview itself is the browser's ``<img>``.
Local bytes are shown as a small thumbnail, so the panel's saved state never holds the image.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx

from ...domain.errors import ValidationError
from ...domain.formatting import format_bytes
from ...domain.images import KLING_LIMITS, ImageInfo, ImageInput, ImageLimits, is_url, probe_bytes
from ...gateway.image_url import fetch_url_image
from ...gateway.tls import tls_context
from ...runtime.engine import spawn
from ._html import note

__all__ = ["ImagePicker", "ImageSource", "DEMO_IMAGE", "verdict", "describe_shape"]

#: The bundled demo image: the central part of the Mona Lisa (public domain), 396 x 576 px.
DEMO_IMAGE = Path(__file__).with_name("assets") / "mona_lisa.jpg"
#: Seconds of quiet typing before a URL is fetched.
DEBOUNCE = 0.6
#: The preview thumbnail's longest side: small enough for the saved notebook (a few KB).
PREVIEW_PX = 160
_PROBE_TIMEOUT = httpx.Timeout(15.0, connect=8.0)


@dataclass(frozen=True)
class ImageSource:
    """What goes into the request's ``image`` and how to write it in "copy as code"."""

    value: str | bytes | Path
    label: str  # shown to the user
    code: str  # a Python expression for the same image
    comment: str = ""  # what the user must adapt in that expression


def _probe_limits(limits: ImageLimits) -> ImageLimits:
    """Limits that only stop at the size cap, so a URL's problems can all be listed in words."""
    return ImageLimits(
        max_bytes=limits.max_bytes, min_side=0, max_aspect=float("inf"),
        formats=("jpeg", "png", "gif", "webp", "bmp"), source=limits.source,
    )


def describe_shape(width: int, height: int) -> str:
    """``"396 x 576 px, aspect 11:16 (0.69, portrait)"``; no aspect when a side is unknown."""
    if not width or not height:
        return "size unknown"
    shape = "square" if width == height else ("landscape" if width > height else "portrait")
    ratio = Fraction(width, height).limit_denominator(32)
    return f"{width} x {height} px, aspect {ratio.numerator}:{ratio.denominator} ({width / height:.2f}, {shape})"


def verdict(info: ImageInfo, limits: ImageLimits = KLING_LIMITS) -> tuple[bool, str]:
    """(accepted, HTML sentence) for a probed image."""
    facts = f"{info.format.upper()}, {describe_shape(info.width, info.height)}, {format_bytes(info.nbytes)}"
    problems = info.problems(limits)
    if not problems:
        return True, note(f"\u2713 {facts}: Kling accepts this image.", "ok")
    return False, note(f"\u2717 {facts}. Kling would refuse it: {'; '.join(problems)}.", "bad")


def _thumbnail(data: bytes) -> str:
    """A small JPEG data URI for the preview (so an upload never travels back whole), or ""."""
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional: no preview, the verdict still says what it is
        return ""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((PREVIEW_PX, PREVIEW_PX))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=70)
    except Exception:  # not an image Pillow reads: the verdict says why
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def too_large_words(name: str, size: int, limits: ImageLimits) -> str:
    """What the panel says of a file the browser refused to send (over the size limit)."""
    return (
        f"\u2717 {name} is {format_bytes(size)}: over the {format_bytes(limits.max_bytes)} limit "
        f"for an input image ({limits.source}). Nothing was sent; choose a smaller file."
    )


class ImagePicker:
    """The image's state: source, verdict, preview and the URL typed; ``state()`` for the view."""

    def __init__(self, limits: ImageLimits = KLING_LIMITS) -> None:
        self.limits = limits
        self.source: ImageSource | None = None
        #: Why the image cannot be used right now (None when it can).
        self.problem: str | None = "no image yet"
        self.url = ""
        self.status = ""
        self.preview = ""
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._ticket = 0
        self._pending: concurrent.futures.Future[None] | None = None

    def state(self) -> dict[str, Any]:
        """What the view draws (JSON): the preview is a thumbnail or the image's own URL."""
        with self._lock:
            return {
                "url": self.url,
                "status_html": self.status,
                "preview": self.preview,
                "ok": self.source is not None and self.problem is None,
                "max_bytes": self.limits.max_bytes,
                "limit_text": format_bytes(self.limits.max_bytes),
            }

    # -- listeners ----------------------------------------------------------------------------

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever the source or its verdict changes."""
        self._listeners.append(callback)

    def _set(self, ticket: int, source: ImageSource | None, problem: str | None, status: str,
             preview: str | None = None) -> None:
        """Publish a new state, unless a newer input has superseded ``ticket``."""
        with self._lock:
            if ticket != self._ticket:
                return
            self.source, self.problem, self.status = source, problem, status
            if preview is not None:
                self.preview = preview
        for listener in self._listeners:
            listener()

    def _next_ticket(self, url: str = "") -> int:
        with self._lock:
            self._ticket += 1
            self.url = url
            if self._pending is not None:
                self._pending.cancel()
                self._pending = None
            return self._ticket

    # -- sources ------------------------------------------------------------------------------

    def use_demo(self) -> None:
        """Select the bundled demo image (what the quickstart uses with zero typing)."""
        source = ImageSource(DEMO_IMAGE, "demo image: Mona Lisa (public domain)", "DEMO_IMAGE")
        self.use_bytes(DEMO_IMAGE.read_bytes(), source)

    def use_file(self, path: Path) -> None:
        """Check and show a local image file (the demo image keeps its short name in the code)."""
        if path.resolve() == DEMO_IMAGE.resolve():
            self.use_demo()
            return
        self.use_bytes(path.read_bytes(), ImageSource(path, f"file: {path}", repr(str(path))))

    def use_image(self, image: ImageInput) -> None:
        """Show a request's image, to re-run it: a URL is checked like a typed one, and image
        bytes or a file still on disk are loaded. Anything else (a journal keeps only a label for
        bytes, a file may have moved) leaves no image and says it must be chosen again."""
        if is_url(image):
            self.use_url(str(image))
        elif isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            comment = "a file holding the request's image bytes"
            self.use_bytes(data, ImageSource(data, f"the request's image ({len(data)} bytes)", repr("image.jpg"), comment))
        elif isinstance(image, (str, Path)) and Path(image).is_file():
            self.use_file(Path(image))
        else:
            self._ask_again(str(image) if isinstance(image, (str, Path)) else f"<{type(image).__name__}>")

    def _ask_again(self, label: str) -> None:
        ticket = self._next_ticket()
        words = (
            f"\u2717 The image must be chosen again: {label} cannot be loaded (the journal keeps no "
            "image bytes, and a file may have moved). Upload it, paste a URL or click Demo."
        )
        problem = "the image must be chosen again (upload it, paste a URL or click Demo)"
        self._set(ticket, None, problem, note(words, "warn"), "")

    def use_bytes(self, data: bytes, source: ImageSource) -> None:
        """Check local image bytes and show them (uploads and the demo image)."""
        ticket = self._next_ticket()
        info = probe_bytes(data)
        ok, words = verdict(info, self.limits)
        status = f"{note(source.label, 'info')}<br>{words}"
        self._set(ticket, source, None if ok else "; ".join(info.problems(self.limits)), status, _thumbnail(data))

    def use_upload(self, name: str, data: bytes) -> None:
        """A file the browser sent (its bytes are kept here only, never in the view's state)."""
        self.use_bytes(data, ImageSource(data, f"uploaded file: {name}", repr(name), "the file you uploaded"))

    def refuse_upload(self, name: str, size: int) -> None:
        """The browser kept a file over the size limit: the old image is no longer current."""
        ticket = self._next_ticket()
        problem = f"the chosen file is over the {format_bytes(self.limits.max_bytes)} limit"
        self._set(ticket, None, problem, note(too_large_words(name, size, self.limits), "bad"), "")

    def use_url(self, url: str) -> None:
        """A URL typed or pasted: checked after a short quiet spell (the view shows it at once)."""
        url = str(url).strip()
        ticket = self._next_ticket(url)
        if not url:
            self._set(ticket, None, "no image: paste a URL, upload a file or click Demo image",
                      note("No image yet: paste a URL, upload a file or click Demo image."), "")
            return
        if not is_url(url):
            self._set(ticket, None, "the image URL must start with http:// or https://",
                      note("\u2717 The URL must start with http:// or https://", "bad"), "")
            return
        source = ImageSource(url, url, repr(url))
        self._set(ticket, None, "checking the image URL", note("checking the image URL\u2026"), "")
        future = spawn(self._probe_url(url, ticket, source))
        with self._lock:
            if ticket == self._ticket:
                self._pending = future

    async def _probe_url(self, url: str, ticket: int, source: ImageSource) -> None:
        """Debounce, then fetch enough of the URL to judge it (engine loop, key-less client)."""
        await asyncio.sleep(DEBOUNCE)
        try:
            async with httpx.AsyncClient(
                timeout=_PROBE_TIMEOUT, follow_redirects=True, verify=tls_context()
            ) as plain:
                info = await fetch_url_image(url, plain, _probe_limits(self.limits))
        except ValidationError as exc:
            reason = "it is not an image (or not one the checker can read)" if str(exc.given).startswith("unknown") else exc.limit
            self._set(ticket, None, reason, note(f"\u2717 This URL cannot be used: {reason}.", "bad"), "")
            return
        except Exception as exc:  # never let a preview problem surface as a traceback
            reason = f"the URL could not be checked ({type(exc).__name__})"
            self._set(ticket, None, reason, note(f"\u2717 {reason}.", "bad"), "")
            return
        ok, words = verdict(info, self.limits)
        self._set(ticket, source, None if ok else "; ".join(info.problems(self.limits)), words, url)
