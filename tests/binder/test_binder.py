"""binder/ does what repo2docker expects, checked as far as it can be without Docker.

A fresh virtualenv gets ``pip install -r binder/requirements.txt`` (run from the repository root,
as repo2docker does), then ``postBuild`` and ``start`` run in it, and the quickstart and the Python
API notebook execute through ``start`` in that venv's own kernel while the memory of the whole
process tree (nbconvert and its kernels) is sampled: Binder gives a session 1-2 GB. This is those
two notebooks' one run of the test session: what they must show is checked on it (``runs``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from notebooks.runs import Run

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ("01-quickstart.ipynb", "02-python-api.ipynb")
MEMORY_LIMIT = 1024**3
KEY_VARS = ("AIMLAPI_KEY", "AIML_API_KEY", "AIMLAPI_API_KEY", "AIMLAPI_BASE_URL", "AIML_API_BASE")

pytestmark = [pytest.mark.venv, pytest.mark.timeout(600)]


# -- the files themselves ---------------------------------------------------------------------


def _lines(name: str) -> list[str]:
    """The file's lines that are not blank and not comments."""
    text = (BINDER / name).read_text()
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_the_files_follow_repo2docker() -> None:
    assert not (BINDER / "environment.yml").exists()  # it would win over requirements.txt
    assert re.fullmatch(r"python-3\.(1[0-9])", _lines("runtime.txt")[0])
    requirements = _lines("requirements.txt")
    assert "-e .[demo]" in requirements
    assert "ipykernel>=7.1" in requirements
    assert any(re.fullmatch(r"jupyterlab>=4\.[4-9][^,]*,<5", line) for line in requirements)
    for script in ("postBuild", "start"):
        path = BINDER / script
        assert os.access(path, os.X_OK), f"binder/{script} must be executable"
        assert path.read_text().startswith("#!/bin/bash\n")
    assert _lines("postBuild")[0].startswith("set -e")
    assert _lines("start")[-1] == 'exec "$@"'


# -- a fresh venv -----------------------------------------------------------------------------


class Venv:
    def __init__(self, path: Path, home: Path, install_seconds: float) -> None:
        self.path = path
        self.bin = path / "bin"
        self.home = home
        self.install_seconds = install_seconds

    def env(self, **extra: str) -> dict[str, str]:
        """A session's environment: this venv first on PATH, no key, no Jupyter or kling settings."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in KEY_VARS and not k.startswith(("JUPYTER", "KLING_NOTEBOOK_", "PYTHON"))
        }
        env.update(
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            VIRTUAL_ENV=str(self.path),
            HOME=str(self.home),  # no user-level kernelspecs or Jupyter config from this machine
        )
        env.update(extra)
        return env

    def run(self, *command: str | Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(part) for part in command],
            cwd=ROOT,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv with ``binder/requirements.txt`` installed by a current pip, as Binder's image
    has (the one venv ships resolves this tree in twice the time). Bytecode is written on first
    import instead of for every installed file, which nothing here depends on."""
    base = tmp_path_factory.mktemp("binder")
    path = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, capture_output=True, timeout=120)
    started = time.monotonic()
    installed = subprocess.run(
        [*pip, "--no-compile", "-r", "binder/requirements.txt"],
        cwd=ROOT,  # "-e ." means the repository, as on Binder
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    home = base / "home"
    home.mkdir()
    venv = Venv(path, home, time.monotonic() - started)
    print(f"\nbinder: pip install -r binder/requirements.txt took {venv.install_seconds:.0f} s")
    return venv


def test_requirements_install_what_the_notebooks_need(venv: Venv) -> None:
    probe = venv.run(
        venv.bin / "python",
        "-c",
        "import json, importlib.metadata as m, kling_notebook, av, PIL, numpy;"
        "print(json.dumps({'file': kling_notebook.__file__,"
        " **{p: m.version(p) for p in ('ipykernel', 'jupyterlab', 'voila', 'ipywidgets')}}))",
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert Path(found["file"]).is_relative_to(ROOT)  # the repository itself, editable
    assert tuple(map(int, found["ipykernel"].split(".")[:2])) >= (7, 1)
    assert found["jupyterlab"].startswith("4.")
    assert found["ipywidgets"].startswith("8.")
    extensions = venv.run(venv.bin / "jupyter", "server", "extension", "list")
    assert re.search(r"voila\S*\s+\S*enabled", extensions.stdout + extensions.stderr)


def test_postbuild_runs(venv: Venv) -> None:
    built = venv.run(BINDER / "postBuild")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "postBuild: demo generation OK" in built.stdout
    listed = venv.run(venv.bin / "jupyter", "labextension", "list")
    disabled = (listed.stdout + listed.stderr).split("Disabled extensions:")[-1]
    assert "@jupyterlab/apputils-extension:announcements" in disabled
    # Voila's file route may serve the panel's videos (the README's Voila link plays them).
    copied = venv.home / ".jupyter" / "jupyter_server_config.d" / "kling_notebook_voila.json"
    allowlist = json.loads(copied.read_text())["VoilaConfiguration"]["file_allowlist"]
    assert any(re.fullmatch(rule, "notebooks/kling_outputs/a-b_1.mp4") for rule in allowlist)
    assert not any(re.fullmatch(rule, "notebooks/app.ipynb") for rule in allowlist)


def test_start_execs_the_command_in_demo_mode(venv: Venv) -> None:
    process = subprocess.Popen(
        [str(BINDER / "start"), "sh", "-c", 'echo "$$ $KLING_NOTEBOOK_OUTPUTS $KLING_NOTEBOOK_EPHEMERAL"'],
        cwd=ROOT,
        env=venv.env(KLING_NOTEBOOK_DEMO="0"),
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=30)
    pid, outputs, ephemeral = out.split()
    assert int(pid) == process.pid  # exec'd: the command replaced start's own process
    assert outputs == str(NOTEBOOKS / "kling_outputs")
    assert ephemeral == "1"  # the panel warns a paying user that the session and its files vanish

    mode = "from kling_notebook.runtime.connect import connect; print(connect().mode_label)"
    demo = venv.run(BINDER / "start", venv.bin / "python", "-c", mode, KLING_NOTEBOOK_DEMO="0")
    assert demo.stdout.startswith("demo mode"), demo.stdout + demo.stderr
    keyed = venv.run(BINDER / "start", venv.bin / "python", "-c", mode, AIMLAPI_KEY="k-123")
    assert keyed.stdout.startswith("live: https://api.aimlapi.com"), keyed.stdout + keyed.stderr


# -- the notebooks, in the venv's kernel, and their memory --------------------------------------


def _tree_rss(root: int) -> int:
    """Resident memory (bytes) of ``root`` and every process below it."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text()
        except OSError:
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[pid] = int(statm.split()[1]) * page
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


class PeakMemory:
    """Samples a process tree's RSS every 50 ms in a thread; ``peak`` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            self._stop.wait(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def copies(tmp_path: Path) -> list[Path]:
    """The notebooks to execute, copied with their folder, each ending with a marker cell."""
    missing = [name for name in EXECUTED if not (NOTEBOOKS / name).exists()]
    assert not missing, f"the Binder link opens notebooks that do not exist: {missing}"
    workdir = tmp_path / "notebooks"
    shutil.copytree(
        NOTEBOOKS, workdir, ignore=shutil.ignore_patterns("kling_outputs", ".ipynb_checkpoints")
    )
    paths = []
    for name in EXECUTED:
        notebook = nbformat.read(workdir / name, as_version=4)
        notebook.cells.append(
            nbformat.v4.new_code_cell("import sys\nprint('kernel python:', sys.executable)")
        )
        nbformat.write(notebook, workdir / name)
        paths.append(workdir / name)
    return paths


def test_notebooks_execute_in_the_venv_kernel_under_1_gb(
    venv: Venv, copies: list[Path], tmp_path: Path
) -> None:
    command = [
        BINDER / "start",
        venv.bin / "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=180",
        "--output-dir",
        tmp_path / "executed",
        *copies,
    ]
    env = venv.env(KLING_NOTEBOOK_OUTPUTS=str(tmp_path / "outputs"))
    started = time.monotonic()
    process = subprocess.Popen(
        [str(part) for part in command], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    with PeakMemory(process.pid) as memory:
        _, stderr = process.communicate(timeout=400)
    seconds = time.monotonic() - started
    print(
        f"\nbinder: {len(copies)} notebooks executed in {seconds:.0f} s, peak RSS {memory.peak / 2**20:.0f} MiB"
    )
    assert process.returncode == 0, stderr[-3000:]
    for path in copies:
        run = Run.of(nbformat.read(tmp_path / "executed" / path.name, as_version=4), tmp_path / "outputs")
        assert f"kernel python: {venv.bin / 'python'}" in run.text, path.name
        run.check(path.name, keyed=False)
    assert list((tmp_path / "outputs").rglob("*.mp4")), "the Python API notebook saves videos"
    assert 0 < memory.peak < MEMORY_LIMIT
