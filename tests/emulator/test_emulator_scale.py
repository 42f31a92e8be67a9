"""A thousand concurrent jobs, created and polled to completion, on a two-core machine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from kling_notebook.emulator import Emulator

from ._support import MODEL, PATHS

JOBS = 1000
# httpcore's pool scans every queued request whenever a connection frees up, so one client with a
# thousand queued requests spends most of its time on the client side; spread jobs over clients.
CLIENTS, CONNECTIONS = 25, 8


@pytest.mark.slow
async def test_a_thousand_concurrent_jobs(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    emu = make_emulator(job_seconds=2.0, video_width=640, render_cache=None)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    errors: list[str] = []
    polls = 0

    async def one(http: httpx.AsyncClient, index: int) -> str:
        nonlocal polls
        flavor = ("universal", "legacy")[index % 2]
        body = {"model": MODEL, "image_url": mushroom_uri, "duration": "5"}
        created = await http.post(PATHS[flavor], json=body)
        if created.status_code != 200:
            errors.append(f"create {created.status_code}")
            return ""
        gen_id = created.json()["id"]
        while True:
            await asyncio.sleep(0.5)
            response = await http.get(PATHS[flavor], params={"generation_id": gen_id})
            polls += 1
            status = response.json()["status"] if response.status_code == 200 else "http error"
            if status == "completed":
                return str(response.json()["video"]["url"])
            if status not in ("queued", "generating"):
                errors.append(f"{gen_id}: {status}")
                return ""

    started = time.monotonic()
    clients = [
        httpx.AsyncClient(base_url=emu.base_url, headers=headers, limits=limits, timeout=60)
        for _ in range(CLIENTS)
    ]
    try:
        urls = await asyncio.gather(*(one(clients[i % CLIENTS], i) for i in range(JOBS)))
    finally:
        await asyncio.gather(*(http.aclose() for http in clients))
    elapsed = time.monotonic() - started
    assert errors == []
    assert elapsed < 60, f"{JOBS} jobs took {elapsed:.1f} s"
    stats = emu.stats()
    assert len(set(stats["created"])) == len(stats["created"]) == JOBS
    assert len(set(urls)) == JOBS  # every generation has its own URL...
    assert stats["renders"] == {"rendered": 1, "cache_hits": JOBS - 1, "failed": 0}  # one clip
    served = sum(stats["requests"][f"GET {path}"]["200"] for path in PATHS.values())
    assert served == polls and set(stats["requests"][f"POST {PATHS['legacy']}"]) == {"200"}
