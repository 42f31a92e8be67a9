"""Bad input of every kind is rejected before any request reaches the API (so nothing is paid),
with a ValidationError naming the field and a message that stays short whatever was given.

The client goes through its full submit path against a recording transport: the API host
answers a POST with a queued generation (the test fails if one is ever sent) and an image host
serves the URLs below. Probing an image URL is a GET to the image host, never to the API.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_notebook import AsyncKlingClient, IgnoredFieldWarning, errors
from kling_notebook.store.journal import Journal

from ._support import KEY, image_file, make_jpeg, mock

API = "https://api.test"
IMAGES = "https://images.test"
MB = 1024 * 1024
OK = f"{IMAGES}/ok.jpg"
MASK = f"{IMAGES}/mask.png"
HUGE = make_jpeg() + b"\0" * (10 * MB)
FILES: dict[str, bytes] = {
    "/ok.jpg": make_jpeg(),
    "/page.html": b"<!doctype html><html><body>not an image</body></html>",
    "/huge.jpg": HUGE,
    "/tiny.jpg": make_jpeg(100, 100),
    "/wide.jpg": make_jpeg(1000, 300),
}


def serve(request: httpx.Request) -> httpx.Response:
    if request.url.host == "api.test":
        return httpx.Response(200, json={"id": "gen-1:kling-video/v2.1/master", "status": "queued"})
    if request.url.port == 0:
        raise httpx.ConnectError("connection refused", request=request)
    data = FILES.get(request.url.path)
    return httpx.Response(404) if data is None else httpx.Response(200, content=data)


def points(count: int) -> list[dict[str, Any]]:
    return [{"x": i, "y": i} for i in range(count)]


def masks(count: int = 1, **mask: Any) -> list[dict[str, Any]]:
    return [{"mask": MASK, "trajectories": points(2), **mask} for _ in range(count)]


SIMPLE_ZOOM = {"type": "simple", "config": {"zoom": 5}}
LONG = "a" * 2501

# (test id, keyword arguments of client.submit, the field the error must name)
BAD: list[tuple[str, dict[str, Any], str]] = [
    # image: missing, hostile or broken URLs, non-images, wrong sizes and shapes, wrong types
    ("image-none", {"image": None}, "image"),
    ("image-empty-string", {"image": ""}, "image"),
    ("image-blank", {"image": "   "}, "image"),
    ("image-javascript-url", {"image": "javascript:alert(1)"}, "image"),
    ("image-file-url-etc-passwd", {"image": "file:///etc/passwd"}, "image"),
    ("image-ftp-url", {"image": "ftp://images.test/a.jpg"}, "image"),
    ("image-url-ipv6-port-0", {"image": "http://[::1]:0/x"}, "image"),
    ("image-url-404", {"image": f"{IMAGES}/missing.jpg"}, "image"),
    ("image-url-not-an-image", {"image": f"{IMAGES}/page.html"}, "image"),
    ("image-url-over-10-mb", {"image": f"{IMAGES}/huge.jpg"}, "image"),
    ("image-url-tiny", {"image": f"{IMAGES}/tiny.jpg"}, "image"),
    ("image-url-extreme-aspect", {"image": f"{IMAGES}/wide.jpg"}, "image"),
    ("image-url-over-4096-chars", {"image": f"{IMAGES}/{'a' * 5000}.jpg"}, "image"),
    ("image-bytes-not-an-image", {"image": b"hello, I am not a picture"}, "image"),
    ("image-bytes-empty", {"image": b""}, "image"),
    ("image-bytes-truncated-jpeg", {"image": make_jpeg()[:40]}, "image"),
    ("image-bytes-gif", {"image": image_file("GIF")}, "image"),
    ("image-bytes-webp", {"image": image_file("WEBP")}, "image"),
    ("image-bytes-over-10-mb", {"image": HUGE}, "image"),
    ("image-bytes-tiny-100px", {"image": make_jpeg(100, 100)}, "image"),
    ("image-bytes-299px-side", {"image": make_jpeg(299, 600)}, "image"),
    ("image-bytes-too-wide-10-to-3", {"image": make_jpeg(1000, 300)}, "image"),
    ("image-bytes-too-tall-3-to-10", {"image": make_jpeg(300, 1000)}, "image"),
    ("image-missing-unicode-path", {"image": "/nonexistent/ümlaut-画像.jpg"}, "image"),
    ("image-path-with-nul", {"image": "photo\x00.jpg"}, "image"),
    ("image-dict", {"image": {"url": OK}}, "image"),
    ("image-int", {"image": 42}, "image"),
    ("image-list", {"image": [OK]}, "image"),
    # prompts: length, NUL, types
    ("prompt-2501-chars", {"prompt": LONG}, "prompt"),
    ("prompt-2501-unicode-chars", {"prompt": "🎬" * 2501}, "prompt"),
    ("prompt-nul-byte", {"prompt": "a cat\x00"}, "prompt"),
    ("prompt-int", {"prompt": 42}, "prompt"),
    ("prompt-list", {"prompt": ["a", "cat"]}, "prompt"),
    ("prompt-bytes", {"prompt": b"a cat"}, "prompt"),
    ("negative-prompt-2501-chars", {"negative_prompt": LONG}, "negative_prompt"),
    ("negative-prompt-nul-byte", {"negative_prompt": "\x00"}, "negative_prompt"),
    ("negative-prompt-dict", {"negative_prompt": {}}, "negative_prompt"),
    # duration: only 5 or 10
    ("duration-7", {"duration": 7}, "duration"),
    ("duration-0", {"duration": 0}, "duration"),
    ("duration-negative", {"duration": -5}, "duration"),
    ("duration-string-7", {"duration": "7"}, "duration"),
    ("duration-empty-string", {"duration": ""}, "duration"),
    ("duration-float", {"duration": 5.5}, "duration"),
    ("duration-bool", {"duration": True}, "duration"),
    ("duration-none", {"duration": None}, "duration"),
    ("duration-list", {"duration": [5]}, "duration"),
    # cfg_scale: a finite number in 0..1
    ("cfg-scale-negative", {"cfg_scale": -0.1}, "cfg_scale"),
    ("cfg-scale-above-1", {"cfg_scale": 1.01}, "cfg_scale"),
    ("cfg-scale-nan", {"cfg_scale": float("nan")}, "cfg_scale"),
    ("cfg-scale-inf", {"cfg_scale": float("inf")}, "cfg_scale"),
    ("cfg-scale-string", {"cfg_scale": "0.5"}, "cfg_scale"),
    ("cfg-scale-bool", {"cfg_scale": True}, "cfg_scale"),
    # camera_control: Kling's rules
    ("camera-unknown-type", {"camera_control": {"type": "orbit"}}, "camera_control.type"),
    ("camera-simple-two-axes", {"camera_control": {"type": "simple", "config": {"zoom": 1, "pan": 2}}},
     "camera_control.config"),
    ("camera-simple-no-axis", {"camera_control": {"type": "simple", "config": {}}}, "camera_control.config"),
    ("camera-axis-11", {"camera_control": {"type": "simple", "config": {"zoom": 11}}},
     "camera_control.config.zoom"),
    ("camera-axis-string", {"camera_control": {"config": {"zoom": "5"}}}, "camera_control.config.zoom"),
    ("camera-unknown-axis", {"camera_control": {"config": {"spin": 1}}}, "camera_control.config.spin"),
    ("camera-preset-with-config", {"camera_control": {"type": "down_back", "config": {"zoom": 1}}},
     "camera_control.config"),
    ("camera-config-string", {"camera_control": {"type": "simple", "config": "zoom"}},
     "camera_control.config"),
    ("camera-not-a-mapping", {"camera_control": 42}, "camera_control"),
    ("camera-extra-key", {"camera_control": {**SIMPLE_ZOOM, "speed": 2}}, "camera_control"),
    ("camera-with-static-mask", {"camera_control": SIMPLE_ZOOM, "static_mask": MASK}, "camera_control"),
    ("camera-with-dynamic-masks", {"camera_control": SIMPLE_ZOOM, "dynamic_masks": masks()},
     "camera_control"),
    # masks
    ("static-mask-not-a-url", {"static_mask": "mask.png"}, "static_mask"),
    ("static-mask-javascript", {"static_mask": "javascript:alert(1)"}, "static_mask"),
    ("static-mask-empty-string", {"static_mask": ""}, "static_mask"),
    ("static-mask-space-in-url", {"static_mask": f"{IMAGES}/a mask.png"}, "static_mask"),
    ("dynamic-masks-seven", {"dynamic_masks": masks(7)}, "dynamic_masks"),
    ("dynamic-masks-one-point", {"dynamic_masks": masks(trajectories=points(1))},
     "dynamic_masks.trajectories"),
    ("dynamic-masks-78-points", {"dynamic_masks": masks(trajectories=points(78))},
     "dynamic_masks.trajectories"),
    ("dynamic-masks-float-point", {"dynamic_masks": masks(trajectories=[{"x": 1.5, "y": 2}] * 2)},
     "dynamic_masks.trajectories"),
    ("dynamic-masks-bool-point", {"dynamic_masks": masks(trajectories=[{"x": True, "y": 2}] * 2)},
     "dynamic_masks.trajectories"),
    ("dynamic-masks-empty-mask", {"dynamic_masks": masks(mask="")}, "dynamic_masks.mask"),
    ("dynamic-masks-string", {"dynamic_masks": "mask"}, "dynamic_masks"),
    ("dynamic-masks-item-not-mapping", {"dynamic_masks": [42]}, "dynamic_masks"),
    # provider, encoding, typos
    ("provider-unknown", {"provider": "replicate"}, "provider"),
    ("provider-empty-string", {"provider": ""}, "provider"),
    ("provider-int", {"provider": 3}, "provider"),
    ("image-encoding-hex", {"image_encoding": "hex"}, "image_encoding"),
    ("unknown-field-typo", {"promt": "a cat"}, "promt"),
]


def test_at_least_forty_kinds() -> None:
    assert len({name for name, _, _ in BAD}) == len(BAD) >= 40


@pytest.mark.parametrize(("fields", "field"), [pytest.param(f, n, id=i) for i, f, n in BAD])
async def test_rejected_before_any_request(fields: dict[str, Any], field: str, tmp_path: Path) -> None:
    recorder = mock(serve)
    fields = {"image": OK, **fields}
    async with AsyncKlingClient(KEY, API, transport=recorder, out_dir=tmp_path) as client:
        with pytest.raises(errors.ValidationError) as caught, warnings.catch_warnings():
            warnings.simplefilter("ignore", IgnoredFieldWarning)
            await client.submit(**fields)
    error = caught.value
    assert error.field == field
    assert str(error).startswith(f"{field}: ") and "Nothing was sent" in str(error)
    assert len(str(error)) < 700  # a 10 MB image or a 5,000-character URL is shortened
    assert recorder.posts == []
    assert [r.url for r in recorder.requests if r.url.host == "api.test"] == []
    assert all(r.url.host == "images.test" or r.url.port == 0 for r in recorder.requests)
    if (tmp_path / "journal.sqlite3").exists():
        with Journal.in_dir(tmp_path) as journal:
            assert journal.entries() == []


async def test_the_fake_gateway_would_accept_a_good_request(tmp_path: Path) -> None:
    """The cases above fail for their bad field, not because this setup rejects everything."""
    recorder = mock(serve)
    async with AsyncKlingClient(KEY, API, transport=recorder, out_dir=tmp_path) as client:
        generation = await client.submit(image=OK, prompt="a cat", duration="10")
    assert generation.status == "queued"
    assert len(recorder.posts) == 1
