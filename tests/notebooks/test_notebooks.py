"""Every notebooks/*.ipynb is stored stripped and runs top to bottom in a fresh kernel, executed
once per test run: the quickstart and the Python API notebook in the Binder suite (demo mode, in
that venv's own kernel, as a Binder visitor runs them); notebook 03 here in demo mode (no API key,
its outputs in a temporary folder); notebook 04 here with a key and a base URL pointing at a local
emulator, as a user with a real key would run it (the default poll schedule), to show that nothing
in the main path is demo-only and that the key never shows up in an output; notebooks 05 (models
side by side) and 06 (a teacher's class) here in demo mode. What each must show
is in :mod:`runs`. With a key, notebook 03 must not confirm a paid batch by itself: its one paid
step is guarded by ``client.demo``, checked in its source.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from kling_notebook.emulator import Emulator

from .runs import NOTEBOOKS, ROOT, execute
from .strip import main as strip_main
from .strip import problems

KERNEL = "kling-notebook-tests"
#: The paid steps a notebook may take, by what its code says.
_PAID = re.compile(r"\.wait\(\)|\.confirm\(|confirm=True|\.generate\(|\.submit\(")


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



def test_the_notebooks_of_this_project_are_here() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert {"02-python-api.ipynb", "04-how-it-works.ipynb"} <= set(names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
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


def test_a_keyed_run_of_the_batch_notebook_confirms_nothing_by_itself() -> None:
    notebook = nbformat.read(ROOT / "notebooks" / "03-batch-and-gallery.ipynb", as_version=4)
    paid = []
    for cell in notebook.cells:
        code = "\n".join(line.split("#")[0] for line in cell.source.splitlines())
        if cell.cell_type == "code" and _PAID.search(code):
            paid.append(code)
    assert paid, "the notebook has its batch step"
    assert all(code.startswith("if client.demo:") for code in paid), paid


def test_voila_serves_the_panels_videos_and_no_notebook() -> None:
    """voila.json (read by ``voila notebooks/app.ipynb`` and copied by binder/postBuild for the
    server extension): Voila's file route serves a saved video, beside the app or below the root."""
    rules = json.loads((ROOT / "voila.json").read_text())["VoilaConfiguration"]["file_allowlist"]
    allowed = [path for path in ("kling_outputs/x_1-a.mp4", "notebooks/kling_outputs/x.mp4", "images/a.jpg",
                                 "app.ipynb", "kling_outputs/.journal.jsonl", "secrets/x.mp4", "kling_outputs/a/../../x.mp4")
               if any(re.fullmatch(rule, path, re.IGNORECASE) for rule in rules)]
    assert allowed == ["kling_outputs/x_1-a.mp4", "notebooks/kling_outputs/x.mp4", "images/a.jpg"]


@pytest.mark.kernel
def test_the_voila_app_shows_only_the_panel(tmp_path: Path, kernel: str) -> None:
    path = ROOT / "notebooks" / "app.ipynb"
    execute(path, tmp_path, kernel).check(path.name, keyed=False)


@pytest.mark.kernel
def test_the_batch_notebook_runs_in_demo_mode(tmp_path: Path, kernel: str) -> None:
    path = ROOT / "notebooks" / "03-batch-and-gallery.ipynb"
    execute(path, tmp_path, kernel).check(path.name, keyed=False)


@pytest.mark.kernel
def test_the_comparison_notebook_runs_in_demo_mode(tmp_path: Path, kernel: str) -> None:
    path = ROOT / "notebooks" / "05-compare-models.ipynb"
    execute(path, tmp_path, kernel).check(path.name, keyed=False)


@pytest.mark.kernel
def test_the_teachers_notebook_runs_in_demo_mode(tmp_path: Path, kernel: str) -> None:
    path = ROOT / "notebooks" / "06-teaching-a-class.ipynb"
    execute(path, tmp_path, kernel).check(path.name, keyed=False)


@pytest.fixture
def keyed_emulator() -> Iterator[Emulator]:
    """A stand-in for the real gateway, as seen from a kernel that has a key."""
    with Emulator(time_scale=60, caption="keyed") as emulator:
        yield emulator


@pytest.mark.kernel
def test_the_teaching_notebook_runs_unchanged_with_a_key(
    tmp_path: Path, kernel: str, keyed_emulator: Emulator
) -> None:
    path = ROOT / "notebooks" / "04-how-it-works.ipynb"
    run = execute(
        path, tmp_path, kernel, AIMLAPI_KEY=keyed_emulator.api_key, AIMLAPI_BASE_URL=keyed_emulator.base_url
    )
    assert keyed_emulator.api_key not in run.text  # the key never shows
    run.check(path.name, keyed=True)
