"""Streaming a video from its host to a ``.part`` file, resumed with Range after a fault.

The host is a third party (a CDN): it gets no key, and what it sends is checked, not trusted.
"""

from __future__ import annotations

import httpx

from ..store.mp4 import NotAVideo

__all__ = ["IDENTITY", "body_encodings"]

#: Asked on every download: the stored bytes, so written sizes and Range offsets count file bytes.
IDENTITY = {"Accept-Encoding": "identity"}
#: Encodings a host may still use that httpx decodes (a whole body only, never a Range slice).
_DECODABLE = frozenset({"gzip", "deflate"})


def body_encodings(response: httpx.Response) -> tuple[str, ...]:
    """The answer's content codings that must be decoded (identity left out).

    Raises :class:`NotAVideo` when they cannot be: an unknown coding, or an encoded Range slice,
    which cannot be decoded on its own.
    """
    codings = tuple(
        coding
        for coding in (value.strip().lower() for value in response.headers.get_list("content-encoding", True))
        if coding not in ("", "identity")
    )
    if codings and (response.status_code == 206 or not set(codings) <= _DECODABLE):
        raise NotAVideo(
            f"the video host sent the video encoded as {', '.join(codings)} although "
            "'Accept-Encoding: identity' was asked"
        )
    return codings
