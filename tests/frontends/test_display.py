"""How a finished video is shown: the front end's file route (JupyterLab, Voila), embedded (Colab,
VS Code, marimo), or the remote URL; and never through a loopback URL a remote browser cannot reach."""

from __future__ import annotations

import base64
import posixpath
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from kling_notebook.domain.generation import Generation, GenerationResult
from kling_notebook.domain.request import GenerationRequest
from kling_notebook.frontends import detect, display
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
def default_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Auto mode in JupyterLab, whatever the machine running the tests looks like."""
    monkeypatch.delenv(display.ENV_VAR, raising=False)
    display.set_display_mode("auto")
    detect.set_frontend("jupyter")
    yield
    detect.set_frontend(None)
    display.set_display_mode("auto")


def demo_result(result: GenerationResult, url: str) -> GenerationResult:
    """``result`` as the demo emulator (or a journal) would leave it: its URL on this machine."""
    generation = Generation(id=result.id, status="completed", video_url=url)
    return GenerationResult(path=result.path, generation=generation, request=result.request)


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


def test_colab_embeds_the_video_and_its_download(result: GenerationResult, monkeypatch: pytest.MonkeyPatch) -> None:
    detect.set_frontend(None)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert display.concrete_mode() == "embed"
    page = display.video_html(result)
    data = "data:video/mp4;base64," + base64.b64encode(VIDEO).decode()
    assert f'src="{data}"' in page
    assert f'href="{data}" download="a b&amp;c.mp4"' in page  # not the kernel's files, nor the CDN
    assert "kling_outputs" not in page and "cdn.example" not in page


@pytest.mark.parametrize("front_end", ["colab", "vscode", "marimo"])
def test_front_ends_that_cannot_reach_the_kernels_files_get_no_relative_path(
    result: GenerationResult, front_end: detect.Frontend
) -> None:
    detect.set_frontend(front_end)
    source = display.video_source(result)
    assert source.mode == "embed" and source.url.startswith("data:video/mp4;base64,")
    assert "kling_outputs" not in display.result_html(result).split("<table")[0]


def test_voila_standalone_links_its_file_route(result: GenerationResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """``voila app.ipynb``: the page is the server's root, files under /voila/files/ (the notebook's folder)."""
    monkeypatch.chdir(result.path.parents[1])
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    monkeypatch.setenv("SCRIPT_NAME", "/")
    detect.set_frontend("voila")
    assert display.concrete_mode() == "file"
    page = display.video_html(result)
    assert 'src="voila/files/kling_outputs/a%20b%26c.mp4"' in page
    assert 'href="voila/files/kling_outputs/a%20b%26c.mp4" download="a b&amp;c.mp4"' in page


def test_voila_render_behind_a_proxy_links_its_file_route(
    result: GenerationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Binder's link: /user/NAME/voila/render/notebooks/app.ipynb, the server's root above notebooks/."""
    notebooks = result.path.parents[1]
    monkeypatch.chdir(notebooks)
    monkeypatch.setenv("VOILA_BASE_URL", "/user/me-x1/")
    monkeypatch.setenv("SCRIPT_NAME", "/user/me-x1/voila/render/notebooks/app.ipynb")
    detect.set_frontend("voila")
    url = display.video_source(result).url
    assert url == "../../files/notebooks/kling_outputs/a%20b%26c.mp4"
    page_dir = "/user/me-x1/voila/render/notebooks/"
    assert posixpath.normpath(posixpath.join(page_dir, unquote(url))) == (
        "/user/me-x1/voila/files/notebooks/kling_outputs/a b&c.mp4"
    )


def test_voila_without_its_request_variables_uses_the_root_route(
    result: GenerationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preheated kernel knows no request yet: the standalone layout is the best guess."""
    monkeypatch.chdir(result.path.parents[1])
    for name in ("VOILA_BASE_URL", "SCRIPT_NAME"):
        monkeypatch.delenv(name, raising=False)
    detect.set_frontend("voila")
    assert display.served_url(result.path) == "voila/files/kling_outputs/a%20b%26c.mp4"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/cdn/v.mp4", "http://localhost:1/v.mp4", "javascript:alert(1)"])
@pytest.mark.parametrize("mode", ["url", "embed", "file"])
def test_a_loopback_or_script_url_is_never_rendered(
    result: GenerationResult, url: str, mode: display.DisplayMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(display, "EMBED_LIMIT", 100)  # too big to embed: the URL would be next
    demo = demo_result(result, url)
    page = display.result_html(demo, mode)
    assert "127.0.0.1" not in page and "localhost" not in page and "javascript" not in page
    assert 'src="kling_outputs/a%20b%26c.mp4"' in page


def test_url_mode_without_a_remote_url_says_why(result: GenerationResult) -> None:
    demo = demo_result(result, "http://127.0.0.1:8765/cdn/v.mp4")
    source = display.video_source(demo, "url")
    assert source.mode == "file" and not source.remote
    assert "no remote URL" in source.note
    detect.set_frontend("vscode")
    assert display.video_source(demo, "url").url.startswith("data:video/mp4;base64,")


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
