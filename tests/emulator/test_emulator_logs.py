"""GET /v2/logs: one row per model call, its lag, its filters, its paging, its rate limit."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS, ManualClock, check_service, error_fields

UNIVERSAL = PATHS["universal"]


def http_client(emu: Emulator, **headers: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {emu.api_key}", **headers}
    return httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=30)


async def logs(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await http.get("/v2/logs", params=params)
    assert response.status_code == 200, response.text
    return dict(check_service("logs-v2", response.json()))


@pytest.fixture
def body(mushroom_uri: str) -> dict[str, str]:
    return {"model": MODEL, "image_url": mushroom_uri}


async def test_rows_follow_their_generations(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, job_seconds=10, faults="job#2:error")
    async with http_client(emu) as http:
        first = await http.post(UNIVERSAL, json=body, headers={"X-Client-Request-Id": "job-a"})
        second = await http.post(UNIVERSAL, json={**body, "duration": 10})
        refused = await http.post(UNIVERSAL, json={**body, "duration": 7})
        read = await http.get(UNIVERSAL, params={"generation_id": first.json()["id"]})
        await http.get(UNIVERSAL, params={"generation_id": "unknown"})  # names no model: no row
        running = (await logs(http))["data"]
        emu.wait_idle()
        clock.now += 10
        done = (await logs(http))["data"]
    assert [row["inference_id"] for row in running] == [
        first.json()["id"],
        refused.headers["x-inference-id"],
        second.json()["id"],
        first.json()["id"],
    ]  # newest first: the status read, the 400, the second create, the first create
    assert read.headers["x-inference-id"] == first.json()["id"]
    assert running[1]["request_id"] == refused.json()["requestId"]
    assert [row["status"] for row in running] == ["succeeded", "failed", "succeeded", "succeeded"]
    assert {row["model"] for row in running} == {MODEL}
    assert [row["client_request_id"] for row in running] == [None, None, None, "job-a"]
    assert [row["cost"] for row in running] == [{"usd": 0, "credits": 0}] * 4
    assert [row["status"] for row in done] == ["succeeded", "failed", "failed", "succeeded"]
    assert done[3]["cost"] == {"usd": 1.4, "credits": 2100}  # charged once completed
    assert done[2]["cost"] == {"usd": 0, "credits": 0}  # a failed generation is billed nothing
    assert all(row["origin"] == "api" and row["created"].endswith("Z") for row in done)


async def test_a_create_whose_answer_was_lost_is_in_the_logs(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator(faults="post#1:reset_before,post#2:503,post#3:reset_after")
    async with http_client(emu) as http:
        for attempt in ("try-1", "try-2", "try-3"):
            lost = pytest.raises(httpx.TransportError) if attempt != "try-2" else nullcontext()
            with lost:
                await http.post(UNIVERSAL, json=body, headers={"X-Client-Request-Id": attempt})
        rows = (await logs(http))["data"]
    (created,) = emu.stats()["created"]
    assert [(row["client_request_id"], row["inference_id"]) for row in rows] == [
        ("try-3", created)
    ]  # the reset and the 503 in front of the gateway never reached it


async def test_rows_show_after_the_lag(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, logs_lag=30)
    async with http_client(emu) as http:
        await http.post(UNIVERSAL, json=body)
        clock.now += 29.9
        assert (await logs(http))["pagination"]["total"] == 0
        clock.now += 0.2
        assert (await logs(http))["pagination"]["total"] == 1
    with pytest.raises(ValueError):
        Emulator(logs_lag=-1)


async def test_filters_and_pages(
    make_emulator: Callable[..., Emulator], body: dict[str, str]
) -> None:
    emu = make_emulator()
    async with http_client(emu) as http:
        for _ in range(5):
            await http.post(UNIVERSAL, json=body)
        await http.post(UNIVERSAL, json={**body, "model": "klingai/nonsense"})
        every = await logs(http, limit=100)
        assert every["pagination"] == {"limit": 100, "offset": 0, "total": 6, "has_more": False}
        assert (await logs(http, model=MODEL))["pagination"]["total"] == 5
        alias = await logs(http, model="v2.1-master-image-to-video")
        assert alias["pagination"]["total"] == 5
        both = await http.get("/v2/logs", params=[("model", MODEL), ("model", "klingai/nonsense")])
        assert both.json()["pagination"]["total"] == 6
        assert (await logs(http, model=f"{MODEL},klingai/nonsense"))["data"] == []
        assert (await logs(http, status="failed"))["pagination"]["total"] == 1
        statuses = [("status", "failed"), ("status", "succeeded")]
        assert (await http.get("/v2/logs", params=statuses)).json()["pagination"]["total"] == 6
        page = await logs(http, limit=2, offset=3)
        assert page["data"] == every["data"][3:5]
        assert page["pagination"] == {"limit": 2, "offset": 3, "total": 6, "has_more": True}
        last = await logs(http, limit=2, offset=4)
        assert last["pagination"]["has_more"] is False and len(last["data"]) == 2


async def test_windows(make_emulator: Callable[..., Emulator], body: dict[str, str]) -> None:
    emu = make_emulator()
    now = datetime.now(timezone.utc)

    def at(delta: timedelta, offset: bool = True) -> str:
        stamp = (now + delta).isoformat()
        return stamp if offset else stamp.replace("+00:00", "")

    async with http_client(emu) as http:
        await http.post(UNIVERSAL, json=body)
        emu.advance(2 * 3600)
        assert (await logs(http, period="1h"))["pagination"]["total"] == 0
        assert (await logs(http, period="3h"))["pagination"]["total"] == 1
        assert (await logs(http))["pagination"]["total"] == 1  # the default: the last 24 h
        window = {"start": at(timedelta(minutes=-1)), "end": at(timedelta(minutes=1), False)}
        assert (await logs(http, **window))["pagination"]["total"] == 1
        late = {"start": at(timedelta(minutes=1)), "end": at(timedelta(hours=1))}
        assert (await logs(http, **late))["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (
            {"period": "7d", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
            "period",
        ),
        ({"start": "2026-01-01T00:00:00Z"}, "end"),
        ({"end": "2026-01-01T00:00:00Z"}, "start"),
        ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"}, "end"),
        ({"start": "yesterday", "end": "2026-01-01T00:00:00Z"}, "start"),
        ({"period": "93d"}, "period"),
        ({"period": "0h"}, "period"),
        ({"period": "1w"}, "period"),
        ({"status": "failed,succeeded"}, "status"),
        ({"status": "pending"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ([("model", f"m{i}") for i in range(51)], "model"),
    ],
)
async def test_bad_queries_get_400(
    http: httpx.AsyncClient, params: dict[str, str] | list[tuple[str, str]], field: str
) -> None:
    response = await http.get("/v2/logs", params=params)
    assert response.status_code == 400, response.text
    error_fields(response.json(), 400)
    assert response.json()["message"] == "Query validation error"
    assert [issue["path"] for issue in response.json()["errors"]] == [field]


async def test_logs_need_a_key_and_are_rate_limited(make_emulator: Callable[..., Emulator]) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock)
    async with http_client(emu) as http:
        anonymous = await httpx.AsyncClient(base_url=emu.base_url).get("/v2/logs")
        assert anonymous.status_code == 401
        codes = [(await http.get("/v2/logs")).status_code for _ in range(200)]
        clock.now += 30
        limited = await http.get("/v2/logs")
        clock.now += 30
        again = await http.get("/v2/logs")
    assert set(codes) == {200}
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    error_fields(limited.json(), 429)
    assert again.status_code == 200
