"""A notebook that builds the panel, has a key typed into its Password field and runs a generation
with it, saved with its widget state (nbclient's and ``Widget.get_manager_state()``), holds no
trace of the key; neither does anything the kernel wrote to disk.

The key reaches the kernel through its environment (what the browser would send on Enter is
replayed with ``set_state``), so the notebook's own source never contains it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from ._support import KEY, TIME_SCALE

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.kernel
CELLS = [
    """import json, os
import ipywidgets as widgets
from kling_notebook.frontends.panel import KlingPanel
panel = KlingPanel(out_dir="outputs")
panel""",
    # The view sends the typed key in one message on Enter: replay exactly that message.
    """panel.receive({"kind": "key", "key": os.environ.pop("TYPED_KEY")}, [])
assert not panel.client.demo
print(panel.client.mode_label)""",
    # The suite's patient schedule: the sped-up default deadline (2 s at this scale) is overrun
    # by a job of 0.6 s on a machine busy with browsers and kernels.
    f"""from emulated import PatientPoll
panel.client.poll = PatientPoll(time_scale={TIME_SCALE})
job = panel.generate()
result = job.result(timeout=120)
print(result.path.name, result.generation.status)
result""",
    """state = widgets.Widget.get_manager_state(drop_defaults=False)
with open("widget_state.json", "w") as out:
    json.dump(state, out)
print(len(state["state"]), "widgets")""",
]


@pytest.fixture
def executed(make_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the notebook in a fresh kernel and save it (with widget state) to a file."""
    emulator = make_emulator()
    monkeypatch.setenv("TYPED_KEY", KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", emulator.base_url)  # where a typed key goes
    monkeypatch.setenv("KLING_NOTEBOOK_DEMO", "1")  # the panel opens in demo mode all the same
    paths = [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH")]  # the package, the suite's helpers
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, timeout=180, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = tmp_path / "saved.ipynb"
    nbformat.write(notebook, saved)
    assert len(emulator.stats()["created"]) == 1  # the generation really ran, with the key
    return saved


def test_saved_notebook_and_kernel_files_hold_no_key(executed: Path) -> None:
    notebook = nbformat.read(executed, as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "live: http://127.0.0.1" in printed and " completed" in printed
    widget_state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    states = [model["state"] for model in widget_state["state"].values()]
    (panel,) = [state for state in states if state.get("view") == "panel"]  # the whole panel, not an empty dump
    assert panel["key"]["live"] and panel["rows"][0]["phase"] == "completed"  # the key field, the player
    assert (executed.parent / "widget_state.json").stat().st_size > 1000
    written = [path for path in executed.parent.rglob("*") if path.is_file()]
    assert any(path.suffix == ".mp4" for path in written)
    assert any(path.name.endswith(".sqlite3") for path in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"
