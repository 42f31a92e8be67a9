"""KlingClient (blocking) works in a plain script and inside a running event loop, and one
AsyncKlingClient object survives several asyncio.run() calls (no "Event loop is closed")."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from fakes import API, GEN_ID, KEY, MP4_HEAD, VIDEO_URL, FakeClock, gen_body
from loopback import loopback_server

from kling_notebook import AsyncKlingClient, KlingClient
from kling_notebook.runtime.engine import engine_loop, in_engine_thread, run_blocking

VIDEO = MP4_HEAD + b"frames" * 2000


@pytest.fixture
def scripted(gateway):
    gateway.serve(VIDEO_URL, VIDEO).post(gen_body("queued")).get(gen_body("generating"), gen_body("completed"))
    return gateway


def sync_client(gateway, tmp_path, **options) -> KlingClient:
    return KlingClient(
        api_key=KEY, base_url=API, transport=gateway.transport, clock=FakeClock(), out_dir=tmp_path, **options
    )


def test_plain_script_without_a_loop(scripted, tmp_path, jpeg):
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # really no loop here
    with sync_client(scripted, tmp_path) as client:
        result = client.generate(image=jpeg, prompt="a paper boat")
    assert result.path.read_bytes() == VIDEO
    assert result.generation.id == GEN_ID
    assert result.sidecar is not None and json.loads(result.sidecar.read_text())["id"] == GEN_ID


def test_each_blocking_method(scripted, tmp_path, jpeg):
    updates: list[str] = []
    with sync_client(scripted, tmp_path) as client:
        generation = client.submit(image=jpeg)
        assert client.get(generation).status == "generating"
        done = client.wait(generation.id, on_update=lambda g: updates.append(g.status))
        path = client.download(done, tmp_path / "v.mp4")
    assert updates == ["completed"]
    assert path.read_bytes() == VIDEO


async def test_blocking_call_inside_a_running_event_loop(scripted, tmp_path, jpeg):
    """As in a notebook cell: a loop is running in this thread, and the blocking call still works."""
    assert asyncio.get_running_loop().is_running()
    with sync_client(scripted, tmp_path) as client:
        result = client.generate(image=jpeg)
    assert result.path.exists()


async def test_callbacks_run_on_the_engine_thread(scripted, tmp_path, jpeg):
    threads: set[str] = set()
    with sync_client(scripted, tmp_path) as client:
        client.generate(image=jpeg, on_event=lambda e: threads.add(threading.current_thread().name))
    assert threads == {"kling-notebook-engine"}


def test_one_async_client_across_several_asyncio_run_calls(gateway, tmp_path):
    scripted = gateway.get(gen_body("generating"))
    client = AsyncKlingClient(
        api_key=KEY, base_url=API, transport=scripted.transport, clock=FakeClock(), out_dir=tmp_path
    )

    async def read():
        return await client.get(GEN_ID)

    async def read_and_close():
        async with client:
            return await client.get(GEN_ID)

    statuses = [asyncio.run(read()).status for _ in range(3)]
    statuses += [asyncio.run(read_and_close()).status for _ in range(2)]
    statuses.append(asyncio.run(read()).status)
    assert statuses == ["generating"] * 6
    assert len(scripted.status_reads) == 6


@pytest.fixture
def loopback():
    """A keep-alive HTTP/1.1 status endpoint on loopback: pooled connections are loop-bound."""
    body = json.dumps(gen_body("generating")).encode()
    with loopback_server(lambda _request: (200, {"content-type": "application/json"}, body), keep_alive=True) as url:
        yield url


def test_real_connections_across_asyncio_run_calls_and_the_engine(loopback, tmp_path):
    """A single shared httpx.AsyncClient fails here with "Event loop is closed" on the 2nd run:
    its pooled keep-alive connection belongs to the first, closed loop."""
    client = AsyncKlingClient(api_key=KEY, base_url=loopback, clock=FakeClock(), out_dir=tmp_path)
    for _ in range(3):
        assert asyncio.run(client.get(GEN_ID)).status == "generating"
    facade = KlingClient(client=client)
    assert facade.get(GEN_ID).status == "generating"
    assert asyncio.run(client.get(GEN_ID)).status == "generating"
    facade.close()


def test_async_client_shared_by_asyncio_run_and_the_sync_facade(gateway, tmp_path):
    scripted = gateway.get(gen_body("generating"))
    inner = AsyncKlingClient(api_key=KEY, base_url=API, transport=scripted.transport, clock=FakeClock(), out_dir=tmp_path)
    facade = KlingClient(client=inner)
    assert facade.get(GEN_ID).status == "generating"
    assert asyncio.run(inner.get(GEN_ID)).status == "generating"
    assert facade.get(GEN_ID).status == "generating"
    facade.close()
    assert asyncio.run(inner.get(GEN_ID)).status == "generating"


def test_run_blocking_refuses_to_deadlock_on_the_engine_thread():
    async def inner():
        assert in_engine_thread()

        async def nothing():
            return 1

        with pytest.raises(RuntimeError, match="deadlock"):
            run_blocking(nothing())
        return "ok"

    assert run_blocking(inner()) == "ok"
    assert engine_loop() is engine_loop()
    assert not in_engine_thread()
