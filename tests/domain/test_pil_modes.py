"""A PIL image in any mode becomes a valid JPEG (no alpha) or PNG (alpha kept), or a ValidationError
naming the image: never a bare OSError from the encoder."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from kling_notebook import errors
from kling_notebook.domain.images import prepare_image

SIZE = (640, 480)


def decoded(value: str) -> Image.Image:
    """The image inside a ``data:image/...;base64,...`` value."""
    assert value.startswith("data:image/")
    picture = Image.open(io.BytesIO(base64.b64decode(value.partition(",")[2])))
    picture.load()
    return picture


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("F", "jpeg"),
        ("I;16", "jpeg"),
        ("I", "jpeg"),
        ("CMYK", "jpeg"),
        ("YCbCr", "jpeg"),
        ("HSV", "jpeg"),
        ("LAB", "jpeg"),
        ("1", "jpeg"),
        ("L", "jpeg"),
        ("RGB", "jpeg"),
        ("P", "jpeg"),
        ("LA", "png"),
        ("PA", "png"),
        ("RGBA", "png"),
        ("RGBa", "png"),
    ],
)
def test_every_mode_is_sent_as_a_valid_jpeg_or_png(mode, fmt):
    prepared = prepare_image(Image.new(mode, SIZE))
    assert prepared.info is not None and prepared.info.format == fmt
    picture = decoded(prepared.api_value)
    assert picture.size == SIZE
    assert picture.mode == ("RGBA" if fmt == "png" else "RGB")


def test_a_palette_image_with_transparency_keeps_it_as_png():
    picture = Image.new("P", SIZE)
    picture.info["transparency"] = 0
    prepared = prepare_image(picture)
    assert prepared.info is not None and prepared.info.format == "png"
    assert decoded(prepared.api_value).mode == "RGBA"


def test_a_mode_that_cannot_be_converted_is_a_validation_error_naming_the_image():
    with pytest.raises(errors.ValidationError) as caught:
        prepare_image(Image.new("La", SIZE))
    assert caught.value.field == "image" and "La" in str(caught.value)
