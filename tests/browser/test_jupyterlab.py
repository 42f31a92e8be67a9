"""Acceptance: the quickstart notebook in JupyterLab, in headless Chromium, makes a video.

Starts JupyterLab on a free port in a temporary root holding a copy of
``notebooks/01-quickstart.ipynb``, runs all cells, sets a prompt and the 10 s duration in the
panel, clicks Generate (demo mode: no key in the environment), and checks that

* another cell runs at once while the job runs (the kernel is free),
* the progress row's elapsed clock keeps moving while a cell blocks the kernel with time.sleep,
* a ``<video>`` appears whose frames load (readyState >= 2, videoWidth > 0) from JupyterLab's
  ``/files/`` route (the relative path was rewritten, no base64 in the notebook),
* the panel's History section, opened, plays that video the same way.

Screenshots go to the test's temporary folder, or to ``$KLING_TEST_SCREENSHOTS`` when set
(``KLING_TEST_SCREENSHOTS=docs/screenshots`` refreshes the README's picture). Uses Debian's
chromium; never downloads a browser.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "01-quickstart.ipynb"
CHROMIUM = os.environ.get("KLING_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=user-gesture-required",
]
# JupyterLab's first-run news toast and update check, off for this user.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}
LAB_CONFIG = """
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.expose_app_in_browser = True
c.ServerApp.disable_check_xsrf = True
c.ServerApp.open_browser = False
"""
PROMPT = "She smiles, then puts on <round> glasses"
FAKE_KEY = "sk-browser-test-" + secrets.token_hex(8)
KEY_VARS = ("AIMLAPI_KEY", "AIML_API_KEY", "AIMLAPI_API_KEY", "AIMLAPI_BASE_URL", "AIML_API_BASE",
            "KLING_NOTEBOOK_OUTPUTS", "KLING_NOTEBOOK_DEMO", "KLING_NOTEBOOK_DISPLAY")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A running JupyterLab: yields (url of the quickstart notebook with token, root dir)."""
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    for name, value in LAB_SETTINGS.items():
        target = home / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    config = base / "lab_config.py"
    config.write_text(LAB_CONFIG)
    port, token = _free_port(), secrets.token_hex(16)
    env = {key: value for key, value in os.environ.items() if key not in KEY_VARS}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    command = [
        sys.executable, "-m", "jupyterlab", f"--config={config}", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = (base / "lab.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/api/status?token={token}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("JupyterLab did not start:\n" + (base / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
        yield f"{base_url}/lab/tree/{NOTEBOOK.name}?token={token}", root
    finally:
        _stop(server)
        log.close()


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and its kernels (its own process group)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _command(page: Page, command: str, args: dict[str, object] | None = None) -> None:
    """Start a JupyterLab command (the app is exposed as window.jupyterapp) without waiting for
    it to finish: "run cell" resolves only when the cell ends, like a user's Shift+Enter does not."""
    page.evaluate(
        "([id, args]) => { window.jupyterapp.commands.execute(id, args); }", [command, args or {}]
    )


def _add_cell_and_run(page: Page, source: str) -> None:
    """Append a code cell with ``source`` at the end of the notebook and run it."""
    page.evaluate(
        """() => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = notebook.widgets.length - 1;
        }"""
    )
    _command(page, "notebook:insert-cell-below")
    page.evaluate(
        "(source) => window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.setSource(source)",
        source,
    )
    _command(page, "notebook:run-cell")


def _dismiss_popups(page: Page) -> None:
    """Close a first-run dialog or toast if one appears (settings should already prevent them)."""
    for selector in (".jp-Dialog .jp-mod-reject", ".jp-toast-button:has-text('No')", ".Toastify__close-button"):
        for element in page.query_selector_all(selector):
            element.click()


def _row_state(page: Page) -> tuple[str, str]:
    """The progress row's elapsed/ETA text and its bar's width, as the browser shows them."""
    clock = page.inner_text(".kling-panel .kling-row .kling-clock")
    bar = page.eval_on_selector(".kling-panel .kling-row .progress-bar", "bar => bar.style.width")
    return str(clock), str(bar)


def test_quickstart_generates_a_playable_video_while_the_kernel_stays_free(lab: tuple[str, Path]) -> None:
    url, root = lab
    shots = Path(os.environ.get("KLING_TEST_SCREENSHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 2200})  # the whole panel fits
        try:
            _run(page, url, root, shots)
        except Exception:
            page.screenshot(path=str(root / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def _run(page: Page, url: str, root: Path, shots: Path) -> None:
    """The user's steps, from opening the notebook to a playing video."""
    page.goto(url)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                           ".connectionStatus === 'connected'", timeout=60_000)
    _dismiss_popups(page)
    _command(page, "notebook:run-all-cells")

    panel = page.locator(".kling-panel")
    panel.wait_for(state="visible", timeout=60_000)
    header = panel.locator(".kling-header")
    assert "demo mode: simulated videos, no credits used" in header.inner_text()
    page.locator(".kling-panel .kling-image-status:has-text('Kling accepts this image')").wait_for(timeout=30_000)
    _dismiss_popups(page)
    panel.screenshot(path=str(shots / "panel-idle.png"))

    # A key typed into the panel is taken out at once; the field is empty again.
    key_field = panel.locator(".kling-key input[type=password]")
    key_field.fill(FAKE_KEY)
    key_field.press("Enter")
    header.locator("text=live: https://api.aimlapi.com").wait_for(timeout=10_000)
    assert key_field.input_value() == ""
    panel.locator("button:has-text('Back to demo mode')").click()
    header.locator("text=demo mode: simulated videos").wait_for(timeout=10_000)

    prompt = panel.locator(".kling-prompt textarea")
    prompt.fill(PROMPT)
    panel.locator(".kling-duration button:has-text('10 s')").click()
    page.locator(".kling-panel .kling-cost:has-text('$2.80')").wait_for(timeout=10_000)
    generate = panel.locator("button:has-text('Generate')")
    assert generate.is_enabled()
    generate.click()
    row = panel.locator(".kling-row")
    row.wait_for(timeout=10_000)

    # The kernel is free: a new cell runs at once while the job runs.
    started = time.monotonic()
    _add_cell_and_run(page, "'kernel' + '-free'")
    page.locator(".jp-OutputArea-output:has-text('kernel-free')").wait_for(timeout=15_000)
    assert time.monotonic() - started < 15
    assert "done" not in row.locator(".kling-phase").inner_text()

    # A cell that blocks the kernel: the progress keeps moving meanwhile.
    _add_cell_and_run(page, "import time\ntime.sleep(12)\n'slept' + '-well'")
    running = page.locator(".jp-CodeCell .jp-InputPrompt:has-text('[*]')")
    running.wait_for(timeout=10_000)
    time.sleep(1.5)
    (clock_before, bar_before), phase = _row_state(page), row.locator(".kling-phase").inner_text()
    time.sleep(5)
    clock_after, bar_after = _row_state(page)
    assert running.count() == 1, "the blocking cell ended too early to prove anything"
    assert phase in ("queued at the gateway", "generating"), phase
    assert clock_before != clock_after, f"the clock froze while a cell blocked: {clock_before!r}"
    assert bar_before != bar_after, f"no job events while a cell blocked: bar stayed {bar_before}"

    video = panel.locator(".kling-row video")
    video.wait_for(state="attached", timeout=120_000)
    page.wait_for_function(
        """() => {
            const v = document.querySelector('.kling-panel .kling-row video');
            return v && v.readyState >= 2 && v.videoWidth > 0;
        }""",
        timeout=60_000,
    )
    source = video.evaluate("v => v.currentSrc")
    path = urlsplit(source).path
    assert path.startswith("/files/kling_outputs/") and path.endswith(".mp4"), source
    assert not video.evaluate("v => v.autoplay")
    assert "&lt;round&gt;" in row.inner_html() and "<round>" not in row.inner_html()
    page.locator(".jp-OutputArea-output:has-text('slept-well')").wait_for(timeout=30_000)
    # Show a frame from the middle of the clip in the screenshot, with the controls settled.
    video.evaluate("v => new Promise(done => { v.addEventListener('seeked', done, {once: true}); v.currentTime = 4; })")
    page.wait_for_timeout(800)
    panel.screenshot(path=str(shots / "panel-finished.png"))
    assert list((root / "kling_outputs").glob("*.mp4"))

    # The saved notebook holds a short relative path, never the video itself.
    saved = root / NOTEBOOK.name
    before_save = saved.stat().st_mtime_ns
    _command(page, "docmanager:save")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=15_000)
    assert saved.stat().st_mtime_ns != before_save
    text = saved.read_text()
    assert "data:video" not in text and "base64" not in text and len(text) < 100_000
    assert FAKE_KEY not in text

    # History (built when opened) plays the video through JupyterLab's file route too.
    history = panel.locator(".kling-history")
    history.locator(".jupyter-widget-Collapse-header").first.click()
    history.locator("button:has-text('Play')").first.click()
    page.wait_for_function(
        """() => {
            const v = document.querySelector('.kling-panel .kling-history video');
            return v && v.readyState >= 2 && v.videoWidth > 0;
        }""",
        timeout=60_000,
    )
    played = history.locator("video").first.evaluate("v => v.currentSrc")
    assert urlsplit(played).path == path, played
