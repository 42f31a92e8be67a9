"""How a finished video is shown: relative file (default), embedded (Colab, Voila), or remote URL."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from kling_notebook.domain.generation import Generation, GenerationResult
from kling_notebook.domain.request import GenerationRequest
from kling_notebook.frontends import display
from kling_notebook.frontends.panel import DEMO_IMAGE

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000


@pytest.fixture
def result(tmp_path: Path) -> GenerationResult:
    path = tmp_path / "kling_outputs" / "a b&c.mp4"
    path.parent.mkdir()
    path.write_bytes(VIDEO)
    generation = Generation(
        id="abc:kling-video/v2.1/master/image-to-video", status="completed",
        video_url="https://cdn.example/v.mp4?a=1&b=2", credits_used=210.0,
    )
    request = GenerationRequest(image=DEMO_IMAGE, prompt="<b>bold</b> move", duration=5)
    return GenerationResult(path=path, generation=generation, request=request, elapsed=65.0)


@pytest.fixture(autouse=True)
def default_mode() -> None:
    display.set_display_mode("auto")


def test_default_is_a_relative_file_with_a_download_link(result: GenerationResult) -> None:
    bundle = result._repr_mimebundle_()
    page = bundle["text/html"]
    assert '<video controls preload="metadata" playsinline src="kling_outputs/a%20b%26c.mp4"' in page
    assert "autoplay" not in page and "base64" not in page
    assert 'href="kling_outputs/a%20b%26c.mp4" download="a b&amp;c.mp4"' in page
    assert "&lt;b&gt;bold&lt;/b&gt; move" in page
    for words in ("5 s", "2.0 KB", "210", "1:05", result.id, "kling_outputs/a b&c.mp4"):
        assert words.replace("&", "&amp;") in page
    text = bundle["text/plain"]
    assert str(result.path) in text and "Credits used: 210" in text


def test_colab_embeds_the_video(result: GenerationResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert display.concrete_mode() == "embed"
    page = display.video_html(result)
    assert 'src="data:video/mp4;base64,' in page
    assert 'href="https://cdn.example/v.mp4?a=1&amp;b=2" download="a b&amp;c.mp4"' in page  # not the kernel's files


def test_voila_embeds_the_video(result: GenerationResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOILA_KERNEL_ID", "k")
    assert display.concrete_mode() == "embed"


def test_embed_has_a_size_cap(result: GenerationResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "EMBED_LIMIT", 100)
    page = display.video_html(result, "embed")
    assert "base64" not in page
    assert 'src="https://cdn.example/v.mp4?a=1&amp;b=2"' in page
    assert "too large to embed" in page


def test_url_mode_and_env_setting(result: GenerationResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(display.ENV_VAR, "url")
    assert display.get_display_mode() == "url"
    assert 'src="https://cdn.example/v.mp4?a=1&amp;b=2"' in display.video_html(result)
    display.set_display_mode("file")
    assert 'src="kling_outputs/' in display.video_html(result)
    with pytest.raises(ValueError, match="display mode"):
        display.set_display_mode("inline")  # type: ignore[arg-type]
