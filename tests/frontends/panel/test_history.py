"""History: the standalone gallery plays through an Output widget (so JupyterLab rewrites the
file path); in the panel, a page is sent only when the view asks (never widget state), Re-run
loads a past request into the panel, and credits are labelled simulated in demo mode."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import ipywidgets as widgets
import pytest

from kling_notebook import AsyncKlingClient, GenerationRequest
from kling_notebook.frontends.display import relative_url
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.frontends.panel import _panel as panel_module
from kling_notebook.frontends.panel._history import HistoryGallery
from kling_notebook.frontends.panel._history_page import generations_text, history_page
from kling_notebook.runtime.engine import run_blocking
from kling_notebook.store.journal import FILENAME

from .conftest import Front


def page(front: Front, number: int = 0) -> tuple[dict, list[bytes]]:
    """Open History (or turn to page ``number``): the page the panel sends back."""
    front.send("history", page=number)
    return front.replies_of("history")[-1]


def tree(root: widgets.Widget) -> Iterator[widgets.Widget]:
    yield root
    for child in getattr(root, "children", ()):
        yield from tree(child)


def test_play_puts_the_mimebundle_into_an_output_widget(demo_client: AsyncKlingClient) -> None:
    result = run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt="play <me>")))
    assert demo_client.journal is not None
    gallery = HistoryGallery(demo_client.journal)
    (card,) = gallery.cards
    card.play.click()
    outputs = [w for w in tree(gallery.player) if isinstance(w, widgets.Output)]
    assert len(outputs) == 1, "the player is one Output widget"
    (shown,) = outputs[0].outputs
    assert shown["output_type"] == "display_data"
    assert set(shown["data"]) == {"text/html", "text/plain"}
    src = relative_url(result.path)
    assert not src.startswith("/") and f'<video controls preload="metadata" playsinline src="{src}"' in shown["data"]["text/html"]
    assert "play &lt;me&gt;" in shown["data"]["text/html"]
    assert str(result.path) in shown["data"]["text/plain"]
    raw = [w.value for w in tree(gallery) if isinstance(w, widgets.HTML) and "<video" in w.value]
    assert raw == [], "no video HTML inside an HTML widget: JupyterLab would not rewrite its path"
    (link,) = card.link.outputs  # the file link goes the same way
    assert f'href="{src}"' in link["data"]["text/html"]
    gallery.wait_thumbnails(timeout=30)


def test_rerun_from_history_changes_the_panels_controls(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client, prompt="take one", duration=10))
    for field, value in (("negative_prompt", "blur"), ("provider", "kling"), ("camera", "down_back")):
        front.set(field, value)
    job = front.panel.generate()
    assert job is not None
    job.result(timeout=60)
    for field, value in (("prompt", "something else"), ("negative_prompt", ""), ("duration", 5),
                         ("provider", ""), ("camera", "")):
        front.set(field, value)
    front.send("image_url", url="ftp://elsewhere")
    assert not front.enabled

    message, _ = page(front)
    (item,) = message["items"]
    assert item["rerun"] and item["rerun_note"] == ""
    front.send("rerun", row=item["row"])
    values = front.panel.controls["values"]
    assert (values["prompt"], values["negative_prompt"], values["duration"]) == ("take one", "blur", 10)
    assert (values["provider"], values["camera"]) == ("kling", "down_back")
    assert front.panel.picker.source is not None and front.panel.picker.source.code == "DEMO_IMAGE"
    assert front.enabled
    assert "Loaded into the panel" in front.replies_of("rerun")[-1][0]["text"]


def test_rerun_of_uploaded_bytes_asks_for_the_image_again(
    demo_client: AsyncKlingClient, images: dict[str, bytes]
) -> None:
    """The journal keeps no image bytes: in a panel Re-run still loads the rest; a gallery on its
    own keeps its Re-run off, as before."""
    front = Front(KlingPanel(demo_client, prompt="uploaded"))
    front.upload("me.jpg", images["good.jpg"])
    job = front.panel.generate()
    assert job is not None
    job.result(timeout=60)
    front.set("prompt", "")
    assert demo_client.journal is not None
    alone = HistoryGallery(demo_client.journal)
    assert alone.cards[0].rerun.disabled  # a gallery on its own: off, as before
    alone.wait_thumbnails(timeout=30)

    (item,) = page(front)[0]["items"]
    assert item["rerun"] and "chosen again" in item["rerun_note"]
    front.send("rerun", row=item["row"])
    assert front.panel.controls["values"]["prompt"] == "uploaded"
    assert front.panel.picker.source is None and "must be chosen again" in front.image_status
    assert not front.enabled


def test_history_is_sent_only_when_asked_and_never_kept_in_state(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    message, buffers = page(front)
    assert message["items"] == [] and "No generations recorded yet" in message["header"] and buffers == []
    assert not (demo_client.out_dir / FILENAME).exists(), "looking at history must not create a journal"

    run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt="first")))
    message, buffers = page(front)
    assert [item["prompt"] for item in message["items"]] == ["first"]
    assert message["header"] == "1 generation \u00b7 page 1 of 1"
    (item,) = message["items"]
    assert item["thumb"] == 0 and buffers[0][:2] == b"\xff\xd8"  # the first frame, as a JPEG buffer
    assert "simulated" in item["facts"] and "credits" in item["facts"]
    front.send("video", token=item["video"])  # Play: the same token the view plays rows with
    assert front.replies_of("video")[0][1]
    run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt="second")))
    message, _ = page(front)
    assert [item["prompt"] for item in message["items"]] == ["second", "first"]
    assert message["header"].startswith("2 generations")
    state = json.dumps(front.panel.get_state())
    assert "first" not in state and "base64" not in state.replace(front.panel.image["preview"], "")


def test_pages_turn_and_stay_in_range(demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt=f"take {n}")))
    monkeypatch.setattr(panel_module, "history_page", functools.partial(history_page, page_size=2))
    front = Front(KlingPanel(demo_client))
    first, _ = page(front, 0)
    last, _ = page(front, 99)
    odd, _ = page(front, "x")  # not a number: the first page
    assert (first["pages"], first["page"], len(first["items"])) == (2, 0, 2)
    assert (last["page"], [item["prompt"] for item in last["items"]]) == (1, ["take 0"])
    assert odd["page"] == 0


def test_generations_are_counted_in_words() -> None:
    assert [generations_text(n) for n in (0, 1, 2)] == ["0 generations", "1 generation", "2 generations"]


def test_a_panel_with_history_open_stays_escaped(demo_client: AsyncKlingClient) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt=hostile)))
    front = Front(KlingPanel(demo_client))
    (item,) = page(front)[0]["items"]
    assert item["prompt"] == hostile  # plain text: the view sets it with textContent
    front.send("rerun", row=item["row"])
    shown = front.shown()
    assert "<script>" not in shown and "<img src=x" not in shown and "&lt;script&gt;" in shown
