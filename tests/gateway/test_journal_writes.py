"""The journal is written when a generation's state changes, not on every poll: a whole job with
dozens of status reads costs a handful of fsync'd commits, each of them news worth keeping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulated import TIME_SCALE

from kling_notebook import AsyncKlingClient, PollPolicy
from kling_notebook.emulator import Emulator
from kling_notebook.store.journal import Journal

EAGER = PollPolicy(time_scale=TIME_SCALE, first_check=1.0, sparse_interval=2.0)
#: A job of about 2.4 s, polled every few ms: dozens of polls even on a loaded machine.
SLOWER = {"time_scale": TIME_SCALE / 4}


@pytest.mark.parametrize("emulator", [SLOWER], indirect=True)
async def test_polls_write_only_when_something_changed(
    client: AsyncKlingClient, emulator: Emulator, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = 0
    write = Journal._write

    def counted(journal: Journal, work: Callable[[Any], Any]) -> Any:
        nonlocal commits
        commits += 1
        return write(journal, work)

    monkeypatch.setattr(Journal, "_write", counted)
    result = await client.generate(image=image, prompt="few writes", poll=EAGER, timeout=60)

    polls = emulator.stats()["requests"]["GET /v2/video/generations"]["200"]
    assert client.journal is not None
    entry = client.journal.get(result.id)
    assert entry is not None and entry.path == str(result.path)  # the file is recorded
    statuses = [status for _, status in entry.history]
    assert statuses[0] == "submitting" and statuses[-1] == "completed"
    # begin + submitted + one per later status + the .part and the file; credits may arrive on
    # their own poll
    news = 2 + (len(statuses) - 2) + 2
    assert polls >= 10 and news <= commits <= news + 1 < polls
