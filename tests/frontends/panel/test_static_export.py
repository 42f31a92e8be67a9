"""A static export of the executed quickstart (nbconvert HTML) shows the panel's fallback: what
the panel is and what to do, instead of an empty output where the view cannot run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from notebooks.runs import ROOT, execute
from notebooks.test_notebooks import kernel  # noqa: F401  (the kernelspec fixture)

QUICKSTART = ROOT / "notebooks" / "01-quickstart.ipynb"


@pytest.mark.kernel
def test_the_html_export_of_the_quickstart_shows_the_fallback(tmp_path: Path, kernel: str) -> None:  # noqa: F811
    from nbconvert import HTMLExporter  # a slow import, for this test only

    run = execute(QUICKSTART, tmp_path, kernel)
    page, _resources = HTMLExporter().from_notebook_node(run.notebook)
    fallbacks = re.findall(r'<div class="kling-fallback" data-kling-model="([^"]+)"', page)
    assert len(fallbacks) == 1, "one fallback, for the one panel"
    (model_id,) = fallbacks
    views = [out["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for out in run.outputs if "application/vnd.jupyter.widget-view+json" in out.get("data", {})]
    assert views == [model_id], "the fallback names the panel's own model (the live view hides it)"
    assert "Kling image-to-video panel" in page and "run this cell to use the panel" in page
    assert "demo mode: simulated videos, no credits used" in page
    assert not re.search(r"\.kling-fallback[^{]*\{[^}]*display:\s*none", page), "nothing hides it in a static page"
