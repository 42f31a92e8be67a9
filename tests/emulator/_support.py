"""Helpers shared by the emulator tests: schema checks, polling, video probing, a manual clock."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from owned import schema

MODEL = "klingai/v2.1-master-image-to-video"
PATHS = {"universal": "/v2/video/generations", "legacy": "/v2/generate/video/kling/generation"}
SCHEMA_FILES = {
    "universal": "universal-endpoint.openapi.json",
    "legacy": "legacy-kling-endpoint.openapi.json",
}
DONE = ("completed", "error")


def _validators() -> dict[tuple[str, str], OAS30Validator]:
    validators = {}
    for flavor, name in SCHEMA_FILES.items():
        document = schema(name)
        operations = document["paths"][PATHS[flavor]]
        for method in ("post", "get"):
            content = operations[method]["responses"]["200"]["content"]["application/json"]
            validators[(flavor, method)] = OAS30Validator(
                content["schema"], format_checker=oas30_format_checker
            )
    return validators


_VALIDATORS: dict[tuple[str, str], OAS30Validator] = {}


def check_schema(flavor: str, method: str, body: Any) -> Any:
    """Assert ``body`` matches the published 200 response schema of ``flavor``'s ``method``."""
    if not _VALIDATORS:
        _VALIDATORS.update(_validators())
    errors = [error.message for error in _VALIDATORS[(flavor, method)].iter_errors(body)]
    assert not errors, f"{flavor} {method} response breaks its schema: {errors} in {body}"
    return body


_SERVICE_VALIDATORS: dict[tuple[str, str], OAS30Validator] = {}


def check_service(name: str, body: Any, method: str = "get") -> Any:
    """Assert ``body`` matches the 200 response of the service schema ``service/<name>.json``."""
    if (name, method) not in _SERVICE_VALIDATORS:
        (operations,) = schema(f"service/{name}.json")["paths"].values()
        content = operations[method]["responses"]["200"]["content"]["application/json"]
        _SERVICE_VALIDATORS[(name, method)] = OAS30Validator(
            content["schema"], format_checker=oas30_format_checker
        )
    validator = _SERVICE_VALIDATORS[(name, method)]
    errors = [error.message for error in validator.iter_errors(body)]
    assert not errors, f"{name} {method} response breaks its schema: {errors} in {body}"
    return body


def error_fields(body: dict[str, Any], status: int) -> None:
    """Assert the gateway's error shape."""
    assert set(body) >= {"message", "path", "requestId", "statusCode", "timestamp"}, body
    assert body["statusCode"] == status
    assert body["timestamp"].endswith("Z")


async def poll(
    client: httpx.AsyncClient,
    flavor: str,
    generation_id: str,
    interval: float = 0.1,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Poll a generation until it is done; every response is schema-checked and returned."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.get(PATHS[flavor], params={"generation_id": generation_id})
        assert response.status_code == 200, response.text
        seen.append(check_schema(flavor, "get", response.json()))
        if seen[-1]["status"] in DONE:
            return seen
        await asyncio.sleep(interval)
    raise AssertionError(f"{generation_id} not done after {timeout} s: {seen[-1:]}")


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    pix_fmt: str
    fps: float
    duration: float
    frames: int
    width: int
    height: int


def probe(data: bytes) -> VideoInfo:
    """Decode every frame with PyAV and report what a client would check."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert container.duration is not None
        return VideoInfo(
            codec=stream.codec_context.name,
            pix_fmt=str(stream.codec_context.pix_fmt),
            fps=float(stream.average_rate or 0),
            duration=container.duration / 1_000_000,
            frames=frames,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
        )


class ManualClock:
    """An injectable clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def png(width: int, height: int, blue: int = 200) -> bytes:
    """A generated PNG: brighter to the right and downwards, so motion shows in the frames."""
    import numpy as np
    from PIL import Image

    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None, None]
    pixels = np.broadcast_to((x // 2 + y // 2), (height, width, 3)).copy()
    pixels[..., 2] = blue
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def raw_request(method: str, path: str, key: str, body: bytes = b"", **headers: str) -> bytes:
    """One HTTP/1.1 request as bytes, for tests that need to see the TCP connection itself."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {key}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def raw_exchange(port: int, *requests: bytes, timeout: float = 10.0) -> bytes:
    """Send ``requests`` on one connection and read until the server closes it.

    A TCP reset surfaces as ``ConnectionResetError``; a polite close just ends the bytes.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        for request in requests:
            sock.sendall(request)
        received = []
        while chunk := sock.recv(65536):
            received.append(chunk)
    return b"".join(received)
