"""Demo mode costs nothing and says so: its submits leave a budget untouched (and are never refused
by one), and wherever its credits are shown as text (a result's details, the CLI) they are
labelled simulated, so nobody reads them as money spent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulated import client_for

from kling_notebook import Budget
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.frontends.display import result_text
from kling_notebook.runtime.batch import sweep


async def test_demo_submits_debit_no_budget_and_are_not_refused_by_one(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    budget = Budget(usd=1.00)  # less than one 5 s video
    async with client_for(emulator, out_dir, demo=True, budget=budget) as client:
        result = await client.generate(image=image, prompt="free")
        batch = await client.batch(sweep(images=image, prompts=["a", "b"]), confirm=True, budget=budget)
    assert result.path.is_file() and len(batch.results) == 2
    assert budget.spent_usd == 0 and budget.reserved_usd == 0 and budget.spent_credits == 0


async def test_a_demo_results_credits_read_as_simulated(emulator: Emulator, out_dir: Path, image: Path) -> None:
    async with client_for(emulator, out_dir, demo=True) as client:
        demo = await client.generate(image=image, prompt="demo")
    async with client_for(emulator, out_dir) as client:
        live = await client.generate(image=image, prompt="live")
    assert demo.simulated and not live.simulated
    credits = [line for line in result_text(demo).splitlines() if "Credits" in line]
    assert credits and "simulated" in credits[0]
    assert "simulated" not in result_text(live)


@pytest.mark.usefixtures("cli_on_emulator")
def test_cli_labels_demo_credits_as_simulated(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["generate", "--image", str(image), "--demo"]) == 0
    text = capsys.readouterr().out
    assert "credits_used:" in text and "simulated" in text.split("credits_used:")[1].splitlines()[0]

    assert cli.main(["generate", "--image", str(image), "--demo", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert isinstance(shown["credits_used"], (int, float)) and shown["simulated"] is True
