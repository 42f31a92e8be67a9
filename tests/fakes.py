"""Test doubles of the core unit tests: a scripted fake gateway, a fake clock, small images.

Nothing here touches the network or sleeps for real: the gateway is an ``httpx.MockTransport`` and
the clock advances instantly while recording every delay the client asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from PIL import Image

API = "https://api.test"
API_HOST = "api.test"
KEY = "sk-test-SECRET-7f3a9c51d2"
GEN_ID = "8c4a3f1e-0b7d-4c1e-9a55-2f1d3b7e6a10:kling-video/v2.1/master/image-to-video"
VIDEO_URL = "https://cdn.test/generations/out.mp4"
IMAGE_URL = "https://images.test/frame.jpg"
UNIVERSAL = "/v2/video/generations"
#: The top-level boxes of an MP4 (the download checks them before saving): ``ftyp``, an empty
#: ``moov``, and the header of an ``mdat`` box that runs to the end of the file (size 0), so any
#: bytes appended make a whole MP4.
MP4_HEAD = (
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08moov" + b"\x00\x00\x00\x00mdat"
)
LEGACY = "/v2/generate/video/kling/generation"


class FakeClock:
    """A :class:`kling_notebook.domain.retry.Clock` whose sleep advances time at once and is recorded.

    ``real_sleep`` (seconds) lets other tasks and threads run between steps where a test needs it.
    """

    def __init__(self, start: float = 1000.0, real_sleep: float = 0.0) -> None:
        self.t = start
        self.sleeps: list[float] = []
        self.real_sleep = real_sleep

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(self.real_sleep)


def gen_body(
    status: str = "completed",
    *,
    id: str = GEN_ID,
    url: str | None = VIDEO_URL,
    error: dict[str, str] | None = None,
    credits: float | None = None,
) -> dict[str, Any]:
    """A gateway response body for one generation."""
    body: dict[str, Any] = {"id": id, "status": status}
    if status == "completed" and url:
        body["video"] = {"url": url, "content_type": "video/mp4", "file_name": "out.mp4"}
    if error:
        body["error"] = error
    if credits is not None:
        body["meta"] = {"usage": {"credits_used": credits}}
    return body


def error_response(status: int, message: str = "something went wrong", **headers: str) -> httpx.Response:
    body = {
        "message": message,
        "path": UNIVERSAL,
        "requestId": f"req-{status}-abc",
        "statusCode": status,
        "timestamp": "2026-11-23T19:00:00.000Z",
    }
    return httpx.Response(status, json=body, headers=headers)


class PiecesStream(httpx.AsyncByteStream):
    """A body that arrives in 64 KiB pieces, as over a socket; with ``cut``, it sends
    ``data[:cut]`` and then fails like a reset connection."""

    PIECE = 1 << 16

    def __init__(self, data: bytes, cut: int | None = None) -> None:
        self.data = data
        self.cut = cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = self.data if self.cut is None else self.data[: self.cut]
        for start in range(0, len(sent), self.PIECE):
            yield sent[start : start + self.PIECE]
        if self.cut is not None:
            raise httpx.ReadError("connection reset by peer")


Step = Any  # dict (200 JSON) | int (error status) | httpx.Response | exception | callable(request)


class FakeGateway:
    """The gateway at ``api.test`` playing a script, plus file hosts (images, videos) elsewhere.

    ``post(...)`` / ``get(...)`` queue steps for the API; once the queue is empty the last step
    played repeats.
    ``serve(url, data)`` publishes a file (with a strong ETag of its bytes, honouring ``If-Range``);
    ``faults[url]`` lists what goes wrong on the next requests for it: ("cut", n) stops after n
    bytes, ("short", n) sends n bytes but announces all, an int answers that status.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._scripts: dict[str, list[Step]] = {"POST": [], "GET": []}
        self._last: dict[str, Step] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, list[Any]] = {}
        self.honour_range: bool = True
        self.transport = httpx.MockTransport(self.handle)

    # -- scripting ------------------------------------------------------------------------------

    def post(self, *steps: Step) -> FakeGateway:
        self._scripts["POST"].extend(steps)
        return self

    def get(self, *steps: Step) -> FakeGateway:
        self._scripts["GET"].extend(steps)
        return self

    def serve(self, url: str, data: bytes, content_type: str = "video/mp4") -> FakeGateway:
        self.files[url] = (data, content_type)
        return self

    # -- what was asked -------------------------------------------------------------------------

    @property
    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def status_reads(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "GET" and r.url.host == API_HOST]

    def to_host(self, host: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host]

    def post_json(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.posts[index].content)

    # -- serving --------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host != API_HOST or str(request.url.copy_with(query=None)) in self.files:
            return self._file(request)
        script = self._scripts[request.method]
        if script:
            step = self._last[request.method] = script.pop(0)
        elif request.method in self._last:
            step = self._last[request.method]
        else:
            raise AssertionError(f"unexpected {request.method} {request.url}")
        return self._play(step, request)

    def _play(self, step: Step, request: httpx.Request) -> httpx.Response:
        if callable(step) and not isinstance(step, type):
            step = step(request)
        if isinstance(step, type) and issubclass(step, BaseException):
            step = step("simulated failure", request=request) if issubclass(step, httpx.RequestError) else step()
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, dict):
            return httpx.Response(200, json=step)
        if isinstance(step, int):
            return error_response(step)
        if isinstance(step, httpx.Response):  # a fresh copy: a script step may repeat
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        raise TypeError(f"bad script step {step!r}")

    def _file(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        if url not in self.files:
            return httpx.Response(404, text="not found")
        data, content_type = self.files[url]
        fault = self.faults.get(url, []).pop(0) if self.faults.get(url) else None
        if isinstance(fault, int):
            return httpx.Response(fault, text="file host trouble")
        status, start = 200, 0
        wanted = request.headers.get("range")
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if request.headers.get("if-range", etag) != etag:
            wanted = None  # the kept bytes are of another version: the whole file
        if wanted and self.honour_range:
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            status = 206
        body = data[start:]
        headers = {"content-type": content_type, "content-length": str(len(body)), "etag": etag}
        if status == 206:
            headers["content-range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if fault and fault[0] == "cut":
            return httpx.Response(status, headers=headers, stream=PiecesStream(body, fault[1]))
        if fault and fault[0] == "short":
            body = body[: fault[1]]
        return httpx.Response(status, headers=headers, stream=PiecesStream(body))


def image_bytes(width: int = 640, height: int = 480, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """A small real image in ``fmt`` made with Pillow."""
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (200, 120, 40) if mode == "RGB" else None).save(buffer, format=fmt)
    return buffer.getvalue()
