"""Every fault the emulator can inject, on concurrent generations, with exact accounting.

Each case runs JOBS ``client.generate()`` calls at once and checks, from both sides:
every job ends with a saved video or with the one typed error that fault means; the emulator
received exactly one create call per job (plus refused 429s) and created exactly the generations
the client meant to; every id the client learned is in the journal, and every create whose
outcome the client could not know is journalled as uncertain. No broken file is ever saved as
complete: every saved video is a whole MP4, byte for byte the object its CDN serves; and a
generation whose download failed stays unfinished in the journal, so resume fetches it again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_notebook import GenerationResult, errors
from kling_notebook.emulator._faults import SCOPES
from kling_notebook.gateway.download import DownloadPolicy
from kling_notebook.store.journal import NOT_SUBMITTED, UNCERTAIN, Journal
from kling_notebook.store.mp4 import require_mp4

from ._support import API_PATH

JOBS = 12
#: Generations take 1/FAST of their documented time (0.1-0.3 s): the faults, not the waits, are
#: what is tested, and the fault delays below are real seconds whatever the scale.
FAST = 3000.0


def _two(scope: str, kind: str) -> str:
    """A script faulting the 2nd and 5th event of ``scope``."""
    return f"{scope}#2:{kind},{scope}#5:{kind}"


@dataclass(frozen=True)
class Case:
    """A fault spec and what it must lead to."""

    spec: str
    errors: dict[str, int] = field(default_factory=dict)  # error class name -> jobs
    created: int = JOBS  # generations the emulator must have created
    posts: int = JOBS  # create calls the emulator must have received
    unknown: int = 0  # created generations whose id the client could not learn
    client: dict[str, Any] = field(default_factory=dict)  # client options
    fault: str = ""  # the stats key proving the fault was injected (default: the case name)


UNCERTAIN_2 = {"SubmissionUncertainError": 2}
#: A download must bring 2 KiB each second: a stalled or trickling CDN is left within one.
BRISK = {"download_policy": DownloadPolicy(window=1.0, min_rate=2048)}
CASES: dict[str, Case] = {
    **{
        f"post:{status}": Case(_two("post", status), UNCERTAIN_2, created=JOBS - 2)
        for status in ("500", "502", "503", "504")
    },
    "post:reset_before": Case(_two("post", "reset_before"), UNCERTAIN_2, created=JOBS - 2),
    "post:reset_after": Case(_two("post", "reset_after"), UNCERTAIN_2, unknown=2),
    # The body is cut, its x-inference-id header is not: it names the generation.
    "post:malformed": Case(_two("post", "malformed")),
    "post:slow": Case(_two("post", "slow") + ",delay=0.3"),
    "post:slow past the read timeout": Case(
        "post#2:slow,delay=3", {"SubmissionUncertainError": 1}, unknown=1,
        client={"timeout": 1.0}, fault="post:slow",
    ),
    "post:429": Case(_two("post", "429") + ",retry_after=0", posts=JOBS + 2),
    **{
        f"get:{kind}": Case(f"get:{kind}=0.3,delay=0.2,retry_after=0")
        for kind in SCOPES["get"]
    },
    "get:slow past the read timeout": Case(
        "get:slow=0.2,delay=1.5", client={"timeout": 0.5}, fault="get:slow"
    ),
    "job:error": Case(_two("job", "error"), {"GenerationFailedError": 2}),
    "job:no_video": Case(_two("job", "no_video"), {"MissingVideoError": 2}),
    "download:fail_once": Case("download:fail_once=0.5"),
    "download:reset_once": Case("download:reset_once=0.5"),
    # The CDN cuts, pads, replaces or starves the first download of half the videos: each is
    # noticed (sizes, MP4 boxes, validators, the minimum rate) and resumed or restarted.
    **{
        f"download:{kind}": Case(f"download:{kind}=0.5", client=BRISK)
        for kind in ("no_length", "short_length", "long_body", "changed", "stall", "trickle")
    },
    # For good: those two videos cannot be fetched; their generations stay unfinished.
    "download:redirect_loop": Case(_two("download", "redirect_loop"), {"DownloadError": 2}),
    "credits_after": Case("credits_after=7", {"InsufficientCreditsError": JOBS - 7}, created=7),
}


def test_every_fault_kind_has_a_case() -> None:
    """A fault kind added to the emulator must get a case here."""
    kinds = {f"{scope}:{kind}" for scope, kinds in SCOPES.items() for kind in kinds}
    assert kinds | {"credits_after"} <= set(CASES)


async def run_jobs(client: Any, jpeg: bytes) -> list[Any]:
    async with client:
        return await asyncio.gather(
            *(client.generate(image=jpeg, prompt=f"job {i}", timeout=60) for i in range(JOBS)),
            return_exceptions=True,
        )


def post_count(stats: Any) -> int:
    return sum(stats["requests"].get(f"POST {API_PATH}", {}).values())


async def answered(emulator: Any, posts: int, patience: float = 5.0) -> Any:
    """The emulator's stats once it has answered ``posts`` create calls (a slow answer is
    counted when it leaves, after the client gave up on it), or after ``patience`` seconds."""
    deadline = asyncio.get_running_loop().time() + patience
    while post_count(stats := emulator.stats()) < posts and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return stats


@pytest.mark.parametrize("name", list(CASES))
async def test_fault(name: str, make_emulator: Any, make_client: Any, jpeg: bytes,
                     tmp_path: Path) -> None:
    case = CASES[name]
    emulator = make_emulator(faults=case.spec, time_scale=FAST)
    outcomes = await run_jobs(make_client(emulator, **case.client), jpeg)
    stats = await answered(emulator, case.posts)

    failures = Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException))
    assert failures == Counter(case.errors), [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, errors.KlingError) for o in outcomes if isinstance(o, BaseException))
    results = [o for o in outcomes if isinstance(o, GenerationResult)]
    assert len(results) == JOBS - sum(case.errors.values())
    async with httpx.AsyncClient() as cdn:
        for result in results:  # whole, and the CDN's object now (a changed one: its new version)
            require_mp4(result.path)
            served = await cdn.get(result.generation.video_url or "")
            assert result.path.read_bytes() == served.content
            if name != "download:changed":
                assert result.path.stat().st_size == result.generation.file_size
    assert len({r.path for r in results}) == len(results)  # no two share a file

    assert stats["faults"].get(case.fault or name, 0) > 0, stats["faults"]
    assert post_count(stats) == case.posts
    created = set(stats["created"])
    assert len(created) == case.created

    with Journal.in_dir(tmp_path / "outputs") as journal:
        entries = journal.entries(limit=1000)
    assert len(entries) == JOBS  # one row per job, whatever happened
    known = {e.generation_id for e in entries if e.generation_id}
    assert known <= created and len(created - known) == case.unknown
    statuses = Counter(e.status for e in entries)
    assert statuses[UNCERTAIN] == failures["SubmissionUncertainError"]
    assert statuses[NOT_SUBMITTED] == failures["InsufficientCreditsError"]
    assert statuses["error"] == failures["GenerationFailedError"]
    by_id = {e.generation_id: e for e in entries if e.generation_id}
    assert {r.id for r in results} == {i for i, e in by_id.items() if e.path}
    assert all(by_id[r.id].status == "completed" for r in results)
    for outcome in outcomes:
        if isinstance(outcome, errors.GenerationFailedError):  # MissingVideoError included
            assert outcome.generation_id in created
            assert by_id[outcome.generation_id].path is None
    unfinished = {e.generation_id for e in journal_unfinished(tmp_path)}
    for outcome in outcomes:
        if isinstance(outcome, errors.DownloadError):  # paid, not saved, and resume will fetch it
            entry = by_id[outcome.generation_id]
            assert entry.status == "completed" and entry.path is None
            assert outcome.generation_id in unfinished


def journal_unfinished(tmp_path: Path) -> list[Any]:
    with Journal.in_dir(tmp_path / "outputs") as journal:
        return journal.unfinished()
