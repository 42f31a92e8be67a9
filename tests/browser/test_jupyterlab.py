"""Acceptance: the quickstart notebook in JupyterLab 4, in headless Chromium, makes a video.

One JupyterLab for the module, in a temporary root holding a copy of
``notebooks/01-quickstart.ipynb``, with widget state saved into the notebook. The panel is
driven as a user would: a key typed and taken out at once, a prompt, the 10 s toggle, Generate
(demo mode: no key in the environment). Checked on the way:

* focus moves to the new row's Cancel, and the live region announces the row's states,
* another cell runs at once while the job runs (the kernel is free), and the row's clock and bar
  keep moving while a cell blocks the kernel with time.sleep,
* Generate, the clock, the bar and Cancel stay whole at 420, 800 and 1280 px,
* a ``<video>`` appears whose frames load (readyState >= 2, videoWidth > 0), with a Download link,
* every text in the panel has a contrast of at least 4.5:1, in the light and the dark theme,
* Tab reaches Advanced, Copy as code and History,
* the saved notebook holds no video and no key, the panel is one model and its state is small,
* a Job shown as a cell's last line, and a confirmed batch, are rows that become their videos,
* reopened after its kernel is gone, the output shows the static fallback.

Measured and printed: click to playing video, the saved notebook's size, the panel's models.
Screenshots go to the test's temporary folder, or to ``$KLING_TEST_SCREENSHOTS`` when set
(``KLING_TEST_SCREENSHOTS=docs/screenshots`` refreshes the README's pictures).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .harness import (
    REPO,
    Server,
    add_cell_and_run,
    dismiss_popups,
    jupyter_server,
    lab_command,
    launch_chromium,
    lowest_contrast,
    save_notebook,
    screenshot_dir,
    set_lab_theme,
    until,
    wait_for_kernel,
    wait_for_notebook,
    width_problems,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = REPO / "notebooks" / "01-quickstart.ipynb"
PROMPT = "She smiles, then puts on <round> glasses"
FAKE_KEY = "sk-browser-test-" + secrets.token_hex(8)
#: A typed key goes to a closed local port (never the real gateway); the panel starts in demo mode.
SERVER_ENV = {"KLING_NOTEBOOK_DEMO": "1", "AIMLAPI_BASE_URL": "http://127.0.0.1:9"}
#: Save widget state into the notebook, as a user who wants widgets back after a reload does.
SAVE_WIDGETS = {"@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True}}
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MIN_CONTRAST = 4.5
#: Records every text the panel's live region says, from before the click on.
WATCH_LIVE_REGION = """() => {
    window.__klingSaid = [];
    const live = document.querySelector('.kling-panel [aria-live=polite]');
    new MutationObserver(() => window.__klingSaid.push(live.textContent))
        .observe(live, {childList: true, characterData: true, subtree: true});
}"""
PLAYING = """() => {
    const v = document.querySelector('.kling-panel .kling-row video');
    return v && v.readyState >= 2 && v.videoWidth > 0;
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with jupyter_server(tmp_path_factory.mktemp("lab"), [NOTEBOOK], env=SERVER_ENV, settings=SAVE_WIDGETS) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, lab: Server) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1280, "height": 2200})  # the whole panel fits
    try:
        yield opened
    except Exception:
        opened.screenshot(path=str(lab.root / "failure.png"), full_page=True)
        raise
    finally:
        opened.close()


def open_quickstart(page: Page, lab: Server) -> None:
    """Open the notebook, run all its cells, and wait for the panel with its image checked."""
    page.goto(lab.url(f"lab/tree/{NOTEBOOK.name}"))
    wait_for_kernel(page)
    dismiss_popups(page)
    lab_command(page, "notebook:run-all-cells")
    page.locator(".kling-panel").wait_for(state="visible", timeout=60_000)
    page.locator(".kling-panel .kling-image-status:has-text('Kling accepts this image')").wait_for(timeout=30_000)
    dismiss_popups(page)


def assert_readable(page: Page, theme: str) -> None:
    lowest = lowest_contrast(page)
    print(f"lowest text contrast ({theme}): {lowest['ratio']:.2f} for {lowest['text']!r}")
    assert lowest["ratio"] >= MIN_CONTRAST, f"{theme}: {lowest}"


def focus_walk(page: Page, start: str, steps: int = 60) -> list[str]:
    """The accessible names Tab visits from ``start``, in order."""
    page.locator(start).focus()
    visited = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        name = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || !el.closest('.kling-panel')) return null;
            return el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40) || el.tagName;
        }""")
        if name is None:
            break
        visited.append(name)
    return visited


def test_quickstart_generates_a_playable_video_while_the_kernel_stays_free(page: Page, lab: Server) -> None:
    shots = screenshot_dir(lab.root / "screenshots")
    open_quickstart(page, lab)
    panel = page.locator(".kling-panel")
    header = panel.locator(".kling-header")
    assert "demo mode: simulated videos, no credits used" in header.inner_text()
    assert_readable(page, "light")
    panel.screenshot(path=str(shots / "panel-light.png"))

    # A key typed into the panel is taken out at once; the field is empty again.
    key_field = panel.get_by_label("API key")
    key_field.fill(FAKE_KEY)
    key_field.press("Enter")
    header.locator("text=live: http://127.0.0.1:9").wait_for(timeout=10_000)
    assert key_field.input_value() == ""
    panel.get_by_role("button", name="Back to demo mode").click()
    header.locator("text=demo mode: simulated videos").wait_for(timeout=10_000)

    panel.get_by_role("textbox", name="Prompt", exact=True).fill(PROMPT)
    ten = panel.get_by_role("button", name="10 s", exact=True)
    ten.click()
    until(page, "() => document.querySelector('.kling-panel [aria-pressed=true]').textContent === '10 s'")
    assert panel.get_by_role("button", name="5 s", exact=True).get_attribute("aria-pressed") == "false"
    page.locator(".kling-panel .kling-cost:has-text('$2.80')").wait_for(timeout=10_000)
    generate = panel.get_by_role("button", name="Generate", exact=True)
    assert generate.is_enabled()
    page.evaluate(WATCH_LIVE_REGION)
    clicked = time.monotonic()
    generate.click()
    row = panel.locator(".kling-row")
    row.wait_for(timeout=10_000)
    until(page, "() => document.activeElement && document.activeElement.classList.contains('kling-cancel')",
                timeout=10_000)

    # The kernel is free: a new cell runs at once while the job runs.
    started = time.monotonic()
    add_cell_and_run(page, "'kernel' + '-free'")
    page.locator(".jp-OutputArea-output:has-text('kernel-free')").wait_for(timeout=15_000)
    assert time.monotonic() - started < 15
    assert "done" not in row.locator(".kling-phase").inner_text()

    # Narrow and wide: Generate, the clock, the bar and Cancel stay whole while the row runs (the
    # file browser closed, as on a narrow screen: it would take most of 420 px).
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    for width in (420, 800, 1280):
        page.set_viewport_size({"width": width, "height": 2200})
        page.wait_for_timeout(300)
        problems = width_problems(page)
        assert not problems, f"at {width} px: {problems}"
        if width == 420:
            panel.screenshot(path=str(shots / "panel-narrow.png"))

    # A cell that blocks the kernel: the progress keeps moving meanwhile.
    add_cell_and_run(page, "import time\ntime.sleep(12)\n'slept' + '-well'")
    running = page.locator(".jp-CodeCell .jp-InputPrompt:has-text('[*]')")
    running.wait_for(timeout=10_000)
    page.wait_for_timeout(1500)
    clock_before = row.locator(".kling-clock").inner_text()
    bar_before = row.locator("[role=progressbar]").get_attribute("aria-valuenow")
    phase = row.locator(".kling-phase").inner_text()
    page.wait_for_timeout(5000)
    clock_after = row.locator(".kling-clock").inner_text()
    bar_after = row.locator("[role=progressbar]").get_attribute("aria-valuenow")
    assert running.count() == 1, "the blocking cell ended too early to prove anything"
    assert phase in ("queued at the gateway", "generating"), phase
    assert clock_before != clock_after, f"the clock froze while a cell blocked: {clock_before!r}"
    assert bar_before != bar_after, f"no job events while a cell blocked: bar stayed at {bar_before}"

    video = panel.locator(".kling-row video")
    video.wait_for(state="attached", timeout=120_000)
    until(page, PLAYING, timeout=60_000)
    print(f"click to playing video: {time.monotonic() - clicked:.1f} s")
    assert not video.evaluate("v => v.autoplay")
    assert row.get_by_role("link", name="Download").get_attribute("download", timeout=5_000).endswith(".mp4")
    assert "&lt;round&gt;" in row.inner_html() and "<round>" not in row.inner_html()
    said = " | ".join(page.evaluate("() => window.__klingSaid"))
    assert "generating" in said and "done" in said, said
    page.locator(".jp-OutputArea-output:has-text('slept-well')").wait_for(timeout=30_000)
    assert list((lab.root / "kling_outputs").glob("*.mp4"))

    # Show a frame from the middle of the clip in the screenshots, with the controls settled.
    video.evaluate("v => new Promise(done => { v.addEventListener('seeked', done, {once: true}); v.currentTime = 4; })")
    page.wait_for_timeout(800)
    assert_readable(page, "light, finished")
    panel.screenshot(path=str(shots / "panel-finished.png"))

    visited = focus_walk(page, ".kling-panel .kling-key-input")
    for name in ("Advanced (sent only when set)", "Generate", "Copy as code", "History"):
        assert name in visited, f"Tab never reaches {name!r}: {visited}"

    set_lab_theme(page, dark=True)
    assert panel.get_attribute("data-kling-theme") == "dark"
    assert_readable(page, "dark")
    panel.screenshot(path=str(shots / "panel-dark.png"))

    # Advanced and History open: readable in both themes; History plays the video too.
    panel.locator(".kling-advanced > summary").click()
    panel.locator(".kling-history > summary").click()
    panel.locator(".kling-history .kling-card").first.wait_for(timeout=15_000)
    assert_readable(page, "dark, sections open")
    set_lab_theme(page, dark=False)
    assert_readable(page, "light, sections open")
    panel.locator(".kling-history").get_by_role("button", name="Play").first.click()
    until(page, """() => {
        const v = document.querySelector('.kling-panel .kling-history video');
        return v && v.readyState >= 2 && v.videoWidth > 0;
    }""", timeout=60_000)

    # The saved notebook: no video, no key, one small panel model.
    save_notebook(page)
    saved = lab.root / NOTEBOOK.name
    text = saved.read_text()
    assert "data:video" not in text and FAKE_KEY not in text
    state = json.loads(text)["metadata"]["widgets"][WIDGET_STATE]["state"]
    panels = {key: model for key, model in state.items() if model["state"].get("view") == "panel"}
    (panel_id, panel_model), = panels.items()
    layout_id = panel_model["state"]["layout"].removeprefix("IPY_MODEL_")
    panel_bytes = len(json.dumps(panel_model))
    print(f"saved notebook: {len(text)} bytes; widget models in it: {len(state)}; the panel's: "
          f"{1 + (layout_id in state)} (panel + its layout), panel state {panel_bytes} bytes")
    assert panel_bytes < 20_000 and len(text) < 100_000


def test_a_job_shown_alone_plays_and_a_reopened_notebook_shows_the_fallback(page: Page, lab: Server) -> None:
    (lab.root / NOTEBOOK.name).write_bytes(NOTEBOOK.read_bytes())  # the quickstart as shipped
    open_quickstart(page, lab)
    fallback = page.locator(".kling-fallback")
    assert fallback.count() == 1 and not fallback.is_visible(), "the live panel hides its fallback"

    # A Job as a cell's last line: its own row (an anywidget too), which becomes the video.
    add_cell_and_run(page, "from kling_notebook.frontends.panel import DEMO_IMAGE\n"
                           "job = panel.client.start(image=DEMO_IMAGE, prompt='on its own')\njob")
    alone = page.locator(".kling-jobs .kling-row")
    alone.wait_for(timeout=30_000)
    assert alone.get_by_role("button", name="Cancel").is_visible() and alone.locator(".kling-clock").is_visible()
    until(page, """() => {
        const v = document.querySelector('.kling-jobs .kling-row video');
        return v && v.readyState >= 2 && v.videoWidth > 0;
    }""", timeout=90_000)

    # A batch: nothing runs before Confirm; then its rows become videos.
    add_cell_and_run(page, "from kling_notebook import BatchView\nfrom kling_notebook.runtime.batch import sweep\n"
                           "BatchView(panel.client, sweep(images=DEMO_IMAGE, prompts=['batch one']))")
    batch = page.locator(".kling-jobs:has(.kling-batch .kling-primary)")
    confirm = batch.get_by_role("button", name="Confirm: 1 video")
    confirm.click()
    batch.locator(".kling-row").wait_for(timeout=30_000)
    assert batch.locator(".kling-row .kling-cancel").is_hidden(), "a batch stops as a whole"
    batch.locator(".kling-row video").wait_for(state="attached", timeout=90_000)
    batch.locator("text=1 saved, 0 failed").wait_for(timeout=30_000)
    save_notebook(page)
    for session in httpx.get(f"{lab.base_url}/api/sessions", params={"token": lab.token}).json():
        httpx.delete(f"{lab.base_url}/api/sessions/{session['id']}", params={"token": lab.token})
    page.reload()
    wait_for_notebook(page)
    dismiss_popups(page)
    fallback.wait_for(state="visible", timeout=30_000)
    words = fallback.inner_text()
    assert "Kling image-to-video panel" in words and "run this cell to use the panel" in words
    assert page.locator(".kling-panel .kling-generate").count() == 0
    shots = screenshot_dir(lab.root / "screenshots")
    fallback.screenshot(path=str(shots / "panel-fallback.png"))
    assert Path(shots / "panel-fallback.png").stat().st_size > 0
