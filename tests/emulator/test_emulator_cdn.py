"""The CDN: validators and If-Range, and each way it misbehaves for a client's hardening tests."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from kling_notebook.emulator import Emulator
from kling_notebook.emulator._cdn_faults import EXTRA_BYTES

from ._support import MODEL, PATHS, probe

Made = Callable[..., tuple[Emulator, str, int]]


@pytest.fixture
def video(make_emulator: Callable[..., Emulator], mushroom_uri: str) -> Made:
    """An emulator with one completed generation whose first download has ``faults``:
    (emulator, video URL, the video's size from a HEAD, which spends no download)."""

    def make(faults: str = "") -> tuple[Emulator, str, int]:
        emu = make_emulator(faults=faults)
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        body = {"model": MODEL, "image_url": mushroom_uri}
        created = httpx.post(emu.base_url + PATHS["universal"], json=body, headers=headers)
        emu.complete_all_now()
        url = emu.generations()[created.json()["id"]]["video_url"]
        assert url is not None
        return emu, url, int(httpx.head(url).headers["content-length"])

    return make


def _read_raw(url: str, timeout: float = 10.0) -> tuple[dict[str, str], bytes]:
    """GET ``url`` on a fresh socket and read until the server closes or resets the connection:
    (headers, what arrived of the body)."""
    parts = urlsplit(url)
    request = f"GET {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
    request += f"Host: {parts.netloc}\r\nConnection: close\r\n\r\n"
    received = b""
    with socket.create_connection(("127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        sock.sendall(request.encode())
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # keep what arrived before the reset
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    headers[":status"] = lines[0].split(" ")[1]
    return headers, body


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def test_validators_and_if_range(video: Made) -> None:
    _, url, _ = video()
    whole = httpx.get(url).content
    head = httpx.head(url)
    etag, modified = head.headers["etag"], head.headers["last-modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    by_etag = httpx.get(url, headers={"Range": "bytes=100-", "If-Range": etag})
    by_date = httpx.get(url, headers={"Range": "bytes=100-", "If-Range": modified})
    stale = httpx.get(url, headers={"Range": "bytes=100-", "If-Range": '"not-this-one"'})
    assert by_etag.status_code == by_date.status_code == 206
    assert by_etag.headers["content-range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert by_etag.content == whole[100:]
    assert stale.status_code == 200 and stale.content == whole
    assert stale.headers["etag"] == etag


def test_no_length_is_close_delimited_and_short(video: Made) -> None:
    emu, url, size = video("download#1:no_length")
    headers, body = _read_raw(url)
    assert headers[":status"] == "200" and "content-length" not in headers
    assert len(body) == size // 2  # ended by a polite close: looks complete
    assert httpx.get(url).content.startswith(body)
    assert emu.stats()["faults"] == {"download:no_length": 1}


def test_short_length_announces_less_than_the_file(video: Made) -> None:
    emu, url, size = video("download#1:short_length")
    with httpx.Client() as http:
        short = http.get(url)
        full = http.get(url)  # the same keep-alive connection serves on
    assert short.status_code == 200
    assert int(short.headers["content-length"]) == len(short.content) == size * 3 // 4
    assert len(full.content) == size and full.content.startswith(short.content)
    assert emu.stats()["downloads"]["served"] == 1  # the short one was the fault


def test_long_body_sends_more_than_announced(video: Made) -> None:
    _, url, size = video("download#1:long_body")
    headers, body = _read_raw(url)
    assert int(headers["content-length"]) == size
    assert len(body) == size + EXTRA_BYTES and body.startswith(httpx.get(url).content)


def test_a_changed_object_splices_unless_if_range_is_sent(video: Made) -> None:
    emu, url, size = video("download#1:changed")
    before = httpx.head(url).headers
    headers, kept = _read_raw(url)  # reset mid-body
    assert headers["etag"] == before["etag"] and 0 < len(kept) < size
    resume = {"Range": f"bytes={len(kept)}-"}
    guarded = httpx.get(url, headers={**resume, "If-Range": before["etag"]})
    blind = httpx.get(url, headers=resume)
    new = guarded.content
    assert guarded.status_code == 200 and new[: len(kept)] != kept
    assert guarded.headers["etag"] == _etag(new)
    assert guarded.headers["etag"] != before["etag"]
    assert guarded.headers["last-modified"] != before["last-modified"]
    assert blind.status_code == 206 and blind.content == new[len(kept) :]
    assert blind.headers["content-range"].endswith(f"/{len(new)}")
    spliced = kept + blind.content
    assert _etag(spliced) not in (before["etag"], guarded.headers["etag"])
    assert probe(new).frames == 120  # the new version is a proper clip
    assert emu.stats()["faults"] == {"download:changed": 1}


def test_a_redirect_loop(video: Made) -> None:
    emu, url, _ = video("download#1:redirect_loop")
    first = httpx.get(url)
    assert first.status_code == 302 and first.headers["location"].endswith("?loop=1")
    back = httpx.get(emu.base_url + first.headers["location"])
    assert back.status_code == 302 and back.headers["location"] == urlsplit(url).path
    with pytest.raises(httpx.TooManyRedirects):
        httpx.get(url, follow_redirects=True)
    assert emu.stats()["faults"] == {"download:redirect_loop": 1}


def test_a_stall_then_a_good_download(video: Made) -> None:
    emu, url, size = video("download#1:stall")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=httpx.Timeout(5, read=0.3))
    assert time.monotonic() - started < 2
    assert len(httpx.get(url).content) == size
    stopping = time.monotonic()
    emu.stop()
    assert time.monotonic() - stopping < 2


def test_a_trickle(video: Made) -> None:
    _, url, size = video("download#1:trickle,byte_delay=0.01")
    received = 0
    started = time.monotonic()
    with httpx.stream("GET", url) as response:
        assert int(response.headers["content-length"]) == size
        for chunk in response.iter_raw():
            received += len(chunk)
            if time.monotonic() - started > 0.5:
                break
    assert 5 < received < 100  # a byte at a time, every 10 ms
    assert len(httpx.get(url).content) == size
