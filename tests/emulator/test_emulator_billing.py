"""Billing: a hold at create, the charge on completion, a release on failure; the balance."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, ManualClock, check_service, error_fields

UNIVERSAL = PATHS["universal"]


def http_client(emu: Emulator) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    return httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=30)


async def test_holds_charges_and_releases(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, job_seconds=10, faults="job#2:error")
    broken = "data:image/png;base64," + base64.b64encode(b"no pixels here").decode()
    async with http_client(emu) as http:
        ids = []
        for image, duration in ((mushroom_uri, 5), (mushroom_uri, 10), (broken, 5)):
            body = {"model": MODEL, "image_url": image, "duration": duration}
            ids.append((await http.post(UNIVERSAL, json=body)).json()["id"])
        emu.wait_idle()
        held = emu.stats()["billing"]
        assert (held["holds"], held["charges"], held["releases"]) == (3, 0, 0)
        assert held["held"] == {"usd": 5.6, "credits": 8400}
        clock.now += 1.5  # the broken image fails as it leaves the queue: released at once
        early = emu.stats()["billing"]
        assert (early["releases"], early["released"]) == (1, {"usd": 1.4, "credits": 2100})
        clock.now += 9
        done = emu.stats()["billing"]
    assert (done["holds"], done["charges"], done["releases"]) == (3, 1, 2)
    assert done["held"] == {"usd": 0, "credits": 0}
    assert done["charged"] == {"usd": 1.4, "credits": 2100}  # only the one that completed
    assert done["released"] == {"usd": 4.2, "credits": 6300}
    events = [(e["generation_id"], e["event"]) for e in done["ledger"]]
    assert events == [(ids[0], "hold"), (ids[1], "hold"), (ids[2], "hold"),
                      (ids[2], "release"), (ids[0], "charge"), (ids[1], "release")]  # fmt: skip
    walls = {(e["generation_id"], e["event"]): e["wall"] for e in done["ledger"]}
    assert abs(walls[(ids[0], "charge")] - walls[(ids[0], "hold")] - 10) < 0.01  # when it ended
    assert {e["key_prefix"] for e in done["ledger"]} == {emu.api_key[:8]}


async def test_an_instant_generation_is_charged_at_once(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    emu = make_emulator(replies="instant")
    async with http_client(emu) as http:
        await http.post(UNIVERSAL, json={"model": MODEL, "image_url": mushroom_uri})
    billing = emu.stats()["billing"]
    assert [e["event"] for e in billing["ledger"]] == ["hold", "charge"]


async def test_the_balance_limits_what_can_be_held(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, balance=3.0, job_seconds=1, faults="job#1:error")
    body = {"model": MODEL, "image_url": mushroom_uri}
    async with http_client(emu) as http:
        codes = [(await http.post(UNIVERSAL, json=body)).status_code for _ in range(3)]
        refused = await http.post(UNIVERSAL, json=body)
        emu.wait_idle()
        clock.now += 1  # the first fails (released), the second completes (charged)
        again = await http.post(UNIVERSAL, json=body)
        emu.wait_idle()
        clock.now += 1
        billing = (await http.get("/v2/billing")).json()
    assert codes == [200, 200, 403] and refused.status_code == 403
    error_fields(refused.json(), 403)
    assert "credits" in refused.json()["message"]
    assert again.status_code == 200
    assert check_service("billing-v2", billing) == {"current_balance": 0.2, "currency": "USD"}
    assert len(emu.stats()["created"]) == 3
