"""The batch view (one anywidget): nothing is sent before "Confirm: N videos, about $X" is
pressed; then a row per job follows it and each row becomes its video."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from emulated import client_for, posts
from widget_state import widget_html

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
    assert view.batch["confirm"] == "Confirm: 3 videos, about $4.20" and not view.batch["confirmed"]
    assert "Nothing is sent until you confirm" in view.batch["summary"]
    assert HOSTILE in view.batch["titles"][0]  # plain text: the view sets it as text
    shown = "\n".join(widget_html(view))
    assert html.escape(HOSTILE) in shown and "<b onmouseover" not in shown
    assert posts(emulator) == {}

    view.receive({"kind": "confirm"}, [])  # what the view's Confirm button sends
    result = await view.wait()

    assert view.batch["confirmed"] and view.confirm() is view.future  # runs once
    assert [item.ok for item in result] == [True, True, True]
    wait_for(lambda: all(row["final"] for row in view.rows), what="every row's end")
    assert all(row["phase"] == "completed" and row["fraction"] == 1.0 for row in view.rows)
    assert all(row["generation_id"] for row in view.rows)
    assert not view.cancellable and view.view == "batch"  # a batch stops as a whole
    players = [row["result"] for row in view.rows]
    assert sorted(player["name"] for player in players) == sorted(r.path.name for r in result.results)
    assert not any("<b onmouseover" in player["details_html"] for player in players)
    assert "3 saved, 0 failed" in view.batch["summary"] and not view.batch["stoppable"]
    assert posts(emulator) == {"200": 3}


async def test_a_refused_batch_says_why_and_sends_nothing(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    async with client_for(emulator, out_dir, budget=Budget(usd=1.00)) as client:
        view = BatchView(client, sweep(images=image, prompts="too dear"))
        with pytest.raises(errors.BudgetExceededError):
            await view.wait()
    assert (
        "did not start" in view.batch["summary"] and "1.40 USD, 1.00 USD remain" in view.batch["summary"]
    )
    assert posts(emulator) == {}


async def test_stop_waiting_stops_the_whole_batch(client: AsyncKlingClient, image: Path) -> None:
    view = BatchView(client, sweep(images=image, prompts=["one", "two"]))
    view.receive({"kind": "stop"}, [])  # before Confirm: nothing to stop
    assert view.future is None
    view.receive({"kind": "confirm"}, [])
    assert view.batch["stoppable"] and view.batch["titles"] == []
    view.receive({"kind": "stop"}, [])
    wait_for(lambda: "Stopped waiting" in view.batch["summary"], what="the stop")
    assert view.future is not None and view.future.cancelled() and not view.batch["stoppable"]
