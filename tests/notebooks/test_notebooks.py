"""Every notebooks/*.ipynb is stored stripped and runs top to bottom in a fresh kernel.

Each notebook runs from a temporary copy of notebooks/ (its working directory), with no API key in
the environment (demo mode) and its outputs in a temporary folder; then once more with a key and a
base URL pointing at a local emulator, as a user with a real key would run it ("live" mode, the
default poll schedule), to show that nothing in the main path is demo-only and that the key never
shows up in an output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kling_notebook.emulator import Emulator
from kling_notebook.gateway.settings import BASE_URL_ENV_VARS, KEY_ENV_VARS

from .strip import main as strip_main
from .strip import problems

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "kling-notebook-tests"
#: Demo-mode run time of one notebook's cells (kernel start not included).
RUN_TIME_LIMIT = 60.0


@dataclass
class Run:
    """One executed notebook: its cells' outputs and the folder its videos went to."""

    notebook: nbformat.NotebookNode
    outputs_dir: Path
    seconds: float

    @property
    def outputs(self) -> list[dict]:
        return [
            out for cell in self.notebook.cells if cell.cell_type == "code" for out in cell.outputs
        ]

    @property
    def text(self) -> str:
        """Everything printed or displayed, as one string."""
        parts = []
        for out in self.outputs:
            parts.append(out.get("text", ""))
            parts.extend(
                value if isinstance(value, str) else json.dumps(value)
                for value in out.get("data", {}).values()
            )
        return "\n".join(parts)

    def videos(self) -> list[Path]:
        return sorted(path for path in self.outputs_dir.rglob("*.mp4") if path.stat().st_size > 0)

    def shown(self, mime: str) -> int:
        return sum(mime in out.get("data", {}) for out in self.outputs)


def _ids(path: Path) -> str:
    return path.stem


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec for this interpreter, found before any user-level 'python3'."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "kling_notebook tests",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(spec.parents[1]))
    return KERNEL


def _clean_env(outputs_dir: Path) -> dict[str, str]:
    """This process's environment without any key, base URL or kling_notebook setting."""
    dropped = (*KEY_ENV_VARS, *BASE_URL_ENV_VARS)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith("KLING_NOTEBOOK_")
    }
    env["KLING_NOTEBOOK_OUTPUTS"] = str(outputs_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _cell_seconds(cell: nbformat.NotebookNode) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def execute(path: Path, tmp_path: Path, kernel: str, **env: str) -> Run:
    """Run a copy of ``path`` (with its folder's files beside it) and return what it showed."""
    workdir = tmp_path / "notebooks"
    shutil.copytree(
        path.parent, workdir, ignore=shutil.ignore_patterns("kling_outputs", ".ipynb_checkpoints")
    )
    outputs_dir = tmp_path / "outputs"
    notebook = nbformat.read(workdir / path.name, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=240,
        record_timing=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env={**_clean_env(outputs_dir), **env})
    errors = [
        f"cell {n}: {out.get('ename')}: {out.get('evalue')}"
        for n, cell in enumerate(notebook.cells, 1)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, errors
    seconds = sum(_cell_seconds(cell) for cell in notebook.cells if cell.cell_type == "code")
    return Run(notebook, outputs_dir, seconds)


# -- what each notebook must show -----------------------------------------------------------


def _quickstart(run: Run, keyed: bool) -> None:
    assert run.shown("application/vnd.jupyter.widget-view+json") >= 1  # the panel


def _python_api(run: Run, keyed: bool) -> None:
    text = run.text
    mode = "generations use credits" if keyed else "demo mode: simulated videos, no credits used"
    assert mode in text
    for marker in (
        "ValidationError on prompt",
        "ValidationError on image",
        "GenerationFailedError: Generation",
        "SubmissionUncertainError: The submission may or may not have reached the gateway",
        "WaitTimeoutError: Stopped waiting",
        "resume: 1 recovered, 0 failed, 1 uncertain",
    ):
        assert marker in text, marker
    assert run.shown("text/html") >= 3 and "<video controls" in text  # results display themselves
    # generate, step by step, the blocking client, and the one resumed from the faulty emulator
    names = [video.name for video in run.videos()]
    assert len(names) == 4, names
    assert "step-by-step.mp4" in names


def _batch(run: Run, keyed: bool) -> None:
    if keyed:  # with a real key, running the notebook must not confirm a paid batch by itself
        assert "Press Confirm above to start the batch: nothing has been sent yet." in run.text
        assert run.videos() == []
    else:
        assert run.videos(), "a demo sweep saves videos"


def _how_it_works(run: Run, keyed: bool) -> None:
    text = run.text
    assert "%3Akling-video%2Fv2.1%2Fmaster%2Fimage-to-video" in text  # the id, encoded
    assert "/v2/generate/video/kling/generation -> " in text  # the legacy pair answers too
    assert text.count("<svg") >= 2  # the poll timeline and the backoff chart
    assert "'503'" in text and "the wait ended with: completed" in text
    assert "asyncio.run() -> asyncio.run() cannot be called from a running event loop" in text
    kernel_ticks = int(re.search(r"kernel loop: (\d+) ticks", text)[1])
    engine_ticks = int(re.search(r"engine loop: (\d+) ticks", text)[1])
    assert kernel_ticks <= 1 and engine_ticks >= 10, (kernel_ticks, engine_ticks)
    assert "phases seen: " in text and "-> completed" in text
    assert len(run.videos()) == 1


def _anything(run: Run, keyed: bool) -> None:
    assert run.outputs, "the notebook showed nothing"


CHECKS: dict[str, Callable[[Run, bool], None]] = {
    "01-quickstart.ipynb": _quickstart,
    "02-python-api.ipynb": _python_api,
    "03-batch-and-gallery.ipynb": _batch,
    "04-how-it-works.ipynb": _how_it_works,
}


def test_the_notebooks_of_this_project_are_here() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert {"02-python-api.ipynb", "04-how-it-works.ipynb"} <= set(names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert problems(notebook) == [], (
        f"run: python tests/notebooks/strip.py {path.relative_to(ROOT)}"
    )


def test_strip_removes_what_a_run_leaves(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# hi"), nbformat.v4.new_code_cell("print(1)")]
    )
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell = notebook.cells[1]
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    cell.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    path = tmp_path / "run.ipynb"
    nbformat.write(notebook, path)

    assert strip_main(["--check", str(path)]) == 1
    assert len(problems(nbformat.read(path, as_version=4))) == 4
    assert strip_main([str(path)]) == 0
    stripped = nbformat.read(path, as_version=4)
    assert problems(stripped) == []
    assert stripped.cells[1].source == "print(1)" and stripped.cells[0].source == "# hi"
    assert strip_main(["--check", str(path)]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_runs_in_demo_mode(path: Path, tmp_path: Path, kernel: str) -> None:
    run = execute(path, tmp_path, kernel)
    CHECKS.get(path.name, _anything)(run, False)
    assert run.seconds < RUN_TIME_LIMIT, f"{path.name} took {run.seconds:.0f} s in demo mode"


@pytest.fixture
def gateway() -> Iterator[Emulator]:
    """A stand-in for the real gateway, as seen from a kernel that has a key."""
    with Emulator(time_scale=60, caption="keyed") as emulator:
        yield emulator


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_runs_unchanged_with_a_key(
    path: Path, tmp_path: Path, kernel: str, gateway: Emulator
) -> None:
    run = execute(
        path, tmp_path, kernel, AIMLAPI_KEY=gateway.api_key, AIMLAPI_BASE_URL=gateway.base_url
    )
    assert gateway.api_key not in run.text  # the key never shows
    CHECKS.get(path.name, _anything)(run, True)
    if path.name == "02-python-api.ipynb":  # generate, submit, the blocking generate: all paid
        assert len(gateway.stats()["created"]) == 3
