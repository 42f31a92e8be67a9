"""Input images are checked against Kling's limits before anything is paid: png/jpeg only, at most
10 MB, both sides >= 300 px, aspect 1:2.5..2.5:1 (all overridable); local images are sent as a
data URI, or as bare base64 when asked; URL images are probed through the key-less client, and a bad URL
stops the submission before the POST."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from fakes import IMAGE_URL, gen_body, image_bytes
from PIL import Image

from kling_notebook import (
    GATEWAY_LIMITS,
    KLING_LIMITS,
    GenerationRequest,
    ImageLimits,
    errors,
    probe_bytes,
)
from kling_notebook.domain.images import MB, prepare_image


def padded_jpeg(total: int) -> bytes:
    """A real 640x480 JPEG followed by padding up to ``total`` bytes (size limits without a huge
    encode)."""
    data = image_bytes(640, 480)
    return data + b"\x00" * (total - len(data))


# -- the probe --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "mode"),
    [("JPEG", "jpeg", "RGB"), ("PNG", "png", "RGB"), ("PNG", "png", "RGBA"), ("GIF", "gif", "RGB"),
     ("WEBP", "webp", "RGB"), ("BMP", "bmp", "RGB")],
)
def test_probe_reads_format_and_size(fmt, name, mode):
    info = probe_bytes(image_bytes(800, 450, fmt, mode))
    assert (info.format, info.width, info.height) == (name, 800, 450)
    assert info.aspect == pytest.approx(800 / 450)


def test_probe_of_a_progressive_jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (512, 384)).save(buffer, format="JPEG", progressive=True)
    info = probe_bytes(buffer.getvalue())
    assert (info.format, info.width, info.height) == ("jpeg", 512, 384)


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGB"), ("PNG", "L")])
def test_jpeg_and_png_are_accepted(fmt, mode):
    prepared = prepare_image(image_bytes(640, 480, fmt, mode))
    assert prepared.info is not None and prepared.info.format in ("jpeg", "png")


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "BMP"])
def test_other_formats_are_rejected_with_the_format_named(fmt):
    with pytest.raises(errors.ValidationError) as caught:
        prepare_image(image_bytes(640, 480, fmt))
    assert caught.value.field == "image"
    assert f"format is {fmt.lower()}" in caught.value.limit
    assert "jpeg or png" in caught.value.limit


def test_unknown_bytes_are_rejected():
    with pytest.raises(errors.ValidationError, match="format is unknown"):
        prepare_image(b"%PDF-1.7 definitely not a picture" * 10)


def test_truncated_image_is_rejected():
    with pytest.raises(errors.ValidationError, match="could not be read"):
        prepare_image(image_bytes()[:40])


def test_more_than_10_mb_is_rejected_exactly_10_accepted():
    assert prepare_image(padded_jpeg(10 * MB)).info is not None
    with pytest.raises(errors.ValidationError, match="at most 10 MB"):
        prepare_image(padded_jpeg(10 * MB + 1))


@pytest.mark.parametrize(("size", "ok"), [((300, 300), True), ((299, 400), False), ((400, 299), False), ((120, 120), False)])
def test_sides_at_least_300_px(size, ok):
    data = image_bytes(*size)
    if ok:
        prepare_image(data)
    else:
        with pytest.raises(errors.ValidationError, match="at least 300 px"):
            prepare_image(data)


@pytest.mark.parametrize(
    ("size", "ok"),
    [((750, 300), True), ((300, 750), True), ((751, 300), False), ((300, 751), False), ((1500, 400), False)],
)
def test_aspect_between_1_to_2_5_and_2_5_to_1(size, ok):
    data = image_bytes(*size, fmt="PNG")
    if ok:
        prepare_image(data)
    else:
        with pytest.raises(errors.ValidationError, match="aspect ratio"):
            prepare_image(data)


def test_every_broken_limit_is_named_at_once():
    with pytest.raises(errors.ValidationError) as caught:
        prepare_image(image_bytes(200, 50, "GIF"))
    limit = caught.value.limit
    assert "format is gif" in limit and "too small" in limit and "aspect ratio" in limit


def test_limits_are_overridable():
    big = padded_jpeg(15 * MB)
    with pytest.raises(errors.ValidationError):
        prepare_image(big)
    assert prepare_image(big, limits=GATEWAY_LIMITS).info is not None
    assert GATEWAY_LIMITS.max_bytes == 20 * MB and KLING_LIMITS.max_bytes == 10 * MB
    tiny = image_bytes(100, 100)
    assert prepare_image(tiny, limits=ImageLimits(min_side=64)).info is not None
    wide = image_bytes(900, 300)
    assert prepare_image(wide, limits=ImageLimits(max_aspect=3.0)).info is not None
    gif = image_bytes(640, 480, "GIF")
    assert prepare_image(gif, limits=ImageLimits(formats=("jpeg", "png", "gif"))).info is not None
    assert "10 MB" in KLING_LIMITS.describe() and "300 px" in KLING_LIMITS.describe()


async def test_request_and_client_limits_are_applied_before_the_post(gateway, fake_client, no_network):
    big = padded_jpeg(15 * MB)
    async with fake_client(transport=no_network) as client:
        with pytest.raises(errors.ValidationError, match="10 MB"):
            await client.submit(image=big)
    gateway.post(gen_body("queued"))
    async with fake_client(image_limits=GATEWAY_LIMITS) as client:
        await client.submit(image=big)
    async with fake_client() as client:
        await client.submit(GenerationRequest(image=big, image_limits=GATEWAY_LIMITS))
    assert len(gateway.posts) == 2


# -- local sources and encodings ----------------------------------------------------------------


async def test_a_data_uri_by_default_and_raw_base64_when_asked(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued"))
    async with fake_client() as client:
        await client.submit(image=jpeg, image_encoding="raw")
        await client.submit(image=jpeg)
    raw, uri = gateway.post_json(0)["image_url"], gateway.post_json(1)["image_url"]
    assert raw == base64.b64encode(jpeg).decode("ascii")
    assert not raw.startswith("data:")
    assert uri == "data:image/jpeg;base64," + raw


def test_png_data_uri_names_png():
    png = image_bytes(640, 480, "PNG")
    assert prepare_image(png, encoding="data_uri").api_value.startswith("data:image/png;base64,")


def test_path_bytes_and_pil_sources(tmp_path, jpeg):
    path = tmp_path / "frame.jpg"
    path.write_bytes(jpeg)
    from_path = prepare_image(path)
    from_str = prepare_image(str(path))
    from_file_url = prepare_image(f"file://{path}")
    expected = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    assert from_path.api_value == from_str.api_value == from_file_url.api_value == expected
    assert from_path.label == "frame.jpg"
    from_bytes = prepare_image(bytearray(jpeg))
    assert from_bytes.label.startswith(f"<{len(jpeg)} bytes")
    pil = prepare_image(Image.new("RGB", (640, 360)))
    assert pil.info is not None and (pil.info.format, pil.info.width) == ("jpeg", 640)
    rgba = prepare_image(Image.new("RGBA", (640, 360)))
    assert rgba.info is not None and rgba.info.format == "png"


def test_bad_local_sources(tmp_path):
    with pytest.raises(errors.ValidationError, match="no such file"):
        prepare_image(tmp_path / "missing.png")
    with pytest.raises(errors.ValidationError, match="http:// or https://"):
        prepare_image("ftp://images.test/a.png")
    with pytest.raises(errors.ValidationError, match="must be an http"):
        prepare_image(12345)
    with pytest.raises(errors.ValidationError, match="4096"):
        prepare_image("https://images.test/" + "a" * 5000)


def test_url_passes_through_unprobed():
    prepared = prepare_image("  https://images.test/a.png ")
    assert prepared.api_value == "https://images.test/a.png" and prepared.info is None and prepared.is_url


# -- URL images are probed, without the key -------------------------------------------------------


async def test_url_image_is_probed_without_the_key_then_posted(gateway, fake_client):
    gateway.serve(IMAGE_URL, image_bytes(), "image/jpeg").post(gen_body("queued"))
    async with fake_client() as client:
        await client.submit(image=IMAGE_URL)
    probe = gateway.to_host("images.test")
    assert len(probe) == 1 and "authorization" not in probe[0].headers
    assert gateway.post_json()["image_url"] == IMAGE_URL


@pytest.mark.parametrize(
    ("served", "words"),
    [
        (None, "HTTP 404"),
        ((b"<html>a web page</html>", "text/html"), "format is unknown"),
        ((image_bytes(200, 200), "image/jpeg"), "too small"),
        ((image_bytes(640, 480, "GIF"), "image/gif"), "format is gif"),
        ((image_bytes(1600, 400), "image/jpeg"), "aspect ratio"),
    ],
)
async def test_bad_url_image_stops_before_the_post(gateway, fake_client, served, words):
    if served:
        gateway.serve(IMAGE_URL, *served)
    gateway.post(gen_body("queued"))
    async with fake_client() as client:
        with pytest.raises(errors.ValidationError) as caught:
            await client.submit(image=IMAGE_URL)
        assert client.journal is not None and client.journal.entries() == []
    assert caught.value.field == "image"
    assert words in str(caught.value)
    assert gateway.posts == []


async def test_unreachable_url_image_is_a_validation_error(gateway, fake_client):
    def refuse(request):
        raise httpx.ConnectError("no route", request=request)

    async with fake_client(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(errors.ValidationError, match="could not be fetched"):
            await client.submit(image=IMAGE_URL)


async def test_url_probe_can_be_switched_off(gateway, fake_client):
    gateway.post(gen_body("queued"))
    async with fake_client(check_url_images=False) as client:
        await client.submit(image=IMAGE_URL)
    assert gateway.to_host("images.test") == []
    assert len(gateway.posts) == 1


async def test_url_image_too_big_by_content_length(gateway, fake_client):
    gateway.serve(IMAGE_URL, padded_jpeg(11 * MB), "image/jpeg").post(gen_body("queued"))
    async with fake_client() as client:
        with pytest.raises(errors.ValidationError, match="at most 10 MB"):
            await client.submit(image=IMAGE_URL)
    assert gateway.posts == []


def test_a_data_uri_string_is_checked_and_sent_as_asked():
    png = image_bytes(640, 480, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    raw = prepare_image(uri, encoding="raw")
    assert raw.info is not None and raw.info.format == "png" and (raw.info.width, raw.info.height) == (640, 480)
    assert base64.b64decode(raw.api_value) == png
    assert raw.label.startswith("<data URI, ") and uri not in raw.label
    assert prepare_image(uri, encoding="data_uri").api_value.startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("uri", "limit"),
    [
        ("data:image/png,plain-text", "data:image/png;base64,"),
        ("data:image/png;base64,@@not base64@@", "not valid base64"),
        ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "image"),
    ],
)
def test_a_broken_data_uri_is_refused_naming_the_image(uri, limit):
    with pytest.raises(errors.ValidationError) as caught:
        prepare_image(uri)
    assert caught.value.field == "image" and limit in str(caught.value)


def test_a_tiny_image_in_a_data_uri_breaks_the_same_limits():
    small = "data:image/jpeg;base64," + base64.b64encode(image_bytes(200, 200)).decode()
    with pytest.raises(errors.ValidationError, match="300"):
        prepare_image(small)


def test_a_home_folder_of_no_known_user_is_a_missing_file() -> None:
    """``~name`` expands only for a known user; otherwise it is a path like any other."""
    with pytest.raises(errors.ValidationError, match="no such file"):
        prepare_image("~no-such-user-kling/frame.jpg")
