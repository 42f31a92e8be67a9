"""Every request body the client sends validates against the published request schema of its
endpoint (openapi-schema-validator, a validator nobody here wrote, with ``format: uri`` checked):
for every kind of image input (an http(s) URL, a path as ``Path`` and as text, bytes, a PIL
image, a data URI) and every optional field, on both endpoint pairs, as recorded on its way to
the emulator over a real socket.
"""

from __future__ import annotations

import base64
import io
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulated import client_for
from loopback import loopback_server
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from owned import image, schema
from PIL import Image

from kling_notebook import IgnoredFieldWarning
from kling_notebook.emulator import Emulator

from ._support import Recorder

JPEG = image("mushroom.jpg")
PATHS = {"universal": "/v2/video/generations", "legacy": "/v2/generate/video/kling/generation"}
FILES = {"universal": "universal-endpoint.openapi.json", "legacy": "legacy-kling-endpoint.openapi.json"}


def request_validator(endpoint: str) -> OAS30Validator:
    operation = schema(FILES[endpoint])["paths"][PATHS[endpoint]]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    return OAS30Validator(body, format_checker=oas30_format_checker)


#: Each kind of image input, made from the test's folder and the image host's URL.
IMAGES: dict[str, Callable[[Path, str], Any]] = {
    "url": lambda folder, url: url,
    "path": lambda folder, url: folder / "frame.jpg",
    "path text": lambda folder, url: str(folder / "frame.jpg"),
    "bytes": lambda folder, url: JPEG,
    "PIL image": lambda folder, url: Image.open(io.BytesIO(JPEG)),
    "data URI": lambda folder, url: "data:image/jpeg;base64," + base64.b64encode(JPEG).decode(),
}
#: Every optional field, in sets Kling allows together (masks and camera control exclude each other).
FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "required only": lambda url: {},
    "texts, 10 s, cfg": lambda url: {
        "prompt": "a lighthouse at dusk, waves", "negative_prompt": "blur, distort",
        "duration": 10, "cfg_scale": 0.3,
    },
    "camera simple": lambda url: {"camera_control": {"type": "simple", "config": {"zoom": 5}}},
    "camera preset": lambda url: {"camera_control": {"type": "down_back"}},
    "masks": lambda url: {
        "static_mask": url,
        "dynamic_masks": [{"mask": url, "trajectories": [{"x": 10, "y": 20}, {"x": 30, "y": 40}]}],
    },
    "provider": lambda url: {"provider": "fal"},
}


@pytest.fixture(scope="module")
def frame_url() -> Iterator[str]:
    with loopback_server(lambda _request: (200, {"Content-Type": "image/jpeg"}, JPEG)) as base:
        yield f"{base}/frame.jpg"


async def sent_bodies(emulator: Emulator, folder: Path, endpoint: str, frame_url: str,
                      **options: Any) -> list[tuple[str, dict[str, Any]]]:
    """Submit every image kind with every field set; the bodies as they went out, labelled."""
    (folder / "frame.jpg").write_bytes(JPEG)
    recorder = Recorder(httpx.AsyncHTTPTransport())
    labels = []
    async with client_for(emulator, folder / "out", transport=recorder, endpoint=endpoint) as client:
        for kind, make_image in IMAGES.items():
            for name, make_fields in FIELDS.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", IgnoredFieldWarning)  # v2.x ignores cfg_scale
                    await client.submit(image=make_image(folder, frame_url), **make_fields(frame_url), **options)
                labels.append(f"{kind} / {name}")
    posts = [json.loads(request.content) for request in recorder.posts]
    assert len(posts) == len(labels)  # one POST per submit, nothing retried
    return list(zip(labels, posts, strict=True))


@pytest.mark.parametrize("endpoint", ["universal", "legacy"])
async def test_every_body_the_client_sends_validates(emulator, tmp_path, frame_url, endpoint):
    validator = request_validator(endpoint)
    bodies = await sent_bodies(emulator, tmp_path, endpoint, frame_url)
    failures = {label: [e.message for e in validator.iter_errors(body)] for label, body in bodies}
    assert not {label: errors for label, errors in failures.items() if errors}
    seen = {key for _, body in bodies for key in body}
    assert seen >= {"model", "image_url", "prompt", "negative_prompt", "duration", "cfg_scale",
                    "camera_control", "static_mask", "dynamic_masks", "provider"}
    images = {body["image_url"].split(",")[0] for _, body in bodies}
    assert images == {frame_url, "data:image/jpeg;base64"}  # a local image goes as a data URI


async def test_bare_base64_asked_for_validates_where_the_schema_takes_it(emulator, tmp_path, frame_url):
    """``image_encoding='raw'`` (what Kling's own API takes) fits the legacy schema's plain
    string; the universal schema's ``format: uri`` refuses it, which is why it is not the default."""
    bodies = await sent_bodies(emulator, tmp_path, "legacy", frame_url, image_encoding="raw")
    legacy = request_validator("legacy")
    assert all(legacy.is_valid(body) for _, body in bodies)
    local = [body for label, body in bodies if not label.startswith(("url", "data URI"))]
    size = Image.open(io.BytesIO(JPEG)).size  # a PIL image is encoded anew: the same picture
    assert local and all(
        Image.open(io.BytesIO(base64.b64decode(body["image_url"], validate=True))).size == size
        for body in local
    )
    assert not any(request_validator("universal").is_valid(body) for body in local)
