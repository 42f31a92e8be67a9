"""What every browser test shares: Chromium, a Jupyter server in a temporary root, JupyterLab's
first-run popups, the kernel's readiness, screenshots, and two checks on the panel as drawn
(the lowest text contrast, and that the controls that matter are visible and not truncated).

Uses Debian's chromium (``$KLING_TEST_CHROMIUM`` overrides the path); never downloads a browser.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

REPO = Path(__file__).resolve().parents[2]
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
#: JupyterLab's first-run news toast and update check, off for this user.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}
#: How often :func:`until` checks its condition, in milliseconds.
POLL_MS = 100
LAB_CONFIG = """
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.expose_app_in_browser = True
c.ServerApp.disable_check_xsrf = True
c.ServerApp.open_browser = False
"""
#: Variables that would give the server's kernels a key or another gateway: never inherited.
KEY_VARS = ("AIMLAPI_KEY", "AIML_API_KEY", "AIMLAPI_API_KEY", "AIMLAPI_BASE_URL", "AIML_API_BASE",
            "KLING_NOTEBOOK_OUTPUTS", "KLING_NOTEBOOK_DEMO", "KLING_NOTEBOOK_DISPLAY")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian chromium with the flags that keep it off the network and quiet."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


@contextmanager
def chromium_page(failure: Path | None = None, width: int = 1280, height: int = 1800) -> Iterator[Page]:
    """A page of its own headless chromium, closed afterwards; a test failing in it leaves a
    full-page screenshot at ``failure``."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            yield page
        except Exception:
            if failure is not None:
                page.screenshot(path=str(failure), full_page=True)
            raise
        finally:
            browser.close()


@dataclass(frozen=True)
class Server:
    """A running Jupyter server: its address, token and root folder."""

    base_url: str
    token: str
    root: Path

    def url(self, path: str) -> str:
        """``path`` (e.g. ``lab/tree/x.ipynb``) on this server, with the token."""
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"


def server_env(home: Path, extra: dict[str, str] | None = None,
               settings: dict[str, dict[str, object]] | None = None) -> dict[str, str]:
    """The environment for a server: no key variables, settings (:data:`LAB_SETTINGS` and
    ``settings``) and runtime files under ``home``."""
    for name, value in {**LAB_SETTINGS, **(settings or {})}.items():
        target = home / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    env = {key: value for key, value in os.environ.items() if key not in KEY_VARS}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    env.update(extra or {})
    return env


@contextmanager
def jupyter_server(
    base: Path,
    files: Sequence[Path] = (),
    *,
    app: str = "jupyterlab",
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    settings: dict[str, dict[str, object]] | None = None,
    config: str = LAB_CONFIG,
) -> Iterator[Server]:
    """Start ``python -m <app>`` on a free port with ``base/root`` (holding copies of ``files``)
    as its root; stop it and its kernels afterwards. ``base`` is a fresh temporary folder;
    ``env`` is added to the server's environment, ``settings`` to JupyterLab's user settings."""
    root, home = base / "root", base / "home"
    root.mkdir(parents=True, exist_ok=True)
    for file in files:
        (root / file.name).write_bytes(file.read_bytes())
    config_file = base / "server_config.py"
    config_file.write_text(config)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", app, f"--config={config_file}", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        *args,
    ]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=server_env(home, env, settings), stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(server, base_url, token, log_path)
            yield Server(base_url, token, root)
        finally:
            stop_server(server)


def _wait_until_up(server: subprocess.Popen[bytes], base_url: str, token: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/api/status?token={token}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the Jupyter server did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.3)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and its kernels (its own process group)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def until(page: Page, predicate: str, *, arg: object = None, timeout: float = 30_000) -> None:
    """Wait until the JavaScript ``predicate`` (called with ``arg``) is true, checking every
    :data:`POLL_MS`: Playwright's default checks on every animation frame, which makes the page
    draw 60 frames a second for as long as the wait lasts (five times the CPU)."""
    page.wait_for_function(predicate, arg=arg, timeout=timeout, polling=POLL_MS)


# -- JupyterLab ---------------------------------------------------------------------------------


def lab_command(page: Page, command: str, args: dict[str, object] | None = None) -> None:
    """Start a JupyterLab command (the app is exposed as window.jupyterapp) without waiting for
    it to finish: "run cell" resolves only when the cell ends, like a user's Shift+Enter does not."""
    page.evaluate(
        "([id, args]) => { window.jupyterapp.commands.execute(id, args); }", [command, args or {}]
    )


def wait_for_kernel(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait until the current notebook's kernel is connected."""
    until(page, "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=timeout_ms)
    until(page, "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                ".connectionStatus === 'connected'", timeout=timeout_ms)


def wait_for_notebook(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait until a notebook is open and its cells are drawn (kernel or not)."""
    until(page, "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.content"
                " && window.jupyterapp.shell.currentWidget.content.widgets.length > 0", timeout=timeout_ms)


def add_cell_and_run(page: Page, source: str) -> None:
    """Append a code cell with ``source`` at the end of the notebook and run it."""
    page.evaluate(
        """() => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = notebook.widgets.length - 1;
        }"""
    )
    lab_command(page, "notebook:insert-cell-below")
    page.evaluate(
        "(source) => window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.setSource(source)",
        source,
    )
    lab_command(page, "notebook:run-cell")


def save_notebook(page: Page) -> None:
    """Save the current notebook and wait until it is clean."""
    lab_command(page, "docmanager:save")
    until(page, "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=15_000)


def dismiss_popups(page: Page) -> None:
    """Close a first-run dialog or toast if one appears (settings should already prevent them)."""
    for selector in (".jp-Dialog .jp-mod-reject", ".jp-toast-button:has-text('No')", ".Toastify__close-button"):
        for element in page.query_selector_all(selector):
            element.click()


def set_lab_theme(page: Page, dark: bool) -> None:
    """Switch JupyterLab's theme and wait until its variables apply."""
    name = "JupyterLab Dark" if dark else "JupyterLab Light"
    lab_command(page, "apputils:change-theme", {"theme": name})
    until(page,
        "(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')", arg=dark, timeout=20_000
    )
    page.wait_for_timeout(500)  # the stylesheet swap settles


# -- screenshots and checks ---------------------------------------------------------------------


def screenshot_dir(fallback: Path) -> Path:
    """``$KLING_TEST_SCREENSHOTS`` when set (``docs/screenshots`` refreshes the README's pictures;
    a relative path is the repository's), else ``fallback`` (a test's temporary folder)."""
    asked = os.environ.get("KLING_TEST_SCREENSHOTS")
    shots = REPO / asked if asked else fallback  # relative to the repository (tests run elsewhere)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


#: Walks every visible text node in the first ``.kling-panel`` and returns the lowest WCAG
#: contrast ratio between its colour and the background behind it (the first opaque ancestor
#: background, composited over white or the page's own), with the text that has it.
CONTRAST_JS = """
(selector) => {
  const root = document.querySelector(selector);
  if (!root) return null;
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const over = (top, under) => { const a = top[3]; return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]); };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let color = layers.length && layers[layers.length - 1][3] >= 1 ? layers.pop() : [255, 255, 255, 1];
    while (layers.length) color = over(layers.pop(), color);
    return color;
  };
  let lowest = {ratio: 99, text: ''};
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const bg = background(el);
    const fg = over(parse(style.color) || [0, 0, 0, 1], bg);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < lowest.ratio) lowest = {ratio, text: text.slice(0, 60), color: style.color, tag: el.tagName};
  }
  return lowest;
}
"""


def lowest_contrast(page: Page, selector: str = ".kling-panel") -> dict[str, object]:
    """The lowest text contrast in the panel: ``{"ratio": float, "text": str, ...}``."""
    found = page.evaluate(CONTRAST_JS, selector)
    assert found is not None, f"no {selector} on the page"
    return dict(found)


#: For each selector inside the panel: is the first match visible, inside the panel's width and
#: not truncated (its text fits: scrollWidth <= clientWidth)?
WIDTH_JS = """
([panelSelector, selectors]) => {
  const panel = document.querySelector(panelSelector);
  const box = panel.getBoundingClientRect();
  return selectors.map((selector) => {
    const el = panel.querySelector(selector);
    if (!el) return {selector, ok: false, why: 'missing'};
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden' || style.display === 'none')
      return {selector, ok: false, why: 'not visible'};
    if (r.left < box.left - 1 || r.right > box.right + 1) return {selector, ok: false, why: `outside the panel (${r.left}-${r.right} of ${box.left}-${box.right})`};
    if (el.scrollWidth > el.clientWidth + 1) return {selector, ok: false, why: `truncated (${el.scrollWidth} > ${el.clientWidth})`};
    return {selector, ok: true, why: ''};
  });
}
"""

#: What must stay whole at any width: Generate, and a running row's clock, bar and Cancel.
KEY_CONTROLS = (".kling-generate", ".kling-row .kling-clock", ".kling-row [role=progressbar]", ".kling-row .kling-cancel")


def width_problems(page: Page, selectors: Sequence[str] = KEY_CONTROLS, panel: str = ".kling-panel") -> list[str]:
    """The controls among ``selectors`` that are missing, hidden, clipped or truncated (empty: all fine)."""
    checked = page.evaluate(WIDTH_JS, [panel, list(selectors)])
    return [f"{item['selector']}: {item['why']}" for item in checked if not item["ok"]]
