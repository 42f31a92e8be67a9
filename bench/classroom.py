"""Benchmark 7: a class of 30 students generating at once on one account with a concurrency limit.

The teacher's management key makes 30 capped keys on an emulator in its own process whose account
runs at most LIMIT generations at once (429 with Retry-After beyond it, as the gateway answers);
30 clients, one per student key as 30 panels would hold them, apply their key's allowance and
submit a 5 s v2.1 master video each, at the same moment. Each job is held while the gateway
refuses it ("waiting for a free slot at the gateway") and submitted again.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from ._common import BENCH_KEY, Table, emulator_process, test_image

if TYPE_CHECKING:
    from kling_notebook.domain.events import JobEvent

STUDENTS = 30
LIMITS = (5, 10)
QUICK_LIMITS = (5,)
SCALE = 60.0
QUICK_SCALE = 120.0
LONGEST_JOB = 360.0  # the top of v2.1 master's 5-6 minutes for a 5 s video
MANAGEMENT = "bench-management-key-0123"


async def _class(base_url: str, scale: float, folder: Path) -> dict[str, float]:
    from kling_notebook import AsyncKlingClient, PollPolicy, RetryPolicy
    from kling_notebook.runtime.classroom import Classroom, apply_allowance
    from kling_notebook.runtime.jobs import WAITING_FOR_A_SLOT

    async with Classroom(MANAGEMENT, base_url) as teacher:
        roster = await teacher.create(STUDENTS, 5.0, "day", name="bench")
    # The runtime's backoff on the emulator's clock, as the poll schedule is (a real class: x1).
    retry = RetryPolicy(base_delay=0.5 / scale, max_delay=30.0 / scale)
    students = [
        AsyncKlingClient(seat.key, base_url, out_dir=folder / seat.student,
                         poll=PollPolicy(time_scale=scale), retry=retry)
        for seat in roster.seats
    ]  # fmt: skip
    held: set[int] = set()

    def watcher(index: int) -> Callable[[JobEvent], None]:
        def watch(event: JobEvent) -> None:
            if event.phase == "held" and event.message.startswith(WAITING_FOR_A_SLOT):
                held.add(index)

        return watch

    image = test_image(480, 480)
    try:
        for student in students:
            await apply_allowance(student)
        start = time.perf_counter()
        jobs = [s.start(image=image, prompt="a wave", on_event=watcher(i)) for i, s in enumerate(students)]
        outcomes = await asyncio.gather(*(job.wait() for job in jobs), return_exceptions=True)
        wall = time.perf_counter() - start
    finally:
        for student in students:
            await student.aclose()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {BENCH_KEY}"}) as http:
        stats = (await http.get(f"{base_url}/_emulator/stats")).json()
    saved = sum(1 for o in outcomes if not isinstance(o, BaseException) and o.path.is_file())
    return {
        "wall": wall,
        "saved": saved,
        "failed": sum(isinstance(o, BaseException) for o in outcomes),
        "held": len(held),
        "refused": stats["concurrency"]["refused"],
        "peak": stats["concurrency"]["peak"],
    }


def _run_one(limit: int, scale: float) -> dict[str, float]:
    options = ("--time-scale", str(scale), "--video-width", "160", "--seed", "3",
               "--management-key", MANAGEMENT, "--concurrency", str(limit))  # fmt: skip
    with emulator_process(*options) as base_url, tempfile.TemporaryDirectory(prefix="kling-class-") as folder:
        return asyncio.run(_class(base_url, scale, Path(folder)))


def run(quick: bool = False) -> Table:
    scale = QUICK_SCALE if quick else SCALE
    longest = LONGEST_JOB / scale
    table = Table(
        "7. A class: 30 student panels on one account",
        f"{STUDENTS} clients, each with its own capped key (made by the management key), submit one "
        f"5 s v2.1 master video each at once to an emulator in another process whose account runs at "
        f"most LIMIT generations (429 with Retry-After beyond it), at time scale {scale:g} (5-6 min "
        f"scaled to {300 / scale:.0f}-{longest:.0f} s; the runtime's backoff scaled alike). Ideal = "
        f"ceil({STUDENTS} / LIMIT) waves of the longest job ({longest:.0f} s). Held = jobs that said "
        "\"waiting for a free slot at the gateway\"; refused = the gateway's 429s.",
        ["concurrency limit", "saved", "failed", "held", "429s", "peak running", "wall s", "ideal s",
         "wall / ideal"],  # fmt: skip
    )
    verdicts = []
    for limit in QUICK_LIMITS if quick else LIMITS:
        found = _run_one(limit, scale)
        ideal = math.ceil(STUDENTS / limit) * longest
        table.add(limit, int(found["saved"]), int(found["failed"]), int(found["held"]),
                  int(found["refused"]), int(found["peak"]), found["wall"], ideal,
                  found["wall"] / ideal)  # fmt: skip
        verdicts.append(found["saved"] == STUDENTS and not found["failed"] and found["peak"] <= limit)
    table.target(f"every one of the {STUDENTS} jobs ends saved, none failed by the limit", all(verdicts))
    return table
