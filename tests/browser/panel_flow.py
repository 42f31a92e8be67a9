"""The user's path through the panel that every front end's browser test takes: Generate (demo
mode) to a playing video, then the Download link fetched from the page itself.

Selectors follow the panel's DOM contract only (``.kling-panel``, the Generate button's name,
``.kling-row``, its ``<video>`` and its "Download" link). Playwright's locators pierce open shadow
roots, so the same steps work where a front end draws widgets inside one (marimo).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Frame, Locator, Page

Scope = Page | Frame

#: Reads the link's target from the page, as a click would: status, size, and the MP4's box type.
FETCH_JS = """
async (link) => {
  const reply = await fetch(link.href);
  const bytes = new Uint8Array(await reply.arrayBuffer());
  return {href: link.href, status: reply.status, size: bytes.length,
          box: String.fromCharCode(...bytes.slice(4, 8)), type: reply.headers.get('content-type') || ''};
}
"""


@dataclass(frozen=True)
class Download:
    """What the panel's Download link gave when fetched from the page."""

    href: str
    status: int
    size: int
    box: str
    type: str


def panel(scope: Scope, timeout_ms: int = 90_000) -> Locator:
    """The first panel, once it is drawn and its Generate button can be pressed."""
    root = scope.locator(".kling-panel").first
    root.wait_for(state="visible", timeout=timeout_ms)
    generate_button(root).wait_for(state="visible", timeout=timeout_ms)
    return root


def generate_button(root: Locator) -> Locator:
    return root.get_by_role("button", name=re.compile(r"^Generate")).first


def generate_to_playing_video(root: Locator, timeout_ms: int = 150_000) -> float:
    """Click Generate and wait until the row's video has frames; the seconds that took."""
    button = generate_button(root)
    deadline = time.monotonic() + 30
    while not button.is_enabled():  # the demo image is checked first
        assert time.monotonic() < deadline, "Generate stayed disabled"
        time.sleep(0.2)
    started = time.monotonic()
    button.click()
    row = root.locator(".kling-row").first
    row.wait_for(timeout=15_000)
    video = row.locator("video").first
    video.wait_for(state="attached", timeout=timeout_ms)
    ends = time.monotonic() + timeout_ms / 1000
    while not video.evaluate("v => v.readyState >= 2 && v.videoWidth > 0"):
        assert time.monotonic() < ends, "the video never got frames"
        time.sleep(0.2)
    return time.monotonic() - started


def fetch_download(root: Locator) -> Download:
    """The row's Download link, fetched by the page (the same origin rules as a click)."""
    link = root.locator(".kling-row a", has_text=re.compile(r"^Download")).first
    link.wait_for(timeout=15_000)
    ends = time.monotonic() + 30
    while link.get_attribute("href") in (None, "", "#"):  # the bytes are still on their way
        assert time.monotonic() < ends, "the Download link never got its target"
        time.sleep(0.2)
    return Download(**link.evaluate(FETCH_JS))


def assert_served_by_the_page(download: Download, page_url: str) -> None:
    """The video came from the front end itself (a blob/data URL, or the page's own server), whole."""
    href = urlsplit(download.href)
    page = urlsplit(page_url)
    assert href.scheme in ("blob", "data") or href.netloc == page.netloc, download.href
    if href.scheme == "blob":
        assert urlsplit(download.href[len("blob:"):]).netloc == page.netloc, download.href
    assert not href.path.endswith("/output.mp4"), f"the emulator's CDN URL: {download.href}"
    assert download.status == 200 and download.box == "ftyp" and download.size > 10_000, download


def stylesheet_applies(root: Locator) -> bool:
    """Whether the panel's own stylesheet reaches it (its custom properties are set): a front end
    that draws widgets in a shadow root (marimo) sees none of a style added to the page's head."""
    value = root.evaluate("el => getComputedStyle(el).getPropertyValue('--k-primary-bg').trim()")
    return bool(value)
