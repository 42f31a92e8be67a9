"""Re-running the panel cell while jobs run: the new panel shows the old panel's live jobs as
running there, and neither it nor resume() waits for them a second time (one file per video)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kling_notebook.emulator import Emulator
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.runtime.engine import run_blocking
from kling_notebook.runtime.jobs import live_generation_ids
from kling_notebook.runtime.resume import resume_async

from .conftest import demo_client_for, wait_for


@pytest.mark.slow
def test_a_new_panel_leaves_the_old_panels_jobs_alone(tmp_path: Path) -> None:
    with Emulator(job_seconds=4, video_width=160) as slow:
        old = KlingPanel(demo_client_for(slow, tmp_path, 60), prompt="first cell run")
        job = old.generate()
        assert job is not None
        wait_for(lambda: job.generation_id, what="the submission")
        assert job.generation_id in live_generation_ids()
        new = KlingPanel(demo_client_for(slow, tmp_path, 60))  # the cell run again
        (running,) = new.pending["running"]
        assert running["id"] == job.generation_id and new.pending["entries"] == []
        assert new.resume_all() is None
        report = run_blocking(resume_async(new.client))  # resume() from a cell skips it too
        assert report.recovered == () and report.failures == ()
        result = job.result(timeout=60)
        assert job.generation_id not in live_generation_ids()
        new.show_pending()
        assert new.pending == {"entries": [], "running": [], "notes": []}
        assert [p.name for p in tmp_path.glob("*.mp4")] == [result.path.name], "one file per video"
