"""Rows reach the browser throttled (a few updates a second, a job's end at once), with what the
view needs to move the clock itself between updates."""

from __future__ import annotations

import time
from typing import Any

from kling_notebook import AsyncKlingClient, GenerationRequest, Job
from kling_notebook.domain.events import JobEvent
from kling_notebook.frontends.panel import DEMO_IMAGE
from kling_notebook.frontends.panel._rows import THROTTLE_SECONDS, RowList

from .conftest import wait_for


def test_a_burst_of_events_is_sent_a_few_times_a_second(demo_client: AsyncKlingClient) -> None:
    sent: list[tuple[float, list[dict[str, Any]]]] = []
    rows = RowList(lambda states: sent.append((time.monotonic(), states)))
    job = demo_client.runner.start(GenerationRequest(image=DEMO_IMAGE, prompt="burst"))
    row = rows.add(job)
    job.result(timeout=60)
    wait_for(lambda: sent and sent[-1][1][0]["final"], what="the end to be sent")
    before = len(sent)
    started = time.monotonic()
    for done in range(2000):  # a download reporting every chunk, for half a second
        row._on_event(JobEvent(phase="downloading", elapsed=1.0, bytes_done=done, bytes_total=2000))
        if time.monotonic() - started > 0.5:
            break
    time.sleep(THROTTLE_SECONDS * 2)
    bursts = len(sent) - before
    assert bursts == 0, "events after the end are not drawn"
    assert sent[-1][1][0]["phase"] == "completed"


def test_throttle_coalesces_and_flushes_the_last_state() -> None:
    sent: list[list[dict[str, Any]]] = []
    rows = RowList(sent.append, interval=0.2)
    for _ in range(500):
        rows._poke()
    assert len(sent) == 1, "the first goes at once, the rest wait for the interval"
    time.sleep(0.35)
    assert len(sent) == 2, "then one more with the latest state"
    rows._poke(True)  # a new phase or an end: at once
    assert len(sent) == 3 and rows.published == 3


def test_a_row_carries_what_the_browser_clock_needs(demo_client: AsyncKlingClient) -> None:
    sent: list[list[dict[str, Any]]] = []
    rows = RowList(sent.append)
    job = Job(demo_client.runner, GenerationRequest(image=DEMO_IMAGE, prompt="clock"))  # never started
    row = rows.add(job)
    assert row.state()["phase"] == "held" and row.state()["words"] == "starting"
    row._on_event(JobEvent(phase="generating", elapsed=4.0, fraction=0.5, eta=30.0))
    state = row.state()
    assert state["phase"] == "generating" and state["fraction"] == 0.5
    assert 4.0 <= state["elapsed"] < 5.0 and 29.0 < state["eta"] <= 30.0
    time.sleep(0.3)
    later = row.state()
    assert later["elapsed"] > state["elapsed"] and later["eta"] < state["eta"]  # measured when sent
    row._on_event(JobEvent(phase="completed", elapsed=9.0))
    done = row.state()
    assert done["final"] and done["eta"] is None and done["fraction"] == 1.0 and done["elapsed"] == 9.0
    assert sent[-1][0]["final"], "an end is sent at once"
