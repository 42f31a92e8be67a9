"""A Job from plain Python shows itself: a live progress row that becomes the video (widget front
ends), a line of text elsewhere; ``import kling_notebook`` still loads no widgets."""

from __future__ import annotations

import subprocess
import sys

import pytest
from IPython.core.formatters import DisplayFormatter
from ipywidgets.widgets.widget import _instances

import kling_notebook
from kling_notebook import AsyncKlingClient, GenerationRequest, Job, JobRunner
from kling_notebook.frontends.panel import DEMO_IMAGE, ProgressRow, ResultView

from .conftest import wait_for

WIDGET = "application/vnd.jupyter.widget-view+json"


def test_a_job_displays_as_a_progress_row_that_becomes_the_result(demo_client: AsyncKlingClient) -> None:
    job = JobRunner(demo_client).start(GenerationRequest(image=DEMO_IMAGE, prompt="shown <live>"))
    bundle, _metadata = DisplayFormatter().format(job)  # what a notebook cell does with `job`
    assert bundle["text/plain"].startswith(f"Job #{job.number}: ")
    row = _instances[bundle[WIDGET]["model_id"]]
    assert isinstance(row, ProgressRow) and row.job is job
    result = job.result(timeout=60)
    wait_for(lambda: row.result_box.children, what="the result view")
    assert isinstance(row.result_box.children[0], ResultView)
    done, _ = DisplayFormatter().format(job)
    assert "completed" in done["text/plain"] and str(result.path) in done["text/plain"]


def test_exported_and_import_stays_light() -> None:
    assert {"Job", "JobRunner"} <= set(kling_notebook.__all__)
    assert kling_notebook.Job is Job and kling_notebook.JobRunner is JobRunner
    code = "import sys, kling_notebook; kling_notebook.Job; assert 'ipywidgets' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_text_only_without_widgets(demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kling_notebook.frontends.panel._progress", None)  # import fails
    job = Job(demo_client.runner, GenerationRequest(image=DEMO_IMAGE))
    assert job._repr_mimebundle_() == {"text/plain": f"Job #{job.number}: starting"}
