"""A file that is not JPEG or PNG is refused by its name (a phone's HEIC, an AVIF, a TIFF, a
video by mistake), and a summary never shows a size the probe could not read."""

from __future__ import annotations

import pytest

from kling_notebook import errors, probe_bytes
from kling_notebook.domain.images import prepare_image


def _iso_media(*brands: bytes) -> bytes:
    """The head of an ISO base media file: an ``ftyp`` box with a major and compatible brands."""
    box = b"ftyp" + brands[0] + b"\x00\x00\x00\x00" + b"".join(brands[1:])
    return (len(box) + 4).to_bytes(4, "big") + box + bytes(2000)


@pytest.mark.parametrize(
    ("data", "fmt", "said"),
    [
        (_iso_media(b"heic", b"mif1", b"heic"), "heic", "format is heic (the iPhone's photo format"),
        (_iso_media(b"mif1", b"heic"), "heic", "format is heic"),
        (_iso_media(b"avif", b"mif1", b"miaf"), "avif", "format is avif"),
        (_iso_media(b"mif1", b"avif"), "avif", "format is avif"),
        (_iso_media(b"isom", b"mp41"), "mp4", "format is mp4 (a video file, not an image)"),
        (b"II*\x00" + bytes(100), "tiff", "format is tiff"),
        (b"MM\x00*" + bytes(100), "tiff", "format is tiff"),
        (b"%PDF-1.7 not a picture" * 10, "unknown", "format is unknown (not an image this tool recognizes)"),
    ],
)
def test_a_refused_format_is_named(data: bytes, fmt: str, said: str) -> None:
    assert probe_bytes(data).format == fmt
    with pytest.raises(errors.ValidationError) as caught:
        prepare_image(data)
    assert said in caught.value.limit and "must be jpeg or png" in caught.value.limit
    assert "0x0" not in str(caught.value) and "aspect" not in str(caught.value)


def test_a_summary_shows_the_pixels_only_when_known() -> None:
    assert probe_bytes(_iso_media(b"heic")).summary() == "heic, 2 KB"
    assert probe_bytes(b"nothing" * 300).summary() == "unknown format, 2 KB"
