"""Where an input image comes from: inline base64 (raw or a ``data:`` URI) or an http(s) URL.

The universal endpoint declares its image fields ``format: uri``, so there an inline image must be
a ``data:image/...;base64,...`` URI; the legacy endpoint declares a plain string and also takes
raw base64 (what Kling's own API wants). A URL is fetched the way the real service would, from
the server side, with a short timeout; here only loopback is reachable.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

import httpx

__all__ = ["MAX_IMAGE_BYTES", "ImageRejected", "fetch_image", "inline_image", "is_http_url"]

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # Kling's limit for an input image
_DATA_URI = re.compile(
    r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[\w.+-]+=[\w.+-]+)*;base64,(?P<data>.*)", re.S
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class ImageRejected(Exception):
    """The input image cannot be used; the generation ends in ``error`` with this message."""


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def inline_image(value: str, *, uri: bool = False) -> bytes | None:
    """The decoded bytes of an inline image, or None for an http(s) URL.

    ``uri`` (a ``format: uri`` field) refuses raw base64 and data URIs that are not images.
    Raises ValueError when ``value`` is neither, which the gateway answers with a 400.
    """
    if is_http_url(value):
        return None
    match = _DATA_URI.fullmatch(value)
    if uri and (match is None or not (match["type"] or "").lower().startswith("image/")):
        raise ValueError("not an http(s) URL or a data:image/...;base64 URI")
    payload = "".join((match["data"] if match else value).split())
    if not payload or len(payload) % 4 or not _BASE64.fullmatch(payload):
        raise ValueError("not an http(s) URL, a data: URI or base64")
    try:
        return base64.b64decode(payload, validate=True)
    except binascii.Error as error:
        raise ValueError(f"invalid base64: {error}") from None


async def fetch_image(url: str, client: httpx.AsyncClient) -> bytes:
    """Download ``url`` (at most :data:`MAX_IMAGE_BYTES`), or raise :class:`ImageRejected`."""
    host = urlsplit(url).netloc
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                status = response.status_code
                raise ImageRejected(f"could not fetch image_url from {host}: HTTP {status}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_IMAGE_BYTES:
                    raise ImageRejected(f"image_url is larger than {MAX_IMAGE_BYTES} bytes")
    except httpx.HTTPError as error:
        reason = type(error).__name__
        raise ImageRejected(f"could not fetch image_url from {host}: {reason}") from None
    return bytes(data)
