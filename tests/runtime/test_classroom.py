"""A class on one account, over the emulator's real sockets: the teacher creates capped keys,
students generate until their limits (refused before sending past them), the teacher reads the
spend and revokes the keys; 30 students submitting at once on an account with a small
concurrency limit all end with their videos saved, held meanwhile, never failed by the limit."""

from __future__ import annotations

import asyncio
import csv
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from emulated import FAST_RETRY, posts

from kling_notebook import AsyncKlingClient, RetryPolicy, errors
from kling_notebook.domain.events import JobEvent
from kling_notebook.emulator import Emulator
from kling_notebook.runtime.classroom import Classroom, Roster, apply_allowance, read_allowance
from kling_notebook.runtime.jobs import WAITING_FOR_A_SLOT

MANAGEMENT = "mgmt-key-for-the-class-tests"


def teacher(emu: Emulator) -> Classroom:
    return Classroom(emu.management_key, emu.base_url, retry=FAST_RETRY)


async def test_a_class_end_to_end(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient],
    image: Path, tmp_path: Path,
) -> None:  # fmt: skip
    emu = make_emulator(management_key=MANAGEMENT)
    async with teacher(emu) as desk:
        roster = await desk.create(["ada", "grace"], 3.0, "day", name="art 101")
        assert [seat.student for seat in roster.seats] == ["ada", "grace"]
        assert all(seat.key and seat.key.startswith(seat.prefix) for seat in roster.seats)

        roster.write(tmp_path / "roster.csv")
        text = (tmp_path / "roster.csv").read_text()
        assert all(seat.key not in text for seat in roster.seats if seat.key)  # no secrets
        rows = list(csv.DictReader(text.splitlines()))
        assert rows[0] == {"student": "ada", "key_prefix": roster.seats[0].prefix, "limit_usd": "3", "period": "day"}
        keys = roster.write_keys(tmp_path / "keys.csv")
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        with pytest.raises(errors.ConfigurationError, match="exists"):
            roster.write_keys(keys)  # never overwritten
        assert Roster.read(keys).seats[1].key == roster.seats[1].key
        assert Roster.read(tmp_path / "roster.csv").seats == tuple(
            type(seat)(seat.student, seat.prefix, seat.limit) for seat in roster.seats
        )

        ada = roster.seat("ada")
        async with make_client(emu, api_key=ada.key) as student:
            allowance = await apply_allowance(student)
            assert allowance.remaining_usd == 3.0 and allowance.resets_at is not None
            assert "$3.00 of $3.00 per day left" in str(allowance)
            for _ in range(2):  # $1.40 each
                await student.generate(image=image, prompt="a wave")
            after = await read_allowance(student)
            assert after.spent_usd == pytest.approx(2.80) and after.remaining_usd == pytest.approx(0.20)
            sent = posts(emu)
            with pytest.raises(errors.BudgetExceededError, match="Nothing was sent"):
                await student.generate(image=image, prompt="one more")
            assert posts(emu) == sent  # refused before sending

        usage = await desk.usage(roster)
        by_name = {row.seat.student: row for row in usage}
        assert by_name["ada"].spent_usd == pytest.approx(2.80) and by_name["ada"].requests == 2
        assert by_name["ada"].left_usd == pytest.approx(0.20)
        assert by_name["grace"].spent_usd == 0 and by_name["grace"].left_usd == 3.0

        assert sorted(await desk.revoke(roster)) == sorted(seat.prefix for seat in roster.seats)
        assert await desk.revoke(roster) == []  # already gone
        assert {row.status for row in await desk.usage(roster)} == {"revoked"}
    async with make_client(emu, api_key=ada.key) as revoked:
        with pytest.raises(errors.AuthenticationError):
            await read_allowance(revoked)


async def test_the_gateway_refuses_past_a_limit_with_a_key_limit_error(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient], image: Path
) -> None:
    emu = make_emulator(management_key=MANAGEMENT)
    async with teacher(emu) as desk:
        (seat,) = (await desk.create(1, 1.0, "week")).seats
    async with make_client(emu, api_key=seat.key) as student:  # no allowance applied: the gateway says no
        with pytest.raises(errors.KeyLimitError, match="spending limit") as caught:
            await student.submit(image=image)
    assert caught.value.status_code == 403 and emu.stats()["billing"]["holds"] == 0


async def test_an_allowance_counts_this_clients_unfinished_generations(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient], image: Path
) -> None:
    emu = make_emulator(management_key=MANAGEMENT, job_seconds=3)
    async with teacher(emu) as desk:
        (seat,) = (await desk.create(1, 5.0, "month")).seats
    async with make_client(emu, api_key=seat.key) as student:
        job = student.start(image=image, timeout=30)
        while job.generation_id is None:
            await asyncio.sleep(0.05)
        running = await apply_allowance(student)
        assert (running.spent_usd, running.unfinished_usd) == (0.0, 1.40)
        assert running.remaining_usd == pytest.approx(3.60) and student.budget is not None
        await job.wait()
        done = await read_allowance(student)
        assert (done.spent_usd, done.unfinished_usd) == (pytest.approx(1.40), 0.0)


async def test_a_key_without_a_limit_has_no_budget(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient]
) -> None:
    emu = make_emulator(management_key=MANAGEMENT)
    async with teacher(emu) as desk:
        (seat,) = (await desk.create(1, None)).seats
    async with make_client(emu, api_key=seat.key) as student:
        allowance = await apply_allowance(student)
    assert allowance.remaining_usd is None and student.budget is None
    assert "no spending limit" in str(allowance)


def test_the_management_key_comes_from_the_environment_and_never_shows(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KLING_NOTEBOOK_DEMO", "0")
    with pytest.raises(errors.ConfigurationError, match="AIMLAPI_MANAGEMENT_KEY"):
        Classroom()
    clean_env.setenv("AIMLAPI_MANAGEMENT_KEY", "mgmt-SECRET-123")
    desk = Classroom(base_url="http://127.0.0.1:9")
    assert not desk.demo and "SECRET" not in repr(desk) and "SECRET" not in repr(desk.management)


@pytest.mark.slow
async def test_thirty_students_on_one_account_all_end_saved(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient],
    image: Path, tmp_path: Path,
) -> None:  # fmt: skip
    limit = 3
    emu = make_emulator(management_key=MANAGEMENT, concurrency=limit, job_seconds=0.6)
    async with teacher(emu) as desk:
        roster = await desk.create(30, 5.0, "day")
    students = [
        make_client(emu, api_key=seat.key, out_dir=tmp_path / seat.student,
                    retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05))
        for seat in roster.seats
    ]  # fmt: skip
    said: list[str] = []

    def listen(event: JobEvent) -> None:
        if event.phase == "held":
            said.append(event.message)

    try:
        for student in students:
            await apply_allowance(student)
        jobs = [student.start(image=image, prompt="a wave", on_event=listen) for student in students]
        results = await asyncio.gather(*(job.wait() for job in jobs), return_exceptions=True)
    finally:
        for student in students:
            await student.aclose()
    failed = [result for result in results if isinstance(result, BaseException)]
    assert failed == []
    assert all(result.path.is_file() for result in results if not isinstance(result, BaseException))
    concurrency = emu.stats()["concurrency"]
    assert concurrency["peak"] <= limit and concurrency["refused"] > 0
    assert any(message.startswith(WAITING_FOR_A_SLOT) for message in said)
    assert sum(job.refusals for job in jobs) > 0
    assert emu.stats()["billing"]["charges"] == 30
