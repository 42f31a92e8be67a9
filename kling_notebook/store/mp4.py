"""Is a downloaded file the video it claims to be? Checked before it takes its final name.

A video host that compresses its answer, or sends an HTML error page with status 200, would
otherwise leave something that is not a video under a ``.mp4`` name, reported as saved, and
resume would never fetch it again although the paid generation is still there to download.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["NotAVideo", "require_mp4"]


class NotAVideo(Exception):
    """The host answered with something other than the video: asking again the same way won't help."""


def require_mp4(path: Path) -> None:
    """Raise :class:`NotAVideo` unless ``path`` starts like an MP4 (an ``ftyp`` box at offset 4)."""
    with open(path, "rb") as file:
        head = file.read(12)
    if head[4:8] != b"ftyp":
        raise NotAVideo(f"the downloaded file is not an MP4 (it starts with {head!r})")
