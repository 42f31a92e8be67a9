"""A Job from plain Python shows itself: a live progress row that becomes the video (an
anywidget, so marimo shows it too), a line of text elsewhere; ``import kling_notebook`` still
loads no widgets."""

from __future__ import annotations

import subprocess
import sys

import pytest
from IPython.core.formatters import DisplayFormatter
from ipywidgets.widgets.widget import _instances

import kling_notebook
from kling_notebook import AsyncKlingClient, GenerationRequest, Job, JobRunner
from kling_notebook.frontends.panel import DEMO_IMAGE, JobsView

from .conftest import wait_for

WIDGET = "application/vnd.jupyter.widget-view+json"


def test_a_job_displays_as_a_progress_row_that_becomes_the_result(demo_client: AsyncKlingClient) -> None:
    job = JobRunner(demo_client).start(GenerationRequest(image=DEMO_IMAGE, prompt="shown <live>"))
    bundle, _metadata = DisplayFormatter().format(job)  # what a notebook cell does with `job`
    assert bundle["text/plain"].startswith(f"Job #{job.number}: ")
    view = _instances[bundle[WIDGET]["model_id"]]
    assert isinstance(view, JobsView) and view.jobs == [job] and view.view == "jobs"
    result = job.result(timeout=60)
    wait_for(lambda: view.rows and view.rows[0]["result"], what="the result")
    assert view.rows[0]["result"]["name"] == result.path.name
    assert "shown &lt;live&gt;" in view.rows[0]["result"]["details_html"]
    done, _ = DisplayFormatter().format(job)
    assert "completed" in done["text/plain"] and str(result.path) in done["text/plain"]


def test_exported_and_import_stays_light() -> None:
    assert {"Job", "JobRunner"} <= set(kling_notebook.__all__)
    assert kling_notebook.Job is Job and kling_notebook.JobRunner is JobRunner
    code = ("import sys, kling_notebook; kling_notebook.Job; "
            "assert 'ipywidgets' not in sys.modules and 'anywidget' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_text_only_without_widgets(demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kling_notebook.frontends.panel._progress", None)  # import fails
    job = Job(demo_client.runner, GenerationRequest(image=DEMO_IMAGE))
    assert job._repr_mimebundle_() == {"text/plain": f"Job #{job.number}: starting"}
