"""Is a downloaded body the video it claims to be? Checked before the file takes its final name.

A video host that compresses its answer, or sends an HTML error page with status 200, would
otherwise leave something that is not a video under a ``.mp4`` name, reported as saved, and
resume would never fetch it again although the paid generation is still there to download.
"""

from __future__ import annotations

from pathlib import Path

import httpx

__all__ = ["IDENTITY", "NotAVideo", "body_encodings", "require_mp4"]

#: Asked on every download: the stored bytes, so written sizes and Range offsets count file bytes.
IDENTITY = {"Accept-Encoding": "identity"}
#: Encodings a host may still use that httpx decodes (a whole body only, never a Range slice).
_DECODABLE = frozenset({"gzip", "deflate"})


class NotAVideo(Exception):
    """The host answered with something other than the video: asking again the same way won't help."""


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


def require_mp4(path: Path) -> None:
    """Raise :class:`NotAVideo` unless ``path`` starts like an MP4 (an ``ftyp`` box at offset 4)."""
    with open(path, "rb") as file:
        head = file.read(12)
    if head[4:8] != b"ftyp":
        raise NotAVideo(f"the downloaded file is not an MP4 (it starts with {head!r})")
