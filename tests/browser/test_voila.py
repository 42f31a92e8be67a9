"""Voila, both ways a user meets it: standalone (``voila notebooks/app.ipynb`` from the repository
root, which reads ``voila.json``) and as the Jupyter server extension (``/voila/render/...``,
Binder's link, configured as ``binder/postBuild`` does). In each, the app shows the panel and
nothing else, Generate (demo mode) ends in a playing video whose Download link is served by the
page itself, and Voila's file route serves the saved video (allowlisted) but not the notebook.
The extension also renders a notebook whose last line is a result: its ``<video>`` plays from
Voila's file route, the URL :func:`kling_notebook.display.served_url` computed in the kernel.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page

from .harness import (
    REPO,
    Server,
    chromium_page,
    free_port,
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
from .servers import app_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

APP = REPO / "notebooks" / "app.ipynb"
QUICKSTART = REPO / "notebooks" / "01-quickstart.ipynb"
RESULT_CELLS = [
    "from kling_notebook import connect\n\nclient = connect()",
    "result = await client.generate(image='images/mushroom.jpg', prompt='sways', duration=5)\nresult",
]
#: The page's fetch of a URL relative to it: what a <video src> or <a href> of that URL gets.
STATUS_JS = "async (url) => (await fetch(url)).status"


@dataclass(frozen=True)
class Site:
    """A Voila page to open and the folder its kernel writes videos to."""

    url: str
    outputs: Path
    shots: Path


def _layout(root: Path) -> Path:
    """The repository's shape: voila.json at the root, the notebooks (and their image) below."""
    notebooks = root / "notebooks"
    (notebooks / "images").mkdir(parents=True)
    shutil.copy(APP, notebooks / APP.name)
    shutil.copy(QUICKSTART, notebooks / QUICKSTART.name)
    shutil.copy(REPO / "notebooks" / "images" / "mushroom.jpg", notebooks / "images" / "mushroom.jpg")
    shutil.copy(REPO / "voila.json", root / "voila.json")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in RESULT_CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, notebooks / "result.ipynb")
    return notebooks


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("voila")
    notebooks = _layout(base / "root")
    port = free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               "notebooks/app.ipynb"]
    ready = f"http://127.0.0.1:{port}/api/status"
    with app_server(command, ready, base / "root", base / "home"):
        yield Site(f"http://127.0.0.1:{port}/", notebooks / "kling_outputs", screenshot_dir(base / "shots"))


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    base = tmp_path_factory.mktemp("voila-ext")
    notebooks = _layout(base / "root")
    config = base / "config" / "jupyter_server_config.d"  # as binder/postBuild installs it
    config.mkdir(parents=True)
    shutil.copy(REPO / "voila.json", config / "kling_notebook_voila.json")
    with jupyter_server(base, env={"JUPYTER_CONFIG_DIR": str(base / "config")}) as server:
        yield server, notebooks


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state()


def _only_the_panel(page: Page) -> None:
    """The app page shows the panel and nothing else: no prose, no stray output like ``[]``."""
    outside = page.evaluate("""() => {
        const texts = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (!node.textContent.trim() || !el || el.closest('.kling-panel, script, style')) continue;
            if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
            texts.push(node.textContent.trim());
        }
        return texts;
    }""")
    assert outside == [], outside


def _generate(page: Page, site: Site, name: str) -> tuple[float, str]:
    """The panel to a playing video, its Download checked; (seconds, the video's file name)."""
    root = panel(page)
    _only_the_panel(page)
    seconds = generate_to_playing_video(root)
    download = fetch_download(root)
    assert_served_by_the_page(download, page.url)
    root.screenshot(path=str(site.shots / f"{name}-finished.png"))
    videos = sorted(site.outputs.glob("*.mp4"))
    assert videos, "the panel saved its video beside the notebook"
    views = page.evaluate("() => document.querySelectorAll('.kling-panel').length")
    contrast = lowest_contrast(page)
    assert stylesheet_applies(root)
    print(f"\n{name}: click to playing video {seconds:.1f} s, download {download.size:,} bytes "
          f"from {download.href.split(':')[0]}:, {views} panel view(s) on the page, nothing saved (Voila saves no "
          f"notebook), lowest text contrast {contrast['ratio']:.2f} ({contrast['text']!r})")
    assert views == 1
    assert float(contrast["ratio"]) >= 4.5, contrast  # type: ignore[arg-type]
    return seconds, videos[-1].name


def test_the_app_in_voila_standalone(standalone: Site) -> None:
    with chromium_page(standalone.shots / "voila-failure.png") as page:
        _open(page, standalone.url)
        _, video = _generate(page, standalone, "voila")
        # Voila's own file route, as kling_notebook.display points a result at it.
        assert page.evaluate(STATUS_JS, f"voila/files/kling_outputs/{video}") == 200
        assert page.evaluate(STATUS_JS, "voila/files/app.ipynb") == 403


def test_the_app_in_voila_as_a_server_extension(extension: tuple[Server, Path]) -> None:
    server, notebooks = extension
    site = Site(server.url("voila/render/notebooks/app.ipynb"), notebooks / "kling_outputs",
                screenshot_dir(server.root.parent / "shots"))
    with chromium_page(site.shots / "voila-render-failure.png") as page:
        _open(page, site.url)
        _, video = _generate(page, site, "voila-render")
        assert page.evaluate(STATUS_JS, f"../../files/notebooks/kling_outputs/{video}") == 200
        assert page.evaluate(STATUS_JS, "../../files/notebooks/app.ipynb") == 403


def test_a_result_plays_from_voilas_file_route(extension: tuple[Server, Path]) -> None:
    server, _ = extension
    with chromium_page(height=1400) as page:
        started = time.monotonic()
        _open(page, server.url("voila/render/notebooks/result.ipynb"))
        video = page.locator(".kling-result video").first
        video.wait_for(state="attached", timeout=120_000)
        until(page, "() => { const v = document.querySelector('.kling-result video');"
                    " return v.readyState >= 2 && v.videoWidth > 0; }", timeout=60_000)
        source = video.evaluate("v => v.currentSrc")
        assert re.search(r"/voila/files/notebooks/kling_outputs/[^/]+\.mp4$", source), source
        href = page.locator(".kling-result a", has_text="Download").first.get_attribute("href") or ""
        assert href == video.get_attribute("src") and "127.0.0.1" not in href, href  # relative
        assert page.evaluate(STATUS_JS, href) == 200
        print(f"\nvoila result: page to playing video {time.monotonic() - started:.1f} s from {source.split('?')[0][-60:]}")


def test_the_quickstart_in_voila_has_no_stray_output(extension: tuple[Server, Path]) -> None:
    server, _ = extension
    with chromium_page() as page:
        _open(page, server.url("voila/render/notebooks/01-quickstart.ipynb"))
        panel(page)
        page.wait_for_timeout(1000)
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not [text for text in outputs if text.strip() in ("[]", "None")], outputs
