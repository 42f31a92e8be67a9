"""Hostile text in prompts, generation ids, gateway error messages, URLs and file names is shown
escaped in every HTML surface: ``display.result_mimebundle`` (every mode), the panel (its progress
rows, result player, pending list), the history gallery and the batch view.

Each test drives a surface with the hostile strings, then parses every piece of HTML it shows:
no script, no injected element, no event handler, and the hostile text is visible (escaped, not
silently dropped).
"""

from __future__ import annotations

import html
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import ipywidgets as widgets
import pytest
from fakes import MP4_HEAD
from widget_state import widget_html

from kling_notebook import (
    AsyncKlingClient,
    Generation,
    GenerationRequest,
    GenerationResult,
    IgnoredFieldWarning,
    errors,
)
from kling_notebook.frontends.display import result_mimebundle
from kling_notebook.frontends.panel import JobsView, KlingPanel
from kling_notebook.frontends.panel._batch import BatchView
from kling_notebook.frontends.panel._history import HistoryGallery
from kling_notebook.frontends.panel._html import error_html
from kling_notebook.runtime.jobs import JobRunner
from kling_notebook.store.journal import Journal

from ._support import FAST_POLL, FAST_RETRY, HOSTILE, KEY, assert_inert, make_jpeg

PROMPT = " ".join(HOSTILE)  # 58 characters: shown whole in a progress row's title
BAD_ID = f'{HOSTILE[1]}{HOSTILE[0]}:kling-video/v2.1/master/image-to-video'
VIDEO_URL = f'https://cdn.test/v.mp4?x={HOSTILE[1]}'
FILE_NAME = f'{HOSTILE[1]}{HOSTILE[0].replace("/", "")}.mp4'  # "/" cannot be in a file name
API = "https://api.test"


def html_shown(root: widgets.Widget) -> Iterator[str]:
    """Every HTML string a widget tree shows (HTML widgets, Output widgets' text/html, and
    what an anywidget view of this package draws from its state)."""
    if isinstance(root, (KlingPanel, JobsView, BatchView)):
        yield from widget_html(root)
    if isinstance(root, widgets.HTML):
        yield root.value
    if isinstance(root, widgets.Output):
        yield from (str(o.get("data", {}).get("text/html", "")) for o in root.outputs)
    for child in getattr(root, "children", ()):
        yield from html_shown(child)


def assert_escaped(pieces: Iterator[str] | list[str], *expected: str) -> None:
    """Every piece is inert, and each ``expected`` string is visible in one of them."""
    visible = " ".join(assert_inert(piece) for piece in pieces)
    for text in expected:
        assert text in visible, f"{text!r} is not shown (escaped) anywhere: {visible[:500]!r}"


class _Video(httpx.AsyncByteStream):
    """A streamed body (``content=`` bytes are pre-read by httpx and cannot be streamed raw)."""

    data = MP4_HEAD + b"\0" * 2000

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def gateway(outcome: str) -> httpx.MockTransport:
    """The API answering with hostile ids and errors; the CDN serving a small video."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.test":
            return httpx.Response(200, stream=_Video(), headers={"Content-Length": str(len(_Video.data))})
        if request.method == "POST":
            return httpx.Response(200, json={"id": BAD_ID, "status": "queued"})
        body: dict[str, Any] = {"id": BAD_ID, "status": outcome}
        if outcome == "error":
            body["error"] = {"name": HOSTILE[0], "message": HOSTILE[1]}
        else:
            body["video"] = {"url": VIDEO_URL, "file_size": len(_Video.data)}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def client(outcome: str, tmp_path: Path) -> AsyncKlingClient:
    return AsyncKlingClient(KEY, API, transport=gateway(outcome), out_dir=tmp_path / "out",
                            poll=FAST_POLL, retry=FAST_RETRY)


def hostile_result(tmp_path: Path) -> GenerationResult:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"\0" * 100)
    generation = Generation(id=BAD_ID, status="completed", video_url=VIDEO_URL, credits_used=2100)
    return GenerationResult(path=path, generation=generation,
                            request=GenerationRequest(image=make_jpeg(), prompt=PROMPT))


@pytest.mark.parametrize("mode", ["file", "embed", "url", None])
def test_result_display_in_every_mode(mode: Any, tmp_path: Path) -> None:
    bundle = result_mimebundle(hostile_result(tmp_path), mode=mode)
    assert_escaped([bundle["text/html"]], PROMPT, BAD_ID, FILE_NAME)


@pytest.mark.parametrize("kind", [errors.GenerationFailedError, errors.MissingVideoError,
                                  errors.SubmissionUncertainError, errors.DownloadError,
                                  errors.ValidationError, errors.ServerError])
def test_error_html_of_every_shape(kind: type[errors.KlingError]) -> None:
    made = {
        errors.GenerationFailedError: lambda: kind(BAD_ID, HOSTILE[0], HOSTILE[1]),
        errors.MissingVideoError: lambda: kind(BAD_ID),
        errors.SubmissionUncertainError: lambda: kind(PROMPT),
        errors.DownloadError: lambda: kind(BAD_ID, PROMPT),
        errors.ValidationError: lambda: kind("prompt", PROMPT, HOSTILE[0]),
        errors.ServerError: lambda: kind(PROMPT, status_code=500, request_id=HOSTILE[1]),
    }[kind]()
    assert_escaped([error_html(made), error_html(RuntimeError(PROMPT))], HOSTILE[0])


@pytest.mark.parametrize("outcome", ["completed", "error"])
def test_progress_row_and_result_player(outcome: str, tmp_path: Path) -> None:
    runner = JobRunner(client(outcome, tmp_path))
    job = runner.start(GenerationRequest(image=make_jpeg(), prompt=PROMPT))
    row = JobsView()
    row.follow(job, code_text=f"prompt={PROMPT!r}")
    if outcome == "error":
        with pytest.raises(errors.GenerationFailedError):
            job.result(timeout=30)
    else:
        job.result(timeout=30)
    expected = [PROMPT, BAD_ID] + ([HOSTILE[0], HOSTILE[1]] if outcome == "error" else [])
    deadline = time.monotonic() + 30
    while not (row.rows and row.rows[0]["final"]):
        assert time.monotonic() < deadline, row.rows
        time.sleep(0.05)
    assert_escaped(list(html_shown(row)), *expected)
    assert row.rows[0]["phase"] == ("failed" if outcome == "error" else "completed")


def test_panel_with_hostile_prompt_and_pending_entries(tmp_path: Path) -> None:
    gateway_client = client("error", tmp_path)
    with Journal.in_dir(tmp_path / "out") as journal:  # an unfinished one from an earlier session
        row = journal.begin({"prompt": PROMPT, "duration": 5}, endpoint="universal", base_url=API)
        journal.submitted(row, BAD_ID.replace(":", "-pending:"), "generating")
    panel = KlingPanel(gateway_client, prompt=PROMPT)
    job = panel.generate()
    assert job is not None
    with pytest.raises(errors.GenerationFailedError):
        job.result(timeout=30)
    deadline = time.monotonic() + 30
    while not (panel.rows and panel.rows[0]["final"]):
        assert time.monotonic() < deadline, panel.rows
        time.sleep(0.05)
    assert panel.pending["entries"], "the pending entry must be listed"
    assert_escaped(list(html_shown(panel)), PROMPT, HOSTILE[1])


def test_image_picker_with_hostile_url_and_file_name(tmp_path: Path, image_host: Any) -> None:
    url, _ = image_host
    panel = KlingPanel(client("error", tmp_path))
    data = make_jpeg()
    panel.receive({"kind": "upload", "name": FILE_NAME, "size": len(data), "upload": "1", "index": 0, "count": 1}, [data])
    assert_escaped(list(html_shown(panel)), FILE_NAME)
    hostile_url = f"{url}?q={HOSTILE[1]}{HOSTILE[0]}"
    panel.receive({"kind": "image_url", "url": hostile_url}, [])
    deadline = time.monotonic() + 30
    while getattr(panel.picker.source, "value", None) != hostile_url:
        assert time.monotonic() < deadline, panel.image["status_html"]
        time.sleep(0.05)
    assert_escaped(list(html_shown(panel)), "JPEG")
    assert panel.image["preview"] == hostile_url  # that very URL, set as an attribute by the view


def test_history_gallery(tmp_path: Path) -> None:
    result = hostile_result(tmp_path)
    with Journal.in_dir(tmp_path) as journal:
        done = journal.begin({"prompt": PROMPT, "duration": 5}, endpoint="universal", base_url=API)
        journal.submitted(done, BAD_ID, "completed")
        journal.update(BAD_ID, "completed", video_url=VIDEO_URL, credits_used=2100)
        journal.downloaded(BAD_ID, result.path)
        failed = journal.begin({"prompt": PROMPT, "duration": 10}, endpoint="universal", base_url=API)
        journal.submitted(failed, "failed-" + BAD_ID, "error")
        journal.update("failed-" + BAD_ID, "error", error=f"{HOSTILE[0]}: {HOSTILE[1]}")
        gallery = HistoryGallery(journal)
        gallery.wait_thumbnails(timeout=30)
        assert len(gallery.cards) == 2
        gallery.play(next(card.item for card in gallery.cards if card.item.video))
        assert gallery.player.children, "the video must be playing"
        assert_escaped(list(html_shown(gallery)), PROMPT, HOSTILE[1], FILE_NAME)


def test_batch_view(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)
        requests = [GenerationRequest(image=make_jpeg(), prompt=PROMPT, duration=d) for d in (5, 10)]
    view = BatchView(client("error", tmp_path), requests)
    outcome = view.confirm().result(timeout=60)
    assert len(outcome.failures) == 2
    deadline = time.monotonic() + 30
    while not all(row["final"] for row in view.rows):
        assert time.monotonic() < deadline, view.rows
        time.sleep(0.05)
    assert_escaped(list(html_shown(view)), PROMPT, HOSTILE[0], HOSTILE[1])


def test_the_check_would_catch_raw_html() -> None:
    """The inertness check is not vacuous: unescaped hostile text fails it."""
    for hostile in HOSTILE:
        with pytest.raises(AssertionError):
            assert_inert(f"<div>{hostile}</div>")
        assert_inert(f"<div>{html.escape(hostile)}</div>")
    with pytest.raises(AssertionError):
        assert_escaped(["<div>safe</div>"], HOSTILE[0])


def test_file_names_on_disk_stay_plain(tmp_path: Path) -> None:
    """Videos get names made of [a-z0-9-_.] only, whatever the prompt and id were."""
    from kling_notebook.store.outputs import video_filename

    name = video_filename(BAD_ID, PROMPT, datetime.now(timezone.utc))
    assert all(c.isalnum() or c in "-_." for c in name) and name.endswith(".mp4")


@pytest.mark.parametrize("scheme", ["javascript:alert(1)", "data:text/html,<script>x</script>", "vbscript:x", " JavaScript:alert(1)"])
@pytest.mark.parametrize("mode", ["url", "embed", "file"])
def test_no_other_scheme_than_http_becomes_a_link_or_a_source(tmp_path, scheme: str, mode: str) -> None:
    """Whatever a journal or sidecar holds as the video URL, only http(s) is ever rendered."""
    from kling_notebook import Generation, GenerationResult
    from kling_notebook.frontends.display import video_html

    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 100)
    result = GenerationResult(path=path, generation=Generation(id="g", status="completed", video_url=scheme))
    shown = video_html(result, mode).lower()
    assert "javascript:" not in shown and "vbscript:" not in shown and "text/html" not in shown
