"""The key never leaves the Authorization header: echoed back by a server or proxy into an error
body it is scrubbed from every text; a key an HTTP header cannot carry is refused before anything
is sent, without showing it; and it never travels to another machine over plain http."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from fakes import GEN_ID, KEY
from loopback import loopback_server

from kling_notebook import AsyncKlingClient, RetryPolicy, errors


def texts(error: errors.KlingError) -> list[str]:
    return [str(error), error.hint, json.dumps(getattr(error, "body", None), default=str)]


async def test_a_server_echoing_the_key_into_its_error_never_gets_it_shown(caplog: pytest.LogCaptureFixture) -> None:
    def echo(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        said = request.headers["Authorization"]
        body = {"message": f"rejected {said}\x1b[31m with key {said.split()[-1]}", "echo": {"authorization": said}}
        return 401, {"Content-Type": "application/json", "X-Echo": said}, json.dumps(body).encode()

    with loopback_server(echo) as url, caplog.at_level(logging.DEBUG, logger="kling_notebook"):
        async with AsyncKlingClient(KEY, url, retry=RetryPolicy(max_attempts=1), journal=False) as client:
            with pytest.raises(errors.AuthenticationError) as caught:
                await client.get(GEN_ID)
    shown = texts(caught.value)
    assert all(KEY not in text for text in shown), shown
    assert "[key]" in str(caught.value) and "\x1b" not in str(caught.value)
    assert KEY not in "\n".join(r.getMessage() for r in caplog.records if r.name == "kling_notebook")


async def test_an_echoed_key_never_reaches_the_journal(tmp_path, jpeg) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"message": "upstream said: " + request.headers["authorization"]})

    async with AsyncKlingClient(KEY, "https://api.test", out_dir=tmp_path, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(errors.SubmissionUncertainError) as caught:
            await client.submit(image=jpeg)
        entries = client.journal.entries()
    assert KEY not in str(caught.value)
    assert entries and all(KEY not in (entry.error or "") for entry in entries)
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes()


@pytest.mark.parametrize(("key", "words"), [
    (KEY + "\r\nX-Injected: 1", "a line break"),
    ("sk-\u00e9t\u00e9-" + KEY, "a non-ASCII character"),
    ("sk test " + KEY, "a space"),
])
async def test_a_key_a_header_cannot_carry_is_refused_before_sending(key: str, words: str, no_network: httpx.MockTransport) -> None:
    with pytest.raises(errors.ConfigurationError) as caught:
        AsyncKlingClient(key, "https://api.test", transport=no_network, journal=False)
    assert words in str(caught.value) and "nothing was sent" in str(caught.value)
    assert key not in str(caught.value) and KEY not in str(caught.value) + caught.value.hint


def test_plain_http_to_another_machine_is_refused_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.ConfigurationError, match="unencrypted") as caught:
        AsyncKlingClient(KEY, "http://gateway.example.com", journal=False)
    assert KEY not in str(caught.value)
    AsyncKlingClient(KEY, "http://127.0.0.1:9", journal=False)  # this machine: an emulator
    AsyncKlingClient(KEY, "http://gateway.example.com", journal=False, allow_http=True)
    monkeypatch.setenv("KLING_NOTEBOOK_ALLOW_HTTP", "1")
    AsyncKlingClient(KEY, "http://gateway.example.com", journal=False)


def test_the_gateway_sdks_base_url_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMLAPI_API_BASE", "https://api.test/v1")
    assert AsyncKlingClient(KEY, journal=False).base_url == "https://api.test"
