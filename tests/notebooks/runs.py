"""Running a notebook in a fresh kernel and what each one must show, for the notebook and Binder
suites: each notebook is executed once per test run, by one of them, and checked here."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from kling_notebook.gateway.settings import BASE_URL_ENV_VARS, KEY_ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
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

    @classmethod
    def of(cls, notebook: nbformat.NotebookNode, outputs_dir: Path) -> Run:
        """An executed notebook (by nbclient or nbconvert), with no error in any cell."""
        errors = [
            f"cell {n}: {out.get('ename')}: {out.get('evalue')}"
            for n, cell in enumerate(notebook.cells, 1)
            if cell.cell_type == "code"
            for out in cell.outputs
            if out.output_type == "error"
        ]
        assert not errors, errors
        seconds = sum(_cell_seconds(cell) for cell in notebook.cells if cell.cell_type == "code")
        return cls(notebook, outputs_dir, seconds)

    def check(self, name: str, *, keyed: bool) -> None:
        """What notebook ``name`` must show in this mode, and (demo mode) in under a minute."""
        CHECKS.get(name, _anything)(self, keyed)
        if not keyed:
            assert self.seconds < RUN_TIME_LIMIT, f"{name} took {self.seconds:.0f} s in demo mode"


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
    return Run.of(notebook, outputs_dir)


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
        "resume: 2 recovered, 0 failed, 0 uncertain",  # the timed-out one, and the uncertain one
        "settled by the gateway's logs: row",  # found in the logs by its client request id
    ):
        assert marker in text, marker
    assert run.shown("text/html") >= 3 and "<video controls" in text  # results display themselves
    # generate, step by step, the blocking client, and the two resumed from the faulty emulator
    names = [video.name for video in run.videos()]
    assert len(names) == 5, names
    assert "step-by-step.mp4" in names


def _batch(run: Run, keyed: bool) -> None:
    if keyed:  # with a real key, running the notebook must not confirm a paid batch by itself
        assert "Press Confirm above to start the batch: nothing has been sent yet." in run.text
        assert run.videos() == []
        return
    text = run.text
    assert "demo mode" in text
    assert "2 requests: about $2.80 for 2 videos" in text
    assert "would submit 2 generations" in text and "confirm=True" in text
    assert "batch of 2: 2 saved, 0 failed" in text
    assert "resume: 0 recovered, 0 failed, 0 uncertain" in text
    assert run.shown("application/vnd.jupyter.widget-view+json") == 2  # the batch view, the gallery
    assert len(run.videos()) == 2, "a demo sweep saves its videos"


def _how_it_works(run: Run, keyed: bool) -> None:
    text = run.text
    assert "%3Akling-video%2Fv2.1%2Fmaster%2Fimage-to-video" in text  # the id, encoded
    assert "/v2/generate/video/kling/generation -> " in text  # the legacy pair answers too
    assert text.count("<svg") >= 2  # the poll timeline and the backoff chart
    # Readable in light and dark themes: text in the output's own colour, nothing fixed-dark.
    labels = re.findall(r"<text[^>]*>", text)
    assert labels and all('fill="currentColor"' in label for label in labels), labels[:3]
    assert not re.search(r'(fill|stroke)="#(000|111|1d4ed8|1f2937)', text)
    assert "'503'" in text and "the wait ended with: completed" in text
    assert "asyncio.run() -> asyncio.run() cannot be called from a running event loop" in text
    kernel_ticks = int(re.search(r"kernel loop: (\d+) ticks", text)[1])
    engine_ticks = int(re.search(r"engine loop: (\d+) ticks", text)[1])
    assert kernel_ticks <= 1 and engine_ticks >= 10, (kernel_ticks, engine_ticks)
    assert "phases seen: " in text and "-> completed" in text
    assert len(run.videos()) == 1


def _compare(run: Run, keyed: bool) -> None:
    text = run.text
    assert "Kling v3 Omni 1080p" in text and "the demo emulator&#x27;s price (simulated)" in text  # the listing
    assert "the models that do: kling-video/v1/standard/image-to-video" in text
    assert "O1 sends its end frame as last_image_url" in text
    assert "would submit 3 generations" in text
    if keyed:
        assert "nothing has been sent yet" in text and run.videos() == []
        return
    assert "3 models side by side" in text and text.count("<video controls") >= 3
    assert "Time taken" in text and "credits used" in text
    assert len(run.videos()) == 3


def _teaching(run: Run, keyed: bool) -> None:
    text = run.text
    assert "3 keys created: ['student-1', 'student-2', 'student-3']" in text
    assert "student,key_prefix,limit_usd,period" in text and "mode 0o600" in text
    assert "$3.00 of $3.00 per week left" in text
    assert "batch of 2: 2 saved, 0 failed" in text
    assert "refused before sending: Budget exceeded" in text
    assert 'class="kling-class"' in text and "$2.80" in text  # the usage table
    assert "revoked 3 keys" in text
    assert not re.search(r"emu[0-9a-f]{32}", text), "a key was shown"


def _app(run: Run, keyed: bool) -> None:
    """The Voila app: the panel (its widget view and the static fallback it hides), nothing else."""
    assert run.shown("application/vnd.jupyter.widget-view+json") == 1
    assert not [out for out in run.outputs if out.output_type in ("stream", "execute_result", "error")]


def _anything(run: Run, keyed: bool) -> None:
    assert run.outputs, "the notebook showed nothing"


CHECKS: dict[str, Callable[[Run, bool], None]] = {
    "app.ipynb": _app,
    "01-quickstart.ipynb": _quickstart,
    "02-python-api.ipynb": _python_api,
    "03-batch-and-gallery.ipynb": _batch,
    "04-how-it-works.ipynb": _how_it_works,
    "05-compare-models.ipynb": _compare,
    "06-teaching-a-class.ipynb": _teaching,
}
