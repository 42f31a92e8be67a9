"""marimo, both ways: ``marimo run`` (the app) and ``marimo edit`` (the notebook) on the shipped
``notebooks/marimo_app.py``, demo mode, no key. The panel (one anywidget through
``mo.ui.anywidget``) makes a video that plays, and its Download link is served by the page itself
(marimo serves none of the kernel's files). Prints the click-to-video time and what marimo keeps
on disk (the notebook is its own .py file: code, no outputs)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .harness import REPO, chromium_page, free_port, screenshot_dir
from .panel_flow import (
    assert_served_by_the_page,
    fetch_download,
    generate_to_playing_video,
    panel,
    stylesheet_applies,
)
from .servers import app_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = REPO / "notebooks" / "marimo_app.py"


@pytest.fixture(scope="module", params=["run", "edit"])
def marimo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """(mode, page URL, the notebook's copy) for ``marimo run`` and ``marimo edit``."""
    mode = request.param
    base = tmp_path_factory.mktemp(f"marimo-{mode}")
    root = base / "root"
    root.mkdir()
    notebook = root / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook)
    port = free_port()
    command = [sys.executable, "-m", "marimo", mode, str(notebook.name), "--headless", "--no-token",
               "--host=127.0.0.1", f"--port={port}"]
    if mode == "edit":
        command.append("--skip-update-check")
    env = {"MARIMO_SKIP_UPDATE_CHECK": "1", "HOME": str(base / "home"), "XDG_CONFIG_HOME": str(base / "home" / ".config")}
    with app_server(command, f"http://127.0.0.1:{port}/health", root, base / "home", env):
        yield mode, f"http://127.0.0.1:{port}/", notebook


def _run_all(page: Page) -> None:
    """marimo edit runs nothing until asked (a notebook cannot opt in): press its "run all stale
    cells" button, again if the first press came before the kernel's connection was up."""
    run_all = page.get_by_test_id("run-button").last  # the footer's, after every cell's own
    for _ in range(6):
        run_all.wait_for(timeout=60_000)
        run_all.click()
        try:
            page.locator(".kling-panel").first.wait_for(state="attached", timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("marimo edit never ran the cells")


def test_the_panel_makes_a_video_in_marimo(marimo: tuple[str, str, Path]) -> None:
    mode, url, notebook = marimo
    shots = screenshot_dir(notebook.parent / "screenshots")
    with chromium_page(shots / f"marimo-{mode}-failure.png") as page:
        page.goto(url)
        if mode == "edit":
            _run_all(page)
        root = panel(page, timeout_ms=120_000)
        seconds = generate_to_playing_video(root)
        download = fetch_download(root)
        assert_served_by_the_page(download, url)
        root.screenshot(path=str(shots / f"marimo-{mode}-finished.png"))
        views = page.locator(".kling-panel").count()
        styled = stylesheet_applies(root)
    assert views == 1
    assert list((notebook.parent / "kling_outputs").glob("*.mp4")), "the video was saved beside the notebook"
    size = notebook.stat().st_size
    print(f"\nmarimo {mode}: click to playing video {seconds:.1f} s, download {download.size:,} bytes from "
          f"{download.href.split(':')[0]}:, {views} panel view (one anywidget model), notebook file {size:,} bytes "
          f"(marimo saves code only), the panel's stylesheet {'applies' if styled else 'does not apply'}")
    assert styled, "the panel is drawn unstyled: its CSS went to the page's head, outside marimo's shadow root"
