"""The built wheel carries what an installed copy needs: every module, the data files, the CLI.

Editable installs (the dev venv, Binder) read files straight from the tree, so a file missing from
the package data would only show up for people who ``pip install`` the wheel.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "kling_notebook"


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel, built once per run: test workers share the run's folder, the first builds."""
    if "PYTEST_XDIST_WORKER" not in os.environ:  # no workers
        return zipfile.ZipFile(build_wheel(tmp_path_factory.mktemp("build")))
    shared = tmp_path_factory.getbasetemp().parent  # this run's, above each worker's own
    with open(shared / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = list((shared / "wheel").glob("kling_notebook-*.whl"))
        return zipfile.ZipFile(built[0] if built else build_wheel(shared))


def build_wheel(folder: Path) -> Path:
    # A copy of the sources, so no stale build/ folder in the checkout can hide a missing file.
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    out = folder / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
        check=True, capture_output=True, timeout=240,
    )
    (path,) = out.glob("kling_notebook-*.whl")
    return path


def test_wheel_holds_every_module_and_data_file(wheel: zipfile.ZipFile) -> None:
    wanted = {
        path.relative_to(REPO).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "kling_notebook/py.typed" in wanted
    assert any(name.startswith("kling_notebook/frontends/panel/assets/") for name in wanted)
    assert wanted - set(wheel.namelist()) == set()


def test_wheel_declares_the_command_line_tool(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "kling-notebook = kling_notebook.frontends.cli:main" in text


def test_wheel_carries_the_licence(wheel: zipfile.ZipFile) -> None:
    (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    assert "License-Expression: MIT" in wheel.read(metadata).decode()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel.namelist())
