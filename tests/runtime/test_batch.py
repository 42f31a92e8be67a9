"""Batches against the emulator: the concurrency cap holds, 429 lowers it and successes raise it
again with every job created exactly once, nothing is sent unconfirmed, sweeps are products."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from emulated import client_for, posts

from kling_notebook import AsyncKlingClient, KlingClient, RetryPolicy, errors
from kling_notebook.domain.events import JobEvent
from kling_notebook.emulator import Emulator
from kling_notebook.runtime.batch import ConfirmationRequiredError, sweep
from kling_notebook.runtime.gate import AdaptiveLimit
from kling_notebook.runtime.jobs import Job
from kling_notebook.store.journal import NOT_SUBMITTED


def created_prompts(emulator: Emulator) -> list[str]:
    return sorted(g["prompt"] or "" for g in emulator.generations().values())


Tagged = tuple[int, JobEvent]


def tag_into(events: list[Tagged]) -> Callable[[Job], None]:
    """An ``on_job`` that records every event of every job with the job's place in the batch."""

    places = itertools.count()

    def follow(job: Job) -> None:
        place = next(places)
        job.subscribe(lambda event: events.append((place, event)))

    return follow


def peak_from_events(events: list[Tagged]) -> int:
    """Jobs past being held and before their final event, at most, as their events tell it."""
    running: set[int] = set()
    peak = 0
    for index, event in events:
        if event.is_final or event.phase == "held":
            running.discard(index)
        else:
            running.add(index)
            peak = max(peak, len(running))
    return peak


async def test_the_cap_holds_and_every_job_reports(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    prompts = [f"cap {i}" for i in range(6)]
    events: list[Tagged] = []
    async with client_for(emulator, out_dir, concurrency=2) as client:
        result = await client.batch(sweep(images=image, prompts=prompts), confirm=True, on_job=tag_into(events))
    assert [item.ok for item in result] == [True] * 6 and len(result.results) == 6
    assert peak_from_events(events) == 2 and result.peak_in_flight == 2
    assert result.limits == (2,)
    finals = {index: event.phase for index, event in events if event.is_final}
    assert finals == dict.fromkeys(range(6), "completed")
    assert created_prompts(emulator) == prompts
    assert all(item.result and item.result.request == item.request for item in result)


@pytest.mark.parametrize(
    "emulator",
    [{"faults": "retry_after=0,post#2:429,post#3:429,post#5:429,post#6:429"}],
    indirect=True,
)
async def test_429_lowers_the_cap_then_successes_raise_it(
    emulator: Emulator, out_dir: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = [f"busy {i}" for i in range(8)]
    monkeypatch.setattr("kling_notebook.runtime.gate.RAISE_AFTER", 2)
    # No retries in the client: every 429 reaches the runner, whatever order the POSTs race in.
    async with client_for(
        emulator, out_dir, retry=RetryPolicy(max_attempts=1, base_delay=0.01), concurrency=4
    ) as client:
        result = await client.batch(sweep(images=image, prompts=prompts), confirm=True)
        journal = client.journal
        assert journal is not None
        refused = [e for e in journal.entries() if e.status == NOT_SUBMITTED]

    assert all(item.ok for item in result)
    assert created_prompts(emulator) == prompts  # every job exactly once
    assert posts(emulator) == {"200": 8, "429": 4}
    assert sum(item.refusals for item in result) == 4 and len(refused) == 4
    limits = list(result.limits)
    lowest = limits.index(min(limits))
    assert limits[0] == 4 and min(limits) < 4  # lowered...
    assert max(limits[lowest:]) > min(limits)  # ...then raised again
    assert result.peak_in_flight <= 4


async def test_a_request_refused_too_often_fails_with_its_rate_limit_error(
    emulator: Emulator, out_dir: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.set_faults("retry_after=0,post:429=1")
    monkeypatch.setattr("kling_notebook.runtime.jobs.MAX_REFUSALS", 2)
    async with client_for(
        emulator, out_dir, retry=RetryPolicy(max_attempts=1, base_delay=0.01)
    ) as client:
        events: list[Tagged] = []
        result = await client.batch(sweep(images=image, prompts="never"), confirm=True, on_job=tag_into(events))
    (item,) = result.items
    assert isinstance(item.error, errors.RateLimitError) and item.refusals == 2
    assert [event.phase for _, event in events if event.is_final] == ["failed"]
    assert posts(emulator) == {"429": 3} and emulator.stats()["created"] == []


async def test_nothing_is_sent_without_confirm(
    client: AsyncKlingClient, emulator: Emulator, image: Path
) -> None:
    requests = sweep(images=image, prompts=["a", "b", "c"], durations=[5, 10])
    with pytest.raises(ConfirmationRequiredError) as caught:
        await client.batch(requests)
    message = str(caught.value)
    assert "6 generations" in message and "$12.60" in message and "confirm=True" in message
    assert caught.value.estimate.count == 6 and caught.value.estimate.usd == pytest.approx(12.6)
    assert posts(emulator) == {} and emulator.stats()["created"] == []
    assert client.journal is not None and client.journal.entries() == []


def test_sweep_is_the_product_with_common_fields(image: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.jpg"
    other.write_bytes(image.read_bytes())
    requests = sweep(
        prompts=["wave", "smile"], images=[image, other], durations=[5, 10], negative_prompt="blur"
    )
    assert len(requests) == 8
    combos = {(r.prompt, r.image, r.duration) for r in requests}
    assert combos == {(p, i, d) for p in ("wave", "smile") for i in (image, other) for d in (5, 10)}
    assert {r.negative_prompt for r in requests} == {"blur"}
    assert [(r.prompt, r.duration) for r in sweep(images=image, prompts="one prompt")] == [
        ("one prompt", 5)
    ]
    with pytest.raises(errors.ValidationError):
        sweep(images=image, durations=[7])
    with pytest.raises(errors.ValidationError):
        sweep(images=image, seed=3)  # a typo'd field is named, not dropped


async def test_adaptive_limit_halves_then_creeps_up_and_serves_in_order() -> None:
    limit = AdaptiveLimit(4, raise_after=2)
    for _ in range(4):
        await limit.acquire()
    limit.backed_off()
    assert limit.limit == 2
    order: list[int] = []

    async def holder(number: int) -> None:
        await limit.acquire()
        order.append(number)

    waiting = [asyncio.create_task(holder(n)) for n in range(3)]
    await asyncio.sleep(0)
    for _ in range(3):  # 4 -> 1 in flight: room for one under the lowered cap of 2
        limit.release()
    await asyncio.sleep(0)
    assert order == [0] and limit.in_flight == 2
    limit.succeeded()
    limit.succeeded()  # raise_after=2 successes: the cap goes up by one
    await asyncio.sleep(0)
    assert limit.limit == 3 and order == [0, 1]
    limit.release()
    await asyncio.gather(*waiting)
    assert order == [0, 1, 2] and limit.limits == [4, 2, 3] and limit.peak == 4


def test_the_sync_facade_runs_a_batch(emulator: Emulator, out_dir: Path, image: Path) -> None:
    client = KlingClient(client=client_for(emulator, out_dir))
    result = client.batch(sweep(images=image, prompts=["sync"]), confirm=True)
    assert [r.path.is_file() for r in result.results] == [True]
    with pytest.raises(ConfirmationRequiredError):
        client.batch(sweep(images=image, prompts=["unconfirmed"]))
    client.close()
    assert posts(emulator) == {"200": 1}
