"""The HTTP layer: the CDN's byte ranges, HEAD, keep-alive, and requests it refuses."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, raw_exchange, raw_request


@pytest.fixture
async def video(
    emulator: Emulator, http: httpx.AsyncClient, mushroom_uri: str
) -> tuple[str, bytes]:
    created = await http.post(
        PATHS["universal"], json={"model": MODEL, "image_url": mushroom_uri}
    )
    assert created.status_code == 200
    emulator.complete_all_now()
    url = emulator.generations()[created.json()["id"]]["video_url"]
    assert url is not None
    async with httpx.AsyncClient() as anonymous:  # result URLs need no key
        whole = await anonymous.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(whole.content)
    return url, whole.content


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-100", -100, None),
     ("bytes=50-10000000", 50, None), ("bytes=0-0", 0, 0)],
)  # fmt: skip
async def test_byte_ranges(
    video: tuple[str, bytes], header: str, start: int, end: int | None
) -> None:
    url, whole = video
    size = len(whole)
    async with httpx.AsyncClient() as http:
        part = await http.get(url, headers={"Range": header})
    expected = whole[start : None if end is None else end + 1]
    first = start % size
    assert part.status_code == 206
    assert part.content == expected
    assert part.headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{size}"
    assert part.headers["content-type"] == "video/mp4"


async def test_unsatisfiable_and_unusual_ranges(video: tuple[str, bytes]) -> None:
    url, whole = video
    async with httpx.AsyncClient() as http:
        beyond = await http.get(url, headers={"Range": f"bytes={len(whole)}-"})
        several = await http.get(url, headers={"Range": "bytes=0-1,5-9"})
        odd_unit = await http.get(url, headers={"Range": "items=0-1"})
        head = await http.head(url)
        unknown = await http.get(url.replace("/output.mp4", "/other.mp4"))
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(whole)}"
    assert several.status_code == odd_unit.status_code == 200
    assert several.content == odd_unit.content == whole
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole)
    assert unknown.status_code == 404


def test_keep_alive_serves_several_requests_on_one_connection(emulator: Emulator) -> None:
    key = emulator.api_key
    query = f"{PATHS['universal']}?generation_id=missing"
    replies = raw_exchange(
        emulator.port,
        raw_request("GET", query, key),
        raw_request("GET", query, key),
        raw_request("GET", query, key, Connection="close"),
    )
    assert replies.count(b"HTTP/1.1 404 Not Found\r\n") == 3
    assert b"Connection: close" in replies  # and then it closed, or raw_exchange would hang


def test_expect_100_continue(emulator: Emulator, mushroom_b64: str) -> None:
    body = json.dumps({"model": MODEL, "image_url": mushroom_b64}).encode()
    request = raw_request("POST", PATHS["legacy"], emulator.api_key, body, Expect="100-continue",
                          Connection="close")  # fmt: skip
    reply = raw_exchange(emulator.port, request)
    assert reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert len(emulator.stats()["created"]) == 1


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"505"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST /v2/video/generations HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"501"),
        (b"POST / HTTP/1.1\r\nContent-Length: nine\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", b"413"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"x" * 70000 + b"\r\n\r\n", b"431"),
    ],
)
def test_requests_the_server_refuses(
    emulator: Emulator, request_bytes: bytes, status: bytes
) -> None:
    reply = raw_exchange(emulator.port, request_bytes)
    assert reply.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in reply


def test_a_client_leaving_mid_body_is_not_an_error(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    request = raw_request("POST", PATHS["universal"], emulator.api_key, b"x" * 100)
    with socket.create_connection(("127.0.0.1", emulator.port)) as sock:
        sock.sendall(request[:-90])  # the head and a tenth of the promised body
    time.sleep(0.2)
    answer = httpx.get(f"{emulator.base_url}/v2/video/generations")
    assert answer.status_code == 401  # still serving
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert emulator.stats()["created"] == []
