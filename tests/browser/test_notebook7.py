"""Notebook 7 (the classic-looking Jupyter Notebook): the quickstart's panel makes a video in demo
mode, the video plays (frames loaded), its Download link is served by the page itself (never the
emulator's loopback URL), and the saved notebook stays small. Prints the click-to-video time, the
saved size and the number of widget models the kernel holds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .harness import (
    LAB_CONFIG,
    REPO,
    Server,
    chromium_page,
    dismiss_popups,
    jupyter_server,
    lowest_contrast,
    screenshot_dir,
    until,
)
from .panel_flow import (
    assert_served_by_the_page,
    fetch_download,
    generate_to_playing_video,
    panel,
    stylesheet_applies,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = REPO / "notebooks" / "01-quickstart.ipynb"
CONFIG = LAB_CONFIG + "c.JupyterNotebookApp.expose_app_in_browser = True\n"
MODELS = "import ipywidgets\nprint('widget models:', len(ipywidgets.widgets.widget._instances))"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with jupyter_server(tmp_path_factory.mktemp("notebook7"), [NOTEBOOK], app="notebook", config=CONFIG) as running:
        yield running


def _run(page: Page, command: str) -> None:
    page.evaluate("(id) => { window.jupyterapp.commands.execute(id); }", command)


def test_the_quickstart_makes_a_video_in_notebook_7(server: Server) -> None:
    shots = screenshot_dir(server.root / "screenshots")
    url = server.url(f"notebooks/{NOTEBOOK.name}")
    with chromium_page(shots / "notebook7-failure.png", height=2000) as page:
        page.goto(url)
        until(page,
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.connectionStatus"
            " === 'connected'", timeout=60_000)
        dismiss_popups(page)
        _run(page, "notebook:run-all-cells")
        root = panel(page)
        seconds = generate_to_playing_video(root)
        download = fetch_download(root)
        assert_served_by_the_page(download, url)
        root.screenshot(path=str(shots / "notebook7-finished.png"))
        contrast = lowest_contrast(page)
        assert stylesheet_applies(root)

        # The widget models this kernel holds, from a cell appended at the end.
        page.evaluate("""(source) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = notebook.widgets.length - 1;
            window.jupyterapp.commands.execute('notebook:insert-cell-below').then(() => {
                notebook.activeCell.model.sharedModel.setSource(source);
                window.jupyterapp.commands.execute('notebook:run-cell');
            });
        }""", MODELS)
        shown = page.locator(".jp-OutputArea-output", has_text="widget models:").first
        shown.wait_for(timeout=30_000)
        models = int(re.search(r"widget models: (\d+)", shown.inner_text())[1])  # type: ignore[index]

        _run(page, "docmanager:save")
        until(page, "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=15_000)
    saved = server.root / NOTEBOOK.name
    text = saved.read_text()
    state = json.loads(text).get("metadata", {}).get("widgets", {})
    print(f"\nNotebook 7: click to playing video {seconds:.1f} s, saved notebook {len(text.encode()):,} bytes, "
          f"{models} widget models in the kernel, {len(json.dumps(state)):,} bytes of saved widget state, "
          f"download {download.size:,} bytes from {download.href.split(':')[0]}:, lowest text contrast "
          f"{contrast['ratio']:.2f} ({contrast['text']!r})")
    assert "base64" not in text and "data:video" not in text
    assert models <= 5, "one model per panel (and its few views)"
    assert float(contrast["ratio"]) >= 4.5, contrast  # type: ignore[arg-type]
    assert len(text.encode()) < 100_000
    assert list((server.root / "kling_outputs").glob("*.mp4"))
