"""Keep notebooks in git without outputs, execution counts or saved widget state.

Saved widget state can hold what a user typed (a key pasted into a Password field), and outputs
hold videos, ids and local paths, so none of it belongs in the repository::

    python tests/notebooks/strip.py            # strip every notebooks/*.ipynb in place
    python tests/notebooks/strip.py --check    # list what is not stripped; exit 1 if anything
    python tests/notebooks/strip.py a.ipynb    # only these files

``tests/notebooks/test_notebooks.py`` runs the same check over every notebook.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

#: Notebook-level metadata written by running or saving a notebook, never by authoring it.
RUN_METADATA = ("widgets",)
#: Cell-level metadata of the same kind (nbclient's timings, JupyterLab's execution record).
CELL_RUN_METADATA = ("execution",)


def problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What is left in ``notebook`` that stripping would remove (empty when clean)."""
    found = [f"notebook metadata {key!r}" for key in RUN_METADATA if key in notebook.metadata]
    for number, cell in enumerate(notebook.cells, 1):
        found += [
            f"cell {number}: metadata {key!r}" for key in CELL_RUN_METADATA if key in cell.metadata
        ]
        if cell.cell_type != "code":
            continue
        if cell.outputs:
            found.append(f"cell {number}: {len(cell.outputs)} output(s)")
        if cell.execution_count is not None:
            found.append(f"cell {number}: execution count {cell.execution_count}")
    return found


def strip(notebook: nbformat.NotebookNode) -> None:
    """Remove outputs, execution counts and run metadata from ``notebook`` in place."""
    for key in RUN_METADATA:
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        for key in CELL_RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)"
    )
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if not stripped")
    args = parser.parse_args(argv)
    dirty = 0
    for path in args.paths or sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        found = problems(notebook)
        if not found:
            continue
        dirty += 1
        if args.check:
            print(f"{path}: " + "; ".join(found))
        else:
            strip(notebook)
            nbformat.write(notebook, path)
            print(f"stripped {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
