"""Reply profiles: each off-schema shape the real gateway sends, alone and as a seeded mix."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from kling_notebook.emulator import Emulator
from kling_notebook.emulator._replies import parse_replies

from ._support import MODEL, PATHS, ManualClock, probe

UNIVERSAL = PATHS["universal"]
MODERATED = "The input was rejected by content moderation."
ID_SHAPES = {
    "id_uuid": re.compile(r"[0-9a-f-]{36}:kling-video/v2\.1/master/image-to-video"),
    "id_numeric": re.compile(r"[1-9][0-9]{17}"),
    "id_nanoid": re.compile(r"[A-Za-z0-9_-]{21}"),
}


def http_client(emu: Emulator) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    return httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=30)


async def finish(http: httpx.AsyncClient, gen_id: str, flavor: str = "universal") -> dict[str, Any]:
    """Poll until done, without schema checks (these bodies leave the schema on purpose)."""
    for _ in range(300):
        body = (await http.get(PATHS[flavor], params={"generation_id": gen_id})).json()
        if body["status"] in ("completed", "error"):
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{gen_id} never finished")


@pytest.fixture
def body(mushroom_uri: str) -> dict[str, str]:
    return {"model": MODEL, "image_url": mushroom_uri}


def test_profiles_parse_and_bad_ones_say_what_is_wrong() -> None:
    assert parse_replies("").exact and parse_replies(" , ").exact
    mixed = parse_replies("video_list, error_detail,error_null,ttl=60,seed=3")
    assert mixed.choices == {"video": ("video_list",), "error": ("error_detail", "error_null")}
    assert (mixed.ttl, mixed.seed) == (60.0, 3)
    real = parse_replies("real")
    assert real.choices["id"] == ("id_uuid", "id_numeric", "id_nanoid")
    for bad, complaint in [("video_lists", "unknown variant"), ("real,instant", "name no others"),
                           ("ttl=0", "positive"), ("ttl=soon", "a number"), ("speed=2", "setting")]:  # fmt: skip
        with pytest.raises(ValueError, match=complaint):
            parse_replies(bad)


async def test_video_as_a_list(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(replies="video_list")
    async with http_client(emu) as http:
        created = (await http.post(PATHS["legacy"], json=body)).json()
        final = await finish(http, created["id"], "legacy")
        assert isinstance(final["video"], list) and len(final["video"]) == 1
        video = final["video"][0]
        assert video["file_name"] == "output.mp4" and video["duration"] == 5
        assert len((await http.get(video["url"])).content) == video["file_size"]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("", {"name": "ModerationError", "message": MODERATED}),
        ("error_string", MODERATED),
        ("error_null", None),
    ],
)
async def test_error_shapes(
    make_emulator: Callable[..., Emulator], body: dict[str, str], variant: str, expected: Any
) -> None:
    emu = make_emulator(replies=variant, faults="job#1:error")
    async with http_client(emu) as http:
        final = await finish(http, (await http.post(UNIVERSAL, json=body)).json()["id"])
    assert final["status"] == "error" and final["error"] == expected
    assert "video" not in final
    (summary,) = emu.generations().values()  # tests see one shape, whatever the replies say
    assert summary["error"] == {"name": "ModerationError", "message": MODERATED}


async def test_pydantic_style_error(
    make_emulator: Callable[..., Emulator], image_server: Callable[[bytes], str]
) -> None:
    emu = make_emulator(replies="error_detail")
    url = image_server(b"not an image")
    async with http_client(emu) as http:
        created = (await http.post(UNIVERSAL, json={"model": MODEL, "image_url": url})).json()
        final = await finish(http, created["id"])
    (detail,) = final["error"]["detail"]
    assert set(detail) == {"loc", "msg", "type", "input"}
    assert detail["loc"] == ["body", "image_url"] and detail["input"] == url
    assert "cannot be decoded" in detail["msg"]


async def test_a_create_that_is_already_completed(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(replies="instant", job_seconds=60)
    async with http_client(emu) as http:
        created = (await http.post(UNIVERSAL, json=body)).json()
        assert created["status"] == "completed"
        assert created["meta"]["usage"]["credits_used"] == 2100
        assert probe((await http.get(created["video"]["url"])).content).frames == 120
        assert (await finish(http, created["id"]))["video"] == created["video"]


@pytest.mark.parametrize("shape", list(ID_SHAPES))
async def test_every_id_shape_is_fetched_url_encoded(
    make_emulator: Callable[..., Emulator], body: dict[str, str], shape: str
) -> None:
    emu = make_emulator(replies="" if shape == "id_uuid" else shape)
    async with http_client(emu) as http:
        ids = [(await http.post(UNIVERSAL, json=body)).json()["id"] for _ in range(20)]
        for gen_id in ids:
            assert ID_SHAPES[shape].fullmatch(gen_id), gen_id
            encoded = await http.get(f"{UNIVERSAL}?generation_id={quote(gen_id, safe='')}")
            assert encoded.status_code == 200 and encoded.json()["id"] == gen_id
            by_params = await http.get(PATHS["legacy"], params={"generation_id": gen_id})
            assert by_params.json()["id"] == gen_id
    assert len(set(ids)) == 20
    if shape == "id_nanoid":
        assert set("".join(ids)) & set("-_"), "the URL-safe alphabet includes - and _"


@pytest.mark.parametrize(
    ("variant", "path", "query"),
    [
        ("url_query", "/cdn/", {"cacheKey", "x-kcdn-pid"}),
        ("url_kling", "/bs2/upload-kling-api/", set()),
    ],
)
async def test_video_urls_with_a_query_or_on_the_kling_path(
    make_emulator: Callable[..., Emulator],
    body: dict[str, str],
    variant: str,
    path: str,
    query: set[str],
) -> None:
    emu = make_emulator(replies=variant)
    async with http_client(emu) as http:
        final = await finish(http, (await http.post(UNIVERSAL, json=body)).json()["id"])
        url = urlsplit(final["video"]["url"])
        assert url.path.startswith(path) and url.path.endswith("/output.mp4")
        assert {pair.split("=")[0] for pair in url.query.split("&") if pair} == query
        download = await http.get(final["video"]["url"])
    assert download.status_code == 200 and len(download.content) == final["video"]["file_size"]


async def test_signed_urls_expire_and_every_read_signs_afresh(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(replies="url_signed,ttl=600")
    async with http_client(emu) as http:
        gen_id = (await http.post(UNIVERSAL, json=body)).json()["id"]
        first = (await finish(http, gen_id))["video"]["url"]
        second = (await finish(http, gen_id))["video"]["url"]
        assert first != second and urlsplit(first).path == urlsplit(second).path
        assert urlsplit(first).path.endswith("/output.mp4")
        assert (await http.get(first)).status_code == 200
        forged = await http.get(first.replace("x-nonce=", "x-nonce=0"))
        unsigned = await http.get(first.split("?")[0])
        emu.advance(601)
        expired = await http.get(second)
        fresh = (await finish(http, gen_id))["video"]["url"]
        renewed = await http.get(fresh)
    assert forged.status_code == unsigned.status_code == 403 and b"Signature" in forged.content
    assert expired.status_code == 403 and b"expired" in expired.content
    assert renewed.status_code == 200


async def test_tokens_used_and_string_status_codes(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(replies="tokens_used,status_code_string")
    async with http_client(emu) as http:
        created = (await http.post(UNIVERSAL, json=body)).json()
        missing = await http.get(UNIVERSAL, params={"generation_id": "nope"})
        refused = await http.post(UNIVERSAL, json={"model": MODEL})
    assert created["meta"]["usage"] == {"tokens_used": 2100}
    assert missing.json()["statusCode"] == "404" and refused.json()["statusCode"] == "400"
    assert set(missing.json()) >= {"message", "path", "requestId", "timestamp"}


async def test_older_pending_statuses(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    clock = ManualClock()
    emu = make_emulator(replies="old_statuses", clock=clock, job_seconds=10)
    async with http_client(emu) as http:
        gen_id = (await http.post(UNIVERSAL, json=body)).json()["id"]
        emu.wait_idle()
        seen = []
        for at in (0.5, 2.0, 7.0, 10.0):
            clock.now = 1000.0 + at
            response = await http.get(UNIVERSAL, params={"generation_id": gen_id})
            seen.append(response.json()["status"])
    assert seen == ["waiting", "active", "processing", "completed"]
    assert emu.generations()[gen_id]["status"] == "completed"


def shapes_of(final: dict[str, Any]) -> tuple[str, ...]:
    video = final.get("video")
    url = video[0]["url"] if isinstance(video, list) else video["url"]
    id_shape = next(name for name, form in ID_SHAPES.items() if form.fullmatch(final["id"]))
    return (id_shape, type(video).__name__, urlsplit(url).path.split("/")[1], str("?" in url))


async def test_the_real_mix_is_seeded_and_settable_over_http(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    async def run(seed: int) -> list[tuple[str, ...]]:
        emu = make_emulator(seed=seed, job_seconds=0.2)
        async with http_client(emu) as http:
            assert (
                await http.post("/_emulator/replies", content=b"real,nonsense")
            ).status_code == 400
            assert (await http.post("/_emulator/replies", content=b"real")).json() == {
                "replies": "real"
            }
            ids = [(await http.post(UNIVERSAL, json=body)).json()["id"] for _ in range(24)]
            emu.complete_all_now()
            return [shapes_of(await finish(http, gen_id)) for gen_id in ids]

    first = await run(5)
    assert first == await run(5)
    assert first != await run(6)
    assert {shape[0] for shape in first} == set(ID_SHAPES)
    assert {shape[1] for shape in first} == {"dict", "list"}
    assert {shape[2] for shape in first} == {"cdn", "bs2"}
