"""Management keys and a class on one account: keys, scopes, limits, spend, one concurrency cap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, ManualClock, check_service, error_fields

UNIVERSAL = PATHS["universal"]


def as_key(emu: Emulator, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


@pytest.fixture
def body(mushroom_uri: str) -> dict[str, str]:
    return {"model": MODEL, "image_url": mushroom_uri}


async def test_a_management_key_manages_api_keys(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(management_key="mgmt-key-for-tests")
    async with as_key(emu, emu.management_key) as admin:
        made = await admin.post(
            "/v1/keys",
            json={
                "name": "ada",
                "limit": {"retention": "day", "threshold": 5},
                "scopes": ["model:video"],
            },
        )
        assert made.status_code == 200, made.text
        created = check_service("keys-post", made.json(), "post")["data"]
        assert (created["name"], created["limit"], created["monthly_usage"]) == (
            "ada",
            {"retention": "day", "threshold": 5},
            0,
        )
        assert created["prefix"] == created["key"][:8] and created["key"] != emu.api_key
        async with as_key(emu, created["key"]) as student:
            assert (await student.post(UNIVERSAL, json=body)).status_code == 200
            listed = check_service("keys-get", (await admin.get("/v1/keys")).json())["data"]
            assert [k["prefix"] for k in listed] == [emu.api_key[:8], created["prefix"]]
            assert all("key" not in k for k in listed)
            prefix = created["prefix"]
            patched = await admin.patch(
                f"/v1/keys/{prefix}", json={"disabled": True, "name": "ada l."}
            )
            assert check_service("keys-patch", patched.json(), "patch")["data"]["disabled"] is True
            assert patched.json()["data"]["limit"] == {"retention": "day", "threshold": 5}  # kept
            refused = await student.post(UNIVERSAL, json=body)
            assert refused.status_code == 401 and "disabled" in refused.json()["message"]
            put = await admin.put(f"/v1/keys/{prefix}", json={"name": "ada"})
            replaced = check_service("keys-put", put.json(), "put")["data"]
            assert (replaced["disabled"], replaced["limit"], replaced["scopes"]) == (
                False,
                None,
                None,
            )
            assert (await student.post(UNIVERSAL, json=body)).status_code == 200
            deleted = await admin.delete(f"/v1/keys/{prefix}")
            assert check_service("keys-delete", deleted.json(), "delete")["data"] == {
                "prefix": prefix,
                "deleted": True,
            }
            assert (await student.get("/v1/key")).status_code == 401
        assert (await admin.patch(f"/v1/keys/{prefix}", json={})).status_code == 404
        assert (await admin.post(UNIVERSAL, json=body)).status_code == 401  # not an API key
    async with as_key(emu, emu.api_key) as plain:
        assert (await plain.get("/v1/keys")).status_code == 403
    assert (await httpx.AsyncClient(base_url=emu.base_url).get("/v1/keys")).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "owner": "me"}, "owner"),
        ({"limit": {"retention": "year", "threshold": 1}}, "limit.retention"),
        ({"limit": {"retention": "day", "threshold": -1}}, "limit.threshold"),
        ({"limit": {"retention": "day"}}, "limit.threshold"),
        ({"scopes": ["model:teleport"]}, "scopes"),
        ({"name": 5}, "name"),
    ],
)
async def test_bad_key_bodies_get_400(
    make_emulator: Callable[..., Emulator], payload: dict[str, Any], field: str
) -> None:
    emu = make_emulator()
    async with as_key(emu, emu.management_key) as admin:
        response = await admin.post("/v1/keys", json=payload)
    assert response.status_code == 400
    error_fields(response.json(), 400)
    assert field in [issue["path"] for issue in response.json()["errors"]]


async def test_scopes_limit_what_a_key_may_call(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator()
    async with as_key(emu, emu.management_key) as admin:
        chat = (await admin.post("/v1/keys", json={"scopes": ["model:chat"]})).json()["data"]
    async with as_key(emu, chat["key"]) as student:
        refused = await student.post(UNIVERSAL, json=body)
        own = await student.get("/v1/key")
    assert refused.status_code == 403 and "model:video" in refused.json()["message"]
    assert check_service("key-get", own.json())["data"]["scopes"] == ["model:chat"]
    assert emu.stats()["created"] == []


async def test_a_key_over_its_limit_is_refused_until_midnight_utc(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    clock = ManualClock()
    started = datetime.now(timezone.utc)  # the emulator's wall clock starts here and moves with `clock`
    emu = make_emulator(clock=clock, job_seconds=1)
    async with as_key(emu, emu.management_key) as admin:
        limit = {"limit": {"retention": "day", "threshold": 3}}
        student_key = (await admin.post("/v1/keys", json=limit)).json()["data"]["key"]
    async with as_key(emu, student_key) as student:
        codes = [(await student.post(UNIVERSAL, json=body)).status_code for _ in range(2)]
        over = await student.post(UNIVERSAL, json=body)  # 2.80 held, 1.40 more passes 3.00
        emu.wait_idle()
        clock.now += 1
        own = check_service("key-get", (await student.get("/v1/key")).json())["data"]
        still = await student.post(UNIVERSAL, json=body)  # charged now, still 2.80 today
        async with as_key(emu, emu.api_key) as other:  # another key of the account: unaffected
            assert (await other.post(UNIVERSAL, json=body)).status_code == 200
        midnight = (started + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        emu.advance((midnight - started).total_seconds() + 1)
        fresh = await student.post(UNIVERSAL, json=body)
    assert codes == [200, 200]
    assert over.status_code == still.status_code == 403
    error_fields(over.json(), 403)
    assert "limit" in over.json()["message"] and "00:00 UTC" in over.json()["message"]
    assert own["monthly_usage"] == pytest.approx(2.8)
    assert fresh.status_code == 200
    assert len(emu.stats()["created"]) == 4


async def test_usage_reports_by_key(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="job#3:error")
    async with as_key(emu, emu.management_key) as admin:
        student = (await admin.post("/v1/keys", json={"name": "bo"})).json()["data"]
        async with as_key(emu, student["key"]) as bo, as_key(emu, emu.api_key) as teacher:
            await bo.post(UNIVERSAL, json=body)
            await bo.post(UNIVERSAL, json={**body, "duration": 10})
            await bo.post(UNIVERSAL, json=body)  # fails: not billed
            await teacher.post(UNIVERSAL, json=body)
            emu.complete_all_now()
            mine = check_service("usage-v2", (await bo.get("/v2/usage")).json())
            peeking = await bo.get("/v2/usage", params={"key_prefix": emu.api_key[:8]})
            grouped = await bo.get("/v2/usage", params={"group_by": "day"})
            prefix = {
                "key_prefix": student["prefix"],
                "group_by": "day,model",
                "tz": "Europe/Berlin",
            }
            detail = check_service(
                "usage-detail-v2", (await admin.get("/v2/usage/detail", params=prefix)).json()
            )
            bad_zones = [await admin.get("/v2/usage/detail", params={"tz": tz, "group_by": "day"})
                         for tz in ("utc", "+05:00", "Mars/Olympus")]  # fmt: skip
            logs = (await admin.get("/v2/logs", params={"key_prefix": student["prefix"]})).json()
            others = await bo.get("/v2/logs", params={"key_prefix": emu.api_key[:8]})
            own_management = check_service("usage-v2", (await admin.get("/v2/usage")).json())
    assert (mine["api_key_prefix"], mine["spend"], mine["requests"]) == (None, 4.2, 2)
    assert peeking.status_code == 403 and grouped.status_code == 400
    assert (detail["api_key_prefix"], detail["spend"], detail["requests"]) == (
        student["prefix"],
        4.2,
        2,
    )
    assert detail["models"] == [{"model": MODEL, "spend": 4.2, "requests": 2}]
    (group,) = detail["groups"]
    assert group["model"] == MODEL and len(group["day"]) == 10
    assert group["requests"] == {"total": 3, "charged": 2, "succeeded": 2, "failed": 1}
    assert [r.status_code for r in bad_zones] == [400, 400, 400]
    assert len(logs["data"]) == 3 and others.status_code == 403
    assert own_management["spend"] == 0


async def test_thirty_students_share_one_concurrency_limit(
    make_emulator: Callable[..., Emulator], image_server: Callable[[bytes], str], mushroom: bytes
) -> None:
    """Thirty keys of one account submit at once, round after round, with a limit of three:
    every create is a 200 or a 429 (with Retry-After, creating nothing), never more than three
    run, and each round's ends free exactly three slots."""
    clock = ManualClock()
    emu = make_emulator(concurrency=3, job_seconds=1, clock=clock)
    body = {"model": MODEL, "image_url": image_server(mushroom)}  # small bodies: a URL
    async with as_key(emu, emu.management_key) as admin:
        keys = [(await admin.post("/v1/keys", json={"name": f"s{i}"})).json()["data"]["key"]
                for i in range(30)]  # fmt: skip
    waiting, answers, rounds = list(keys), [], 0
    limits = httpx.Limits(max_connections=30)  # one client, thirty connections: all at once
    async with httpx.AsyncClient(base_url=emu.base_url, limits=limits, timeout=30) as http:
        while waiting:
            replies = await asyncio.gather(
                *(http.post(UNIVERSAL, json=body, headers={"Authorization": f"Bearer {key}"})
                  for key in waiting)
            )  # fmt: skip
            answers += replies
            assert {r.status_code for r in replies} <= {200, 429}
            assert sum(r.status_code == 200 for r in replies) == min(3, len(waiting))
            assert all(int(r.headers["Retry-After"]) >= 1 for r in replies if r.status_code == 429)
            assert emu.stats()["concurrency"]["running"] <= 3
            waiting = [key for key, r in zip(waiting, replies, strict=True) if r.status_code == 429]
            emu.wait_idle()
            clock.now += 1  # this round's generations end
            rounds += 1
    stats = emu.stats()
    assert rounds == 10 and len(stats["created"]) == 30
    refused = sum(r.status_code == 429 for r in answers)
    assert stats["concurrency"] == {"limit": 3, "running": 0, "peak": 3, "refused": refused}
    holders = [e["key_prefix"] for e in stats["billing"]["ledger"] if e["event"] == "hold"]
    assert sorted(holders) == sorted(key[:8] for key in keys)  # one generation per student
    assert stats["billing"]["charges"] == 30
    error_fields(next(r for r in answers if r.status_code == 429).json(), 429)


async def test_a_failed_generation_frees_its_slot(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    clock = ManualClock()
    emu = make_emulator(concurrency=1, clock=clock, job_seconds=2, faults="job#1:error")
    async with as_key(emu, emu.api_key) as http:
        assert (await http.post(UNIVERSAL, json=body)).status_code == 200
        emu.wait_idle()
        busy = await http.post(UNIVERSAL, json=body)
        clock.now += 2  # it ends, in error
        freed = await http.post(UNIVERSAL, json=body)
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "2"
    assert freed.status_code == 200
    assert len(emu.stats()["created"]) == 2
    with pytest.raises(ValueError):
        Emulator(concurrency=0)
