"""Request tracing headers: X-Client-Request-Id echoed and kept, x-inference-id, spend headers."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS

UNIVERSAL = PATHS["universal"]
VALID_IDS = ["a", "order-17:retry.2_b", "A" * 128, "0"]
INVALID_IDS = ["", "A" * 129, "has space", "a/b", "semi;colon", "per%cent"]


@pytest.fixture
def body(mushroom_uri: str) -> dict[str, str]:
    return {"model": MODEL, "image_url": mushroom_uri}


@pytest.mark.parametrize("client_id", VALID_IDS)
async def test_a_valid_client_request_id_is_echoed_and_kept(
    emulator: Emulator, http: httpx.AsyncClient, body: dict[str, str], client_id: str
) -> None:
    headers = {"X-Client-Request-Id": client_id}
    created = await http.post(UNIVERSAL, json=body, headers=headers)
    gen_id = created.json()["id"]
    fetched = await http.get(UNIVERSAL, params={"generation_id": gen_id}, headers=headers)
    refused = await http.post(UNIVERSAL, json={"model": MODEL}, headers=headers)
    anonymous = await httpx.AsyncClient(base_url=emulator.base_url).get(UNIVERSAL, headers=headers)
    for response in (created, fetched, refused, anonymous):
        assert response.headers["x-client-request-id"] == client_id
    assert emulator.generations()[gen_id]["client_request_id"] == client_id


@pytest.mark.parametrize("client_id", INVALID_IDS)
async def test_an_invalid_client_request_id_is_silently_dropped(
    emulator: Emulator, http: httpx.AsyncClient, body: dict[str, str], client_id: str
) -> None:
    created = await http.post(UNIVERSAL, json=body, headers={"X-Client-Request-Id": client_id})
    assert created.status_code == 200
    assert "x-client-request-id" not in created.headers
    assert emulator.generations()[created.json()["id"]]["client_request_id"] is None


async def test_inference_ids_and_spend_headers(
    http: httpx.AsyncClient, body: dict[str, str]
) -> None:
    created = await http.post(UNIVERSAL, json={**body, "duration": 10})
    gen_id = created.json()["id"]
    fetched = await http.get(PATHS["legacy"], params={"generation_id": gen_id})
    assert created.headers["x-inference-id"] == fetched.headers["x-inference-id"] == gen_id
    # the create shows the hold it placed; a status read spends nothing
    assert (created.headers["x-aimlapi-credits-used"], created.headers["x-aimlapi-usd-spent"]) == (
        "4200",
        "2.8",
    )
    assert (fetched.headers["x-aimlapi-credits-used"], fetched.headers["x-aimlapi-usd-spent"]) == (
        "0",
        "0",
    )
    others = [
        await http.get(UNIVERSAL, params={"generation_id": "unknown"}),
        await http.post(UNIVERSAL, json={"model": MODEL}),
        await http.get("/v2/nothing"),
        await httpx.AsyncClient(base_url=str(http.base_url)).get(UNIVERSAL),
    ]
    assert [r.status_code for r in others] == [404, 400, 404, 401]
    inference_ids = {r.headers["x-inference-id"] for r in others}
    assert len(inference_ids) == 4 and all(uuid.UUID(i) for i in inference_ids)
    assert {r.headers["x-aimlapi-credits-used"] for r in others} == {"0"}


async def test_proxy_faults_and_the_cdn_carry_no_gateway_trace(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="post#1:503")
    headers = {"Authorization": f"Bearer {emu.api_key}", "X-Client-Request-Id": "c-1"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        proxied = await http.post(UNIVERSAL, json=body)
        created = await http.post(UNIVERSAL, json=body)
        emu.complete_all_now()
        url = emu.generations()[created.json()["id"]]["video_url"]
        assert url is not None
        video = await http.get(url)
    assert proxied.status_code == 503 and "x-inference-id" not in proxied.headers
    assert created.headers["x-client-request-id"] == "c-1"
    assert video.status_code == 200 and "x-inference-id" not in video.headers
