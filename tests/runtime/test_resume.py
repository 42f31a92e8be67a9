"""Resume against the emulator: downloads what was paid for and is missing, lists uncertain
attempts without resubmitting them until the user settles them with ``settle``, reports demo
generations whose emulator is gone, and works from the CLI with only the key in the environment."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from emulated import SMALL_VIDEO, client_for, posts

from kling_notebook import RetryPolicy, errors
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.runtime.resume import NotResumableError, resume_async
from kling_notebook.runtime.settle import settle_uncertain


@pytest.mark.parametrize("emulator", [{"faults": "download#1:fail_once"}], indirect=True)
async def test_a_failed_or_lost_download_is_downloaded_again(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    no_retries = RetryPolicy(max_attempts=1, base_delay=0.01)
    async with client_for(emulator, out_dir, retry=no_retries) as client:
        with pytest.raises(errors.DownloadError):
            await client.generate(image=image, prompt="download failed")
        kept = await client.generate(image=image, prompt="file deleted")
        kept.path.unlink()
    gets_before = emulator.stats()["requests"]["GET /v2/video/generations"]["200"]

    async with client_for(emulator, out_dir) as client:
        report = await resume_async(client)
        sizes = {
            r.id: (r.path.stat().st_size, (await client.get(r.id)).file_size)
            for r in report.recovered
        }

    assert report.ok and len(report.recovered) == 2
    assert all(got == expected for got, expected in sizes.values())
    assert {r.request.prompt for r in report.recovered if r.request} == {
        "download failed",
        "file deleted",
    }
    assert (
        emulator.stats()["requests"]["GET /v2/video/generations"]["200"] > gets_before
    )  # fresh URLs
    assert posts(emulator) == {"200": 2}


#: Logs that lag an hour behind cannot tell about a fresh attempt: the user is asked.
SLOW_LOGS = {"logs_lag": 3600}


@pytest.mark.parametrize("emulator", [SLOW_LOGS], indirect=True)
async def test_uncertain_attempts_are_listed_never_resubmitted(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    emulator.set_faults("post#1:reset_after")  # created on the server, the answer lost
    async with client_for(emulator, out_dir) as client:
        with pytest.raises(errors.SubmissionUncertainError):
            await client.submit(image=image, prompt="did it go through?")
        report = await resume_async(client)
    assert report.recovered == () and report.failures == () and not report.ok
    (uncertain,) = report.uncertain
    assert uncertain.entry.request["prompt"] == "did it go through?"
    row = uncertain.entry.row
    assert f"kling-notebook settle {row} --id ID" in uncertain.advice
    assert f"kling-notebook settle {row} --not-created" in uncertain.advice
    assert "never resubmits" in uncertain.advice
    assert posts(emulator) == {"reset": 1} and len(emulator.stats()["created"]) == 1


async def test_demo_generations_of_a_stopped_emulator_are_not_resumable(
    out_dir: Path, image: Path
) -> None:
    with Emulator(time_scale=60, video_width=SMALL_VIDEO) as gone:
        async with client_for(gone, out_dir) as client:
            generation = await client.submit(image=image, prompt="demo from an earlier kernel")
        base_url = gone.base_url
    report = await resume_async(out_dir=out_dir)  # no key anywhere: still no crash, no waiting
    (failure,) = report.not_resumable
    assert isinstance(failure.error, NotResumableError)
    assert failure.entry.generation_id == generation.id
    assert generation.id in str(failure.error) and base_url in str(failure.error)
    assert report.recovered == ()


def test_cli_resume_needs_only_the_key(
    emulator: Emulator,
    out_dir: Path,
    image: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def submit_two() -> set[str]:
        async with client_for(emulator, out_dir) as client:
            return {(await client.submit(image=image, prompt=f"cli {i}")).id for i in range(2)}

    ids = asyncio.run(submit_two())
    emulator.complete_all_now()
    monkeypatch.setenv("AIMLAPI_KEY", emulator.api_key)
    monkeypatch.setenv("AIMLAPI_BASE_URL", emulator.base_url)  # the key goes only where it is set for

    assert cli.main(["resume", "--out", str(out_dir), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert {item["id"] for item in report["recovered"]} == ids
    assert all(Path(item["path"]).is_file() for item in report["recovered"])
    assert report["failed"] == [] and report["uncertain"] == []
    assert "[1] completed" in captured.err and "[2] completed" in captured.err
    assert emulator.api_key not in captured.out + captured.err

    assert cli.main(["history", "--out", str(out_dir), "--limit", "1"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert "completed" in line and "'cli 1'" in line and line.split(" | ")[4] in ids
    assert cli.main(["resume", "--out", str(out_dir)]) == 0  # nothing left to do
    assert "0 recovered" in capsys.readouterr().out
    assert posts(emulator) == {"200": 2}


@pytest.mark.parametrize("emulator", [SLOW_LOGS], indirect=True)
def test_cli_settle_records_the_verdict_on_uncertain_attempts(
    emulator: Emulator,
    out_dir: Path,
    image: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The first POST creates its generation but the answer is lost; the second creates nothing.
    emulator.set_faults("post#1:reset_after,post#2:500")

    async def two_uncertain() -> None:
        async with client_for(emulator, out_dir) as client:
            for prompt in ("created", "never created"):
                with pytest.raises(errors.SubmissionUncertainError):
                    await client.submit(image=image, prompt=prompt)

    asyncio.run(two_uncertain())
    (created,) = emulator.stats()["created"]
    emulator.complete_all_now()
    monkeypatch.setenv("AIMLAPI_KEY", emulator.api_key)
    monkeypatch.setenv("AIMLAPI_BASE_URL", emulator.base_url)
    out = ["--out", str(out_dir)]

    assert cli.main(["resume", *out, "--json"]) == 7  # uncertain: check before paying again
    listed = json.loads(capsys.readouterr().out)["uncertain"]
    rows = {item["row"] for item in listed}
    assert len(rows) == 2
    assert all(f"kling-notebook settle {item['row']} " in item["advice"] for item in listed)
    found_row, empty_row = sorted(rows)

    assert cli.main(["settle", str(found_row), "--id", created, *out]) == 0
    assert "`kling-notebook resume` saves its video" in capsys.readouterr().out
    assert cli.main(["settle", str(empty_row), "--not-created", *out, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "row": empty_row,
        "status": "not_created",
        "id": None,
    }

    assert cli.main(["resume", *out, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [item["id"] for item in report["recovered"]] == [created]
    assert Path(report["recovered"][0]["path"]).is_file()
    assert report["uncertain"] == [] and report["failed"] == []
    assert posts(emulator) == {"reset": 1, "500": 1}  # nothing was ever submitted again

    # Settled and polled rows, unknown rows and ids of other attempts are refused as bad input.
    assert cli.main(["settle", str(found_row), "--not-created", *out]) == 2
    assert cli.main(["settle", "999", "--not-created", *out]) == 2
    assert cli.main(["settle", str(empty_row), "--id", created, *out]) == 2
    assert f"belongs to journal row {found_row}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["settle", str(empty_row), *out])  # --id or --not-created is required


def test_settle_needs_exactly_one_outcome(out_dir: Path) -> None:
    for outcome in ({}, {"generation_id": " "}, {"generation_id": "x", "not_created": True}):
        with pytest.raises(errors.ValidationError, match="either the generation id"):
            settle_uncertain(1, out_dir=out_dir, **outcome)


async def test_demo_generations_of_an_earlier_process_are_resumed_by_this_ones_demo_emulator(
    out_dir: Path, image: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "demo-registry"  # what the demo emulators of one user share
    with Emulator(time_scale=600, video_width=SMALL_VIDEO, registry=registry) as earlier:
        async with client_for(earlier, out_dir, demo=True) as client:
            generation = await client.submit(image=image, prompt="demo from an earlier kernel")
    with Emulator(time_scale=600, video_width=SMALL_VIDEO, registry=registry) as now:
        async with client_for(now, out_dir, demo=True) as client:
            report = await resume_async(client)
    assert [r.id for r in report.recovered] == [generation.id] and report.failures == ()
    assert report.recovered[0].path.is_file()
