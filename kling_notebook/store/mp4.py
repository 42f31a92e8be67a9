"""Is a downloaded file the whole video it claims to be? Checked before it takes its final name.

A video host that compresses its answer, sends an HTML error page with status 200, or closes the
connection early without saying so, would otherwise leave something that is not a whole video
under a ``.mp4`` name, reported as saved, and resume would never fetch it again although the paid
generation is still there to download.

An MP4 (ISO BMFF) is a sequence of top-level boxes, each starting with its size and its type:
``ftyp`` first, a ``moov`` (the index without which nothing plays) somewhere, and the sizes adding
up to the file's size exactly, with the media data in an ``mdat``. A file cut short ends inside a
box (or, cut between boxes, lacks one); anything else is not a video.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["NotAVideo", "Truncated", "require_mp4"]

_HEADER = 8  # a box's 32-bit size and its 4-character type
_LARGE = 16  # with a 64-bit size after the type (size field 1)
_REQUIRED = (b"ftyp", b"moov", b"mdat")  # the index and the media data


class NotAVideo(Exception):
    """The host answered with something other than the video: asking again the same way won't help."""


class Truncated(NotAVideo):
    """The file starts like the video but ends inside one of its boxes: the rest is missing."""


def _boxes(file: BinaryIO, size: int) -> list[bytes]:
    """The top-level box types of an open file of ``size`` bytes, checked to tile it exactly."""
    types: list[bytes] = []
    at = 0
    while at < size:
        if size - at < _HEADER:
            raise Truncated(f"the file ends inside a box header at byte {at} of {size}")
        file.seek(at)
        header = file.read(_LARGE)
        length, kind = struct.unpack(">I4s", header[:_HEADER])
        if length == 1:  # a 64-bit size follows the type
            if len(header) < _LARGE:
                raise Truncated(f"the file ends inside a box header at byte {at} of {size}")
            (length,) = struct.unpack(">Q", header[_HEADER:_LARGE])
            smallest = _LARGE
        elif length == 0:  # the last box, up to the end of the file
            length, smallest = size - at, _HEADER
        else:
            smallest = _HEADER
        if not types and kind != b"ftyp":
            raise NotAVideo(f"the downloaded file is not an MP4 (it starts with {header[:12]!r})")
        if length < smallest or not all(32 <= char < 127 for char in kind):  # a four-character code
            raise NotAVideo(f"the downloaded file is not an MP4 (a box of {length} bytes at byte {at})")
        types.append(kind)
        if at + length > size:
            raise Truncated(
                f"the file ends inside its {kind.decode('latin-1')!r} box "
                f"({size} bytes, the box needs {at + length})"
            )
        at += length
    return types


def require_mp4(path: Path) -> None:
    """Raise :class:`NotAVideo` unless ``path`` is a whole MP4: top-level boxes tiling the file
    exactly, ``ftyp`` first, a ``moov`` and an ``mdat`` among them. :class:`Truncated` when it
    ends inside a box or before one of those (the rest of the file may be missing, so a resumed
    download may still complete it)."""
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        if size == 0:
            raise Truncated("the downloaded file is empty")
        types = _boxes(file, size)
    missing = [kind.decode() for kind in _REQUIRED if kind not in types]
    if missing:
        raise Truncated(f"the downloaded file has no {' and no '.join(missing)} box ({size} bytes)")
