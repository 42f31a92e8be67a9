"""The batch view: nothing is sent before "Confirm: N videos, about $X" is pressed; then a row per
job follows it and the results appear as a grid of videos."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from emulated import client_for, posts

from kling_notebook import AsyncKlingClient, Budget, errors
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel._batch import BatchView
from kling_notebook.runtime.batch import sweep

from .conftest import wait_for

HOSTILE = "<b onmouseover=alert(1)>bold</b> & co"


async def test_confirm_then_rows_and_videos_fill_in(
    client: AsyncKlingClient, emulator: Emulator, image: Path
) -> None:
    view = BatchView(client, sweep(images=image, prompts=[HOSTILE, "two", "three"]))
    assert view.confirm_button.description == "Confirm: 3 videos, about $4.20"
    assert "Nothing is sent until you confirm" in view.summary.value
    title = view.preview.children[0].value
    assert html.escape(HOSTILE, quote=True) in title and "<b onmouseover" not in title
    assert posts(emulator) == {}

    view.confirm_button.click()
    result = await view.wait()

    assert view.confirm_button.disabled and view.confirm() is view.future  # runs once
    assert [item.ok for item in result] == [True, True, True]
    wait_for(lambda: all(row["final"] for row in view.rows), what="every row's end")
    assert all(row["phase"] == "completed" and row["fraction"] == 1.0 for row in view.rows)
    assert all(row["generation_id"] for row in view.rows)
    assert not view.jobs_view.cancellable  # a batch stops as a whole
    players = [row["result"] for row in view.rows]
    assert sorted(player["name"] for player in players) == sorted(r.path.name for r in result.results)
    assert not any("<b onmouseover" in player["details_html"] for player in players)
    assert "3 saved, 0 failed" in view.summary.value
    assert posts(emulator) == {"200": 3}


async def test_a_refused_batch_says_why_and_sends_nothing(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    async with client_for(emulator, out_dir, budget=Budget(usd=1.00)) as client:
        view = BatchView(client, sweep(images=image, prompts="too dear"))
        with pytest.raises(errors.BudgetExceededError):
            await view.wait()
    assert (
        "did not start" in view.summary.value and "1.40 USD, 1.00 USD remain" in view.summary.value
    )
    assert posts(emulator) == {}
