"""notebooks/03-batch-and-gallery.ipynb runs top to bottom in a fresh kernel, in demo mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03-batch-and-gallery.ipynb"


def text_of(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed or displayed, as one string."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(parts)


def test_the_notebook_is_stored_without_outputs() -> None:
    stored = json.loads(NOTEBOOK.read_text())
    code = [cell for cell in stored["cells"] if cell["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_the_notebook_runs_a_demo_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [text_of(cell) for cell in notebook.cells if cell.cell_type == "code"]
    everything = "\n".join(outputs)
    assert "demo mode" in outputs[0]
    assert "2 requests: about $2.80 for 2 videos" in everything
    assert "would submit 2 generations" in everything and "confirm=True" in everything
    assert "batch of 2: 2 saved, 0 failed" in everything
    assert "resume: 0 recovered, 0 failed, 0 uncertain" in everything
    widgets_shown = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(widgets_shown) == 2  # the batch view and the gallery
    assert len(list((tmp_path / "kling_outputs").glob("*.mp4"))) == 2
