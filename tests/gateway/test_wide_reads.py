"""Wide socket reads: the download client asks its sockets for 256 KiB at a time, not 64 KiB, and
everything else about the stream (writes, TLS, closing) passes through unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import pytest
from fakes import MP4_HEAD
from loopback import loopback_server

from kling_notebook import AsyncKlingClient, Generation
from kling_notebook.gateway._wide_reads import READ_BYTES, WideReadBackend, widen_reads


class RecordingStream(httpcore.AsyncNetworkStream):
    """A network stream that records what it is asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(("read", max_bytes))
        return b"x"

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.asked.append(("write", buffer))

    async def aclose(self) -> None:
        self.asked.append(("close", None))

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        self.asked.append(("tls", server_hostname))
        return self

    def get_extra_info(self, info: str) -> Any:
        return f"info:{info}"


class RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.stream = RecordingStream()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> RecordingStream:
        return self.stream


async def test_reads_ask_for_at_least_256_kib_and_the_rest_passes_through():
    inner = RecordingBackend()
    stream = await WideReadBackend(inner).connect_tcp("example.test", 443)
    await stream.read(65536)
    await stream.read(READ_BYTES * 4)  # a larger ask stays larger
    secure = await stream.start_tls(ssl_context=None, server_hostname="example.test")  # type: ignore[arg-type]
    await secure.read(65536)  # the TLS stream reads widely too
    await secure.write(b"GET /")
    await secure.aclose()
    assert inner.stream.asked == [
        ("read", READ_BYTES), ("read", READ_BYTES * 4), ("tls", "example.test"),
        ("read", READ_BYTES), ("write", b"GET /"), ("close", None),
    ]
    assert secure.get_extra_info("server_addr") == "info:server_addr"


async def test_widen_reads_changes_httpx_pools_once_and_leaves_mock_transports_alone():
    async with httpx.AsyncClient() as real:
        assert widen_reads(real) == 1
        assert widen_reads(real) == 0  # never wrapped twice
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as mock:
        assert widen_reads(mock) == 0


async def test_proxy_mounts_get_wide_reads_too(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    async with httpx.AsyncClient() as behind_proxy:
        assert widen_reads(behind_proxy) == 2  # the direct transport and the https:// proxy mount


BODY = MP4_HEAD + bytes(range(256)) * (16 * 1024)  # about 4 MB


@pytest.fixture
def video_server() -> Iterator[str]:
    """A real HTTP server on loopback that sends :data:`BODY` in one write."""
    with loopback_server(lambda _request: (200, {"Content-Type": "video/mp4"}, BODY)) as base_url:
        yield f"{base_url}/video.mp4"


async def test_a_real_download_arrives_in_pieces_larger_than_64_kib(video_server, tmp_path):
    steps: list[int] = []
    done = Generation(id="wide", status="completed", video_url=video_server)
    async with AsyncKlingClient("key-0123456789", "http://127.0.0.1:9", journal=False) as client:
        seen = [0]

        def on_progress(received: int, total: int | None) -> None:
            steps.append(received - seen[0])
            seen[0] = received

        path = await client.download(done, tmp_path / "v.mp4", on_progress=on_progress)
        pool = client._clients().plain._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, WideReadBackend)
    assert path.read_bytes() == BODY
    assert max(steps) > 1 << 16, f"every piece was at most 64 KiB: {sorted(set(steps))[-3:]}"
    assert max(steps) <= READ_BYTES


async def test_streamed_api_calls_give_their_permit_back_whatever_the_transport() -> None:
    """A transport that answers with a body already read (a mock, a cache) still frees the slot."""
    from kling_notebook.gateway._pool import MAX_IN_FLIGHT, GatedAsyncClient

    async with GatedAsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))) as http:
        for _ in range(MAX_IN_FLIGHT + 5):
            response = await http.send(http.build_request("GET", "https://api.test/"), stream=True)
            await response.aclose()
        assert http._gate._value == MAX_IN_FLIGHT
