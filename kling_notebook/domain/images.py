"""Turn what the user has (URL, path, bytes, PIL image) into what the API takes, and check it first.

The probe reads only image headers (JPEG SOF / PNG IHDR / a few magic numbers), so checking a
10 MB image needs no Pillow and no decoding. Kling's documented limits are the default; the
gateway states looser ones for other models, so the limits are a value the caller can replace.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ValidationError

__all__ = [
    "ImageLimits",
    "KLING_LIMITS",
    "GATEWAY_LIMITS",
    "ImageInfo",
    "PreparedImage",
    "ImageInput",
    "ImageEncoding",
    "probe_bytes",
    "prepare_image",
    "is_url",
]

ImageEncoding = Literal["raw", "data_uri"]
#: Anything the request accepts as the first frame: an http(s) URL, a local path, a data URI,
#: bytes, or a PIL image.
ImageInput = Any

MB = 1024 * 1024


@dataclass(frozen=True)
class ImageLimits:
    """What the model accepts as an input image."""

    max_bytes: int = 10 * MB
    min_side: int = 300
    max_aspect: float = 2.5  # width/height at most this, and at least 1/this
    formats: tuple[str, ...] = ("jpeg", "png")
    source: str = "Kling API reference"

    def describe(self) -> str:
        return (
            f"{'/'.join(self.formats)}, at most {self.max_bytes / MB:g} MB, both sides >= "
            f"{self.min_side} px, aspect between 1:{self.max_aspect:g} and {self.max_aspect:g}:1 "
            f"({self.source})"
        )


#: The limits of the official Kling API reference (the default).
KLING_LIMITS = ImageLimits()
#: The looser limits the gateway states for some other video models.
GATEWAY_LIMITS = ImageLimits(max_bytes=20 * MB, source="gateway docs for other models")


@dataclass(frozen=True)
class ImageInfo:
    """What the probe found: enough to tell the user why Kling would refuse an image."""

    format: str  # "jpeg", "png", "gif", "webp", "bmp", "heic", "avif", "tiff", "mp4" or "unknown"
    width: int
    height: int
    nbytes: int

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.height else 0.0

    def problems(self, limits: ImageLimits = KLING_LIMITS) -> list[str]:
        """Every limit this image breaks, in words; empty when Kling would accept it."""
        found = []
        if self.format not in limits.formats:
            note = _FORMAT_NOTES.get(self.format)
            named = f"{self.format} ({note})" if note else self.format
            found.append(f"format is {named}, must be {' or '.join(limits.formats)}")
        if self.nbytes > limits.max_bytes:
            found.append(
                f"file is {self.nbytes / MB:.1f} MB, must be at most {limits.max_bytes / MB:g} MB"
            )
        if self.width and self.height:
            if min(self.width, self.height) < limits.min_side:
                found.append(
                    f"{self.width}x{self.height} px is too small, both sides must be at least "
                    f"{limits.min_side} px"
                )
            if not (1 / limits.max_aspect <= self.aspect <= limits.max_aspect):
                found.append(
                    f"aspect ratio {self.aspect:.2f} is outside 1:{limits.max_aspect:g} .. "
                    f"{limits.max_aspect:g}:1"
                )
        elif self.format in limits.formats:
            found.append("the image size could not be read (corrupt or truncated file?)")
        return found

    def check(self, limits: ImageLimits = KLING_LIMITS) -> None:
        """Raise ValidationError(field="image") naming every broken limit."""
        found = self.problems(limits)
        if found:
            raise ValidationError("image", self.summary(), "; ".join(found))

    def summary(self) -> str:
        """Format, size in pixels (when the probe could read it) and bytes, e.g. "jpeg 640x480, 52 KB"."""
        size = f" {self.width}x{self.height}" if self.width and self.height else ""
        kind = "unknown format" if self.format == "unknown" else self.format
        return f"{kind}{size}, {self.nbytes / 1024:.0f} KB"


#: What to tell the user about a format that is neither JPEG nor PNG, when its name is not enough.
_FORMAT_NOTES = {
    "unknown": "not an image this tool recognizes",
    "heic": "the iPhone's photo format: export it as JPEG first",
    "avif": "export it as JPEG or PNG first",
    "tiff": "export it as JPEG or PNG first",
    "mp4": "a video file, not an image",
}
#: ISO base media file brands (the ``ftyp`` box) of the formats above.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_VIDEO_BRANDS = frozenset({b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V "})


def _iso_media_format(data: bytes) -> str | None:
    """HEIC, AVIF or an MP4 video, from the brands of an ``ftyp`` box (AVIF files also list
    ``mif1``, so AVIF is looked for first)."""
    size = int.from_bytes(data[:4], "big")
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, 64), 4)}
    for found, family in (("avif", _AVIF_BRANDS), ("heic", _HEIC_BRANDS), ("mp4", _VIDEO_BRANDS)):
        if brands & family:
            return found
    return None


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk JPEG markers to the first SOFn segment, which holds the frame size."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0


def _size_by_format(data: bytes) -> tuple[str, int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"\xff\xd8"):
        return ("jpeg", *_jpeg_size(data))
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return ("gif", *struct.unpack("<HH", data[6:10]))
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return ("webp", *_webp_size(data))
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "bmp", width, abs(height)
    if data[4:8] == b"ftyp":
        return _iso_media_format(data) or "unknown", 0, 0
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff", 0, 0
    return "unknown", 0, 0


def probe_bytes(data: bytes, nbytes: int | None = None) -> ImageInfo:
    """Format and size from the header bytes; ``nbytes`` is the full size when only a head was read."""
    fmt, width, height = _size_by_format(bytes(data[: 512 * 1024]))
    return ImageInfo(fmt, width, height, len(data) if nbytes is None else nbytes)


def is_url(value: object) -> bool:
    return isinstance(value, str) and urlsplit(value.strip()).scheme in ("http", "https")


@dataclass(frozen=True)
class PreparedImage:
    """The ``image_url`` value to send, plus what the journal and the user may see of it."""

    api_value: str
    info: ImageInfo | None  # None for a URL that was not probed
    label: str  # short, never the bytes: a URL, a file name, or "<png bytes, sha256 ...>"

    @property
    def is_url(self) -> bool:
        return is_url(self.api_value)


def _encode(data: bytes, fmt: str, encoding: ImageEncoding) -> str:
    text = base64.b64encode(data).decode("ascii")
    if encoding == "data_uri":
        return f"data:image/{fmt};base64,{text}"
    return text


#: PIL modes that carry an alpha channel (kept: such images go as PNG).
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def _pil_to_bytes(image: Any) -> bytes:
    """A PIL image as JPEG (RGB) or, when it has transparency, PNG (RGBA): the only modes both
    formats and Kling take. Modes such as F, I;16 or CMYK would otherwise fail in the encoder."""
    import io

    mode = getattr(image, "mode", "")
    alpha = mode in _ALPHA_MODES or "transparency" in getattr(image, "info", {})
    target = "RGBA" if alpha else "RGB"
    buffer = io.BytesIO()
    try:
        converted = image if mode == target else image.convert(target)
        converted.save(buffer, format="PNG" if alpha else "JPEG", quality=95)
    except (OSError, ValueError) as exc:
        raise ValidationError(
            "image", f"PIL image in mode {mode}", f"could not be converted to {target} ({exc})"
        ) from exc
    return buffer.getvalue()


def _label(data: bytes, kind: str = "") -> str:
    """A short name for image bytes: enough to tell two inputs apart, never the bytes."""
    return f"<{kind}{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]}>"


def _data_uri_bytes(text: str) -> bytes:
    """The image inside ``data:image/...;base64,...`` (what a browser or fal hands around)."""
    header, comma, payload = text.partition(",")
    if not comma or not header.endswith(";base64"):
        raise ValidationError("image", "data URI", "must look like data:image/png;base64,<base64>")
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except ValueError as exc:
        raise ValidationError("image", "data URI", "the part after the comma is not valid base64") from exc


def _bytes_of(image: ImageInput) -> tuple[bytes, str]:
    """Bytes and a short label for a local image; raises ValidationError for anything else."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        return data, _label(data)
    if isinstance(image, str) and image.lstrip()[:5].lower() == "data:":
        data = _data_uri_bytes(image.strip())
        return data, _label(data, "data URI, ")
    if hasattr(image, "save") and hasattr(image, "size"):
        data = _pil_to_bytes(image)
        return data, f"<PIL image {image.size[0]}x{image.size[1]}>"
    if isinstance(image, (str, os.PathLike)):
        text = os.fspath(image)
        if not text.strip():
            raise ValidationError("image", image, "an http(s) URL or a local file path is required")
        scheme = urlsplit(text).scheme
        if scheme and len(scheme) > 1 and scheme not in ("file",):
            raise ValidationError("image", image, "URLs must start with http:// or https://")
        path = Path(text.removeprefix("file://"))
        with contextlib.suppress(RuntimeError):  # "~name" of no known user: taken as written
            path = path.expanduser()
        if not path.is_file():
            raise ValidationError("image", text, "no such file (give an http(s) URL or a file path)")
        return path.read_bytes(), path.name
    raise ValidationError(
        "image", type(image).__name__, "must be an http(s) URL, a file path, bytes or a PIL image"
    )


def prepare_image(
    image: ImageInput,
    *,
    encoding: ImageEncoding = "data_uri",
    limits: ImageLimits = KLING_LIMITS,
) -> PreparedImage:
    """Check a local image against ``limits`` and encode it; URLs pass through unprobed.

    ``encoding="raw"`` sends bare base64 (what the official Kling API expects); ``"data_uri"``
    sends ``data:image/png;base64,...`` (what fal-style services accept).
    """
    if image is None:
        raise ValidationError("image", None, "an image is required (URL, file path, bytes or PIL image)")
    if isinstance(image, str) and is_url(image):
        url = image.strip()
        if len(url) > 4096:
            raise ValidationError("image", url, "URL is longer than 4096 characters")
        return PreparedImage(url, None, url)
    data, label = _bytes_of(image)
    info = probe_bytes(data)
    info.check(limits)
    return PreparedImage(_encode(data, info.format, encoding), info, label)
