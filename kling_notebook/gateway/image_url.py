"""Probing an image URL before paying: enough of it to check Kling's limits, never with the key."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ..domain.errors import ValidationError
from ..domain.images import KLING_LIMITS, ImageInfo, ImageLimits, probe_bytes

__all__ = ["fetch_url_image"]


async def fetch_url_image(
    url: str,
    client: httpx.AsyncClient,
    limits: ImageLimits = KLING_LIMITS,
    on_bytes: Callable[[int], None] | None = None,
) -> ImageInfo:
    """Download enough of an image URL to probe it, without ever sending the API key.

    ``client`` must carry no Authorization header: image hosts are third parties.
    Raises ValidationError when the URL is unreachable, not an image, or breaks the limits.
    """
    try:
        async with client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise ValidationError("image", url, f"the URL answered HTTP {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            head = bytearray()
            async for chunk in response.aiter_bytes():
                head += chunk
                if on_bytes:
                    on_bytes(len(head))
                if len(head) > limits.max_bytes:
                    break
            total = max(declared, len(head))
    except httpx.HTTPError as exc:
        raise ValidationError("image", url, f"the URL could not be fetched ({type(exc).__name__})") from exc
    info = probe_bytes(bytes(head), total)
    info.check(limits)
    return info
