"""First-frame thumbnails (JPEG bytes) of saved videos, for the history gallery.

Decoded and encoded with PyAV alone (its MJPEG encoder, no Pillow), which is optional: it comes
with the ``demo`` extra. Without it, or for a file that does not decode, the answer is None and the
gallery shows a placeholder. A thumbnail is cached beside its video as ``<video>.thumb.jpg`` and
rebuilt when the video is newer, so a gallery of hundreds decodes each video once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

__all__ = ["THUMB_SUFFIX", "thumbnail", "thumbnail_path"]

log = logging.getLogger("kling_notebook")

THUMB_SUFFIX = ".thumb.jpg"
DEFAULT_WIDTH = 320


def thumbnail_path(video: str | os.PathLike[str]) -> Path:
    """``clip.mp4`` -> ``clip.mp4.thumb.jpg``."""
    video = Path(video)
    return video.with_name(video.name + THUMB_SUFFIX)


def _first_frame_jpeg(av: Any, video: Path, width: int) -> bytes:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        out_width = min(width, frame.width) // 2 * 2
        out_height = max(2, round(frame.height * out_width / frame.width / 2) * 2)
        small = frame.reformat(width=out_width, height=out_height, format="yuvj420p")
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height, encoder.pix_fmt = out_width, out_height, "yuvj420p"
        encoder.time_base = stream.time_base or Fraction(1, 24)
        packets = list(encoder.encode(small)) + list(encoder.encode(None))
    return b"".join(bytes(packet) for packet in packets)


def _write_atomically(target: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def thumbnail(video: str | os.PathLike[str], *, width: int = DEFAULT_WIDTH) -> bytes | None:
    """JPEG bytes of the first frame of ``video`` (at most ``width`` px wide), or None when PyAV
    is missing or the file cannot be decoded. Cached beside the video."""
    video = Path(video)
    cache = thumbnail_path(video)
    try:
        if cache.stat().st_mtime >= video.stat().st_mtime:
            return cache.read_bytes()
    except OSError:
        pass  # no cache yet, or no video
    try:
        import av
    except ImportError:
        return None
    try:
        data = _first_frame_jpeg(av, video, width)
    except (OSError, StopIteration, IndexError, av.FFmpegError) as exc:
        log.warning("no thumbnail for %s: %s", video, exc)
        return None
    with contextlib.suppress(OSError):  # a read-only folder still gets its thumbnail, uncached
        _write_atomically(cache, data)
    return data
