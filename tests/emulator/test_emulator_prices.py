"""Live prices: GET /v1/models with pricing, its ETag and If-None-Match, prices that change."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, check_service


async def test_the_catalogue_needs_no_key_and_matches_its_schema(emulator: Emulator) -> None:
    async with httpx.AsyncClient(base_url=emulator.base_url) as anonymous:
        plain = await anonymous.get("/v1/models")
        priced = await anonymous.get("/v1/models", params={"id": MODEL, "include": "pricing"})
        everything = await anonymous.get("/v1/models", params={"details": "true"})
        unknown = await anonymous.get("/v1/models", params={"id": "openai/gpt-5"})
        ignored = await anonymous.get("/v1/models", params={"id": MODEL, "include": "pricing,x"})
    for response in (plain, priced, everything, unknown, ignored):
        assert response.status_code == 200
        check_service("models", response.json())
    assert MODEL in [entry["id"] for entry in plain.json()["data"]]
    assert all("pricing" not in entry for entry in plain.json()["data"])
    (entry,) = priced.json()["data"]
    assert entry["pricing"] == {
        "kind": "fixed",
        "currency": "USD",
        "units": [{"unit": "second", "per": 1, "price": 0.28}],
    }
    assert round(5 * entry["pricing"]["units"][0]["price"], 6) == 1.4  # $1.40 per 5 s
    assert ignored.json() == priced.json()
    assert unknown.json() == {"object": "list", "data": []}
    full = next(e for e in everything.json()["data"] if e["id"] == MODEL)
    assert {"pricing", "modalities", "capabilities"} <= set(full)
    assert full["modalities"]["output"] == ["video"] and "image_to_video" in full["capabilities"]


async def test_etags_and_changing_prices(
    emulator: Emulator, http: httpx.AsyncClient, mushroom_uri: str
) -> None:
    params = {"id": MODEL, "include": "pricing"}
    first = await http.get("/v1/models", params=params)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = await http.get("/v1/models", params=params, headers={"If-None-Match": header})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == etag
    emulator.set_price(MODEL, 0.3)
    changed = await http.get("/v1/models", params=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["data"][0]["pricing"]["units"][0]["price"] == 0.3
    created = await http.post(
        PATHS["universal"], json={"model": MODEL, "image_url": mushroom_uri}
    )
    assert created.json()["meta"]["usage"]["credits_used"] == round(0.3 * 5 * 1500)
    assert created.headers["x-aimlapi-usd-spent"] == "1.5"
    over_http = await http.post(
        "/_emulator/prices", json={"model": MODEL, "usd_per_second": 0.28}
    )
    assert over_http.status_code == 200
    back = await http.get("/v1/models", params=params, headers={"If-None-Match": etag})
    assert back.status_code == 304  # the same prices, the same ETag
    assert (await http.post("/_emulator/prices", json={"model": "nope"})).status_code == 400
    with pytest.raises(ValueError):
        emulator.set_price("klingai/nonsense", 1.0)
    with pytest.raises(ValueError):
        emulator.set_price(MODEL, -1.0)


async def test_credits_per_usd(make_emulator: Callable[..., Emulator], mushroom_uri: str) -> None:
    emu = make_emulator(credits_per_usd=2_000_000)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        body = {"model": MODEL, "image_url": mushroom_uri, "duration": 10}
        created = await http.post(PATHS["universal"], json=body)
    assert created.json()["meta"]["usage"]["credits_used"] == 5_600_000
    assert created.headers["x-aimlapi-credits-used"] == "5600000"
    with pytest.raises(ValueError):
        Emulator(credits_per_usd=0)
