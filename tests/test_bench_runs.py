"""The benchmarks keep working: quick runs of two of them record their tables.

Verdicts are not judged here: timings belong to ``python -m bench``, not to tests that would flake.
What is checked is that a run goes end to end (the poll benchmark drives an emulator in its own
process, through its control routes) and records a well-formed section.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def quick_run(name: str, record: Path) -> str:
    """Run ``python -m bench --quick --only NAME`` into ``record``; return the recorded section."""
    command = [sys.executable, "-m", "bench", "--quick", "--only", name, "--output", str(record)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    section = re.search(rf"<!-- bench:{name} -->\n(.*?)<!-- /bench:{name} -->", record.read_text(), re.S)
    assert section, record.read_text()[:2000]
    return section[1]


def cells(section: str, row: str) -> list[str]:
    """The cells after the first of the table row whose first cell is ``row``."""
    for line in section.splitlines():
        parts = [cell.strip() for cell in line.strip("|").split("|")]
        if parts[0] == row:
            return parts[1:]
    raise AssertionError(f"no row {row!r} in:\n{section}")


@pytest.mark.slow
def test_the_poll_delay_benchmark_follows_every_job_under_both_loops(tmp_path: Path) -> None:
    section = quick_run("poll_delay", tmp_path / "record.md")
    for loop in ("seed: fixed 10 s", "PollPolicy"):
        median, _p95, largest, gets = (float(cell) for cell in cells(section, loop))
        assert 0 <= median <= largest < 30, "a completed job noticed within 30 s of its end"
        assert gets > 1
    assert "quick run: indicative" in section


@pytest.mark.slow
def test_the_notebook_growth_benchmark_records_its_table(tmp_path: Path) -> None:
    section = quick_run("notebook_growth", tmp_path / "record.md")
    default = int(cells(section, "default")[0].replace(",", ""))
    embedded = int(cells(section, "embed (base64)")[0].replace(",", ""))
    assert 0 < default < embedded
