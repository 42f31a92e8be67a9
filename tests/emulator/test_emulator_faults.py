"""Every fault kind, injected on demand, with exact accounting of what was injected and created."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from kling_notebook.emulator import Emulator, parse_faults

from ._support import MODEL, PATHS, error_fields, poll, probe, raw_exchange, raw_request

UNIVERSAL = PATHS["universal"]


@pytest.fixture
def body(mushroom_uri: str) -> dict[str, str]:
    return {"model": MODEL, "image_url": mushroom_uri}


def http_client(emu: Emulator, timeout: float = 30.0) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    return httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=timeout)


def test_the_spec_language() -> None:
    spec = parse_faults(
        "post:429=0.2, get:503=0.1,get:reset_after=0.05,job:error=0.1,credits_after=3,"
        "download:fail_once=1,post#1:reset_after,delay=2.5,retry_after=7,seed=9"
    )
    assert spec.rates == {
        "post": (("429", 0.2),),
        "get": (("503", 0.1), ("reset_after", 0.05)),
        "job": (("error", 0.1),),
        "download": (("fail_once", 1.0),),
    }
    assert spec.scripts == {("post", 1): "reset_after"}
    assert (spec.credits_after, spec.delay, spec.retry_after, spec.seed) == (3, 2.5, 7, 9)
    assert parse_faults("") == parse_faults(" , ")


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("put:429=0.1", "unknown scope"),
        ("post:418=0.1", "has no kind"),
        ("job:reset_after=0.1", "has no kind"),
        ("post:429=1.5", "above 1"),
        ("post:429=0.6,post:503=0.6", "more than 1"),
        ("post:429", "needs a rate"),
        ("post#0:429", "N >= 1"),
        ("post#1:429=0.5", "N >= 1"),
        ("post:429=often", "must be a number"),
        ("credits_after=-1", "must not be negative"),
        ("nonsense", "cannot read"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_faults(spec)


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "504"])
async def test_status_faults_on_create_create_nothing(
    make_emulator: Callable[..., Emulator], body: dict[str, str], kind: str
) -> None:
    emu = make_emulator(faults=f"post#1:{kind},retry_after=3")
    async with http_client(emu) as http:
        failed = await http.post(UNIVERSAL, json=body)
        assert emu.stats()["created"] == []
        assert (await http.post(UNIVERSAL, json=body)).status_code == 200
    assert failed.status_code == int(kind)
    error_fields(failed.json(), int(kind))
    assert (failed.headers.get("Retry-After") == "3") == (kind == "429")
    assert emu.stats()["faults"] == {f"post:{kind}": 1}
    assert emu.stats()["requests"][f"POST {UNIVERSAL}"] == {kind: 1, "200": 1}
    assert len(emu.stats()["created"]) == 1


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "504"])
async def test_status_faults_on_polls(
    make_emulator: Callable[..., Emulator], body: dict[str, str], kind: str
) -> None:
    emu = make_emulator(faults=f"get#1:{kind}")
    async with http_client(emu) as http:
        gen_id = (await http.post(PATHS["legacy"], json=body)).json()["id"]
        params = {"generation_id": gen_id}
        failed = await http.get(PATHS["legacy"], params=params)
        assert (await http.get(PATHS["legacy"], params=params)).status_code == 200
    assert failed.status_code == int(kind)
    assert emu.stats()["faults"] == {f"get:{kind}": 1}


async def test_reset_before_the_body_is_read_creates_nothing(
    emulator: Emulator, body: dict[str, str]
) -> None:
    emulator.set_faults("post#1:reset_before,post#2:reset_before")
    request = raw_request("POST", UNIVERSAL, emulator.api_key, json.dumps(body).encode())
    with pytest.raises(ConnectionResetError):  # a real TCP reset, not a polite close
        raw_exchange(emulator.port, request)
    async with http_client(emulator) as http:
        with pytest.raises(httpx.TransportError):
            await http.post(UNIVERSAL, json=body)
        assert (await http.post(UNIVERSAL, json=body)).status_code == 200
    stats = emulator.stats()
    assert stats["faults"] == {"post:reset_before": 2}
    assert stats["requests"][f"POST {UNIVERSAL}"] == {"reset": 2, "200": 1}
    assert len(stats["created"]) == 1


async def test_reset_after_the_body_is_read_still_creates_the_job(
    emulator: Emulator, body: dict[str, str]
) -> None:
    """The case a client cannot see: its POST failed, yet a (paid) generation exists."""
    emulator.set_faults("post#1:reset_after,post#2:reset_after")
    request = raw_request("POST", PATHS["legacy"], emulator.api_key, json.dumps(body).encode())
    with pytest.raises(ConnectionResetError):
        raw_exchange(emulator.port, request)
    async with http_client(emulator) as http:
        with pytest.raises(httpx.TransportError):
            await http.post(UNIVERSAL, json=body)
    stats = emulator.stats()
    assert stats["faults"] == {"post:reset_after": 2}
    assert len(stats["created"]) == 2
    summaries = emulator.generations()
    assert [summaries[i]["endpoint"] for i in stats["created"]] == ["legacy", "universal"]


async def test_resets_on_polls(emulator: Emulator, body: dict[str, str]) -> None:
    emulator.set_faults("get#1:reset_before,get#2:reset_after")
    async with http_client(emulator) as http:
        gen_id = (await http.post(UNIVERSAL, json=body)).json()["id"]
        for _ in range(2):
            with pytest.raises(httpx.TransportError):
                await http.get(UNIVERSAL, params={"generation_id": gen_id})
        assert (await http.get(UNIVERSAL, params={"generation_id": gen_id})).status_code == 200
    assert emulator.stats()["faults"] == {"get:reset_before": 1, "get:reset_after": 1}


async def test_slow_responses_outlast_the_client_timeout(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="post#1:slow,get#1:slow,delay=0.6")
    async with http_client(emu, timeout=0.2) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(UNIVERSAL, json=body)
    assert len(emu.stats()["created"]) == 1  # the server went on and created it
    async with http_client(emu) as patient:
        started = time.monotonic()
        late = await patient.get(UNIVERSAL, params={"generation_id": emu.stats()["created"][0]})
        assert time.monotonic() - started >= 0.6
    assert late.status_code == 200 and late.json()["status"] in ("queued", "generating")
    assert emu.stats()["faults"] == {"post:slow": 1, "get:slow": 1}


async def test_malformed_json(make_emulator: Callable[..., Emulator], body: dict[str, str]) -> None:
    emu = make_emulator(faults="post#1:malformed,get#1:malformed")
    async with http_client(emu) as http:
        created = await http.post(UNIVERSAL, json=body)
        assert created.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            created.json()
        gen_id = emu.stats()["created"][0]
        polled = await http.get(UNIVERSAL, params={"generation_id": gen_id})
        with pytest.raises(json.JSONDecodeError):
            polled.json()
    assert emu.stats()["faults"] == {"post:malformed": 1, "get:malformed": 1}


async def test_job_faults_are_counted(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="job#1:error,job#3:no_video")
    async with http_client(emu) as http:
        ids = [(await http.post(UNIVERSAL, json=body)).json()["id"] for _ in range(3)]
        finals = [(await poll(http, "universal", gen_id))[-1] for gen_id in ids]
    assert [f["status"] for f in finals] == ["error", "completed", "completed"]
    assert finals[1]["video"]["url"] and finals[2]["video"] is None
    assert emu.stats()["faults"] == {"job:error": 1, "job:no_video": 1}


async def test_out_of_credits_after_n_jobs(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="credits_after=2")
    async with http_client(emu) as http:
        codes = [(await http.post(UNIVERSAL, json=body)).status_code for _ in range(4)]
        refused = await http.post(PATHS["legacy"], json=body)
        emu.set_faults("credits_after=1")  # a new spec, a new allowance
        codes += [(await http.post(UNIVERSAL, json=body)).status_code for _ in range(2)]
    assert codes == [200, 200, 403, 403, 200, 403]
    error_fields(refused.json(), 403)
    assert "credits" in refused.json()["message"]
    assert len(emu.stats()["created"]) == 3
    assert emu.stats()["faults"] == {"credits_after": 4}


async def test_videos_that_fail_on_first_download(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="download#1:fail_once,download#2:reset_once")
    async with http_client(emu) as http:
        for _ in range(3):
            await http.post(UNIVERSAL, json=body)
        emu.complete_all_now()
        urls = [g["video_url"] or "" for g in emu.generations().values()]
        assert all(urls)
        first = await http.get(urls[0])
        assert first.status_code == 500
        error_fields(first.json(), 500)
        with pytest.raises(httpx.TransportError):  # cut mid-body
            await http.get(urls[1])
        retried = [await http.get(url) for url in urls]
    assert [r.status_code for r in retried] == [200, 200, 200]
    assert probe(retried[1].content).frames == 120
    stats = emu.stats()
    assert stats["faults"] == {"download:fail_once": 1, "download:reset_once": 1}
    assert stats["downloads"] == {"served": 3, "bytes": sum(len(r.content) for r in retried)}
    assert stats["requests"]["GET /cdn"] == {"200": 3, "500": 1, "reset": 1}


async def test_rates_are_seeded_and_counted_exactly(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    async def run(seed: int, spec: str = "post:503=0.3,post:429=0.2") -> list[int]:
        emu = make_emulator(faults=spec, seed=seed)
        async with http_client(emu) as http:
            codes = [(await http.post(UNIVERSAL, json=body)).status_code for _ in range(40)]
        stats = emu.stats()
        assert stats["faults"].get("post:503", 0) == codes.count(503)
        assert stats["faults"].get("post:429", 0) == codes.count(429)
        assert len(stats["created"]) == codes.count(200)
        return codes

    first = await run(1)
    assert {200, 429, 503} == set(first)
    assert await run(1) == first
    assert await run(2) != first
    pinned = "post:503=0.5,seed=5"  # a seed in the spec wins over the emulator's
    assert await run(3, pinned) == await run(4, pinned)
    assert set(await run(5, "post:500=1")) == {500}


async def test_faults_are_counted_only_when_injected(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    """Job 1 is created by a reset POST, refused by moderation, so its download fault never
    fires; the 429 creates nothing; the 503 poll is retried."""
    emu = make_emulator(
        faults="post#1:reset_after,post#2:429,get#1:503,job#1:error,download#1:fail_once"
    )
    async with http_client(emu) as http:
        with pytest.raises(httpx.TransportError):
            await http.post(UNIVERSAL, json=body)
        assert (await http.post(UNIVERSAL, json=body)).status_code == 429
        second = (await http.post(UNIVERSAL, json=body)).json()["id"]
        assert (await http.get(UNIVERSAL, params={"generation_id": second})).status_code == 503
        final = (await poll(http, "universal", second))[-1]
        assert (await http.get(final["video"]["url"])).status_code == 200
    stats = emu.stats()
    first = stats["created"][0]
    assert stats["created"] == [first, second]
    assert emu.generations()[first]["status"] in ("queued", "generating", "error")
    assert stats["faults"] == {"post:reset_after": 1, "post:429": 1, "get:503": 1, "job:error": 1}


async def test_faults_change_at_run_time(emulator: Emulator, body: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        emulator.set_faults("post:teapot=1")
    with pytest.raises(ValueError):
        Emulator(faults="post:429=2")
    async with http_client(emulator) as http:
        assert (await http.post(UNIVERSAL, json=body)).status_code == 200
        emulator.set_faults("post:503=1")
        assert (await http.post(UNIVERSAL, json=body)).status_code == 503
        control = await http.post("/_emulator/faults", content=b"")  # over HTTP: faults off
        assert control.status_code == 200
        assert (await http.post(UNIVERSAL, json=body)).status_code == 200
        assert (await http.post("/_emulator/faults", content=b"post:nope=1")).status_code == 400
        remote = (await http.get("/_emulator/stats")).json()
        anonymous = await httpx.AsyncClient(base_url=emulator.base_url).get("/_emulator/stats")
    assert anonymous.status_code == 401
    assert remote["created"] == emulator.stats()["created"] and len(remote["created"]) == 2
    assert remote["faults"] == {"post:503": 1}
