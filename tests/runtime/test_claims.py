"""A generation being waited for by another process on this machine is left to it (a claim any
process sees), and a generation whose video is saved is not downloaded again."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulated import client_for

from kling_notebook import errors
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.runtime.resume import resume_async, survey
from kling_notebook.store.claims import claim


async def test_a_claimed_generation_is_left_to_its_claimant(emulator: Emulator, out_dir: Path, image: Path) -> None:
    async with client_for(emulator, out_dir) as client:
        generation = await client.submit(image=image, prompt="followed elsewhere")
        with claim(out_dir, generation.id) as mine:  # as another kernel's job would hold it
            assert mine
            found = await survey(client.journal, client)
            assert [e.generation_id for e in found.running] == [generation.id] and found.here == ()
            report = await resume_async(client)
            assert report.recovered == () and report.failures == ()
            with pytest.raises(errors.BusyElsewhereError, match="another process"):
                await client.runner.resume(generation.id).wait()
        emulator.complete_all_now()
        report = await resume_async(client)  # released: now it is resumed here
    assert [r.id for r in report.recovered] == [generation.id]


def test_wait_id_for_a_saved_video_returns_the_file_without_downloading(
    emulator: Emulator, out_dir: Path, image: Path, cli_on_emulator: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    async def generate() -> str:
        async with client_for(emulator, out_dir) as client:
            return str((await client.generate(image=image, prompt="saved once")).path)

    path = asyncio.run(generate())
    served = emulator.stats()["downloads"]["served"]
    (created,) = emulator.stats()["created"]
    assert cli.main(["wait", created, "--out", str(out_dir)]) == 0
    assert f"path: {path}" in capsys.readouterr().out
    assert emulator.stats()["downloads"]["served"] == served
