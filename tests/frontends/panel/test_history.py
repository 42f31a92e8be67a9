"""History in the panel: the gallery plays through an Output widget (so JupyterLab rewrites the
file path), Re-run loads a past request into the panel, and the section is built only when opened."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import ipywidgets as widgets

from kling_notebook import AsyncKlingClient, GenerationRequest
from kling_notebook.frontends.display import relative_url
from kling_notebook.frontends.panel import DEMO_IMAGE, KlingPanel
from kling_notebook.frontends.panel._history import HistoryGallery
from kling_notebook.runtime.engine import run_blocking
from kling_notebook.store.journal import FILENAME

from .conftest import html_values


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


def test_rerun_from_the_gallery_changes_the_panels_controls(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client, prompt="take one", duration=10)
    panel.controls.negative.area.value = "blur"
    panel.controls.advanced.provider.value = "kling"
    panel.controls.advanced.camera.value = "down_back"
    job = panel.generate()
    assert job is not None
    job.result(timeout=60)
    panel.controls.prompt.area.value = "something else"
    panel.controls.negative.area.value = ""
    panel.controls.duration.value = 5
    panel.controls.advanced.provider.value = ""
    panel.controls.advanced.camera.value = ""
    panel.image.url.value = "ftp://elsewhere"
    assert panel.bar.button.disabled

    panel.history.selected_index = 0
    gallery = panel.history.gallery
    assert gallery is not None
    (card,) = gallery.cards
    card.rerun.click()
    controls = panel.controls
    assert (controls.prompt.area.value, controls.negative.area.value) == ("take one", "blur")
    assert controls.duration.value == 10
    assert (controls.advanced.provider.value, controls.advanced.camera.value) == ("kling", "down_back")
    assert panel.image.source is not None and panel.image.source.code == "DEMO_IMAGE"
    assert not panel.bar.button.disabled
    assert "Loaded into the panel" in panel.history.notice.value
    gallery.wait_thumbnails(timeout=30)


def test_rerun_of_uploaded_bytes_asks_for_the_image_again(
    demo_client: AsyncKlingClient, images: dict[str, bytes]
) -> None:
    """The journal keeps no image bytes: in a panel Re-run still loads the rest; a gallery on its
    own keeps its Re-run off, as before."""
    panel = KlingPanel(demo_client, prompt="uploaded")
    data = images["good.jpg"]
    panel.image.upload.value = ({"name": "me.jpg", "type": "image/jpeg", "size": len(data),
                                 "content": memoryview(data), "last_modified": datetime.now(timezone.utc)},)
    job = panel.generate()
    assert job is not None
    job.result(timeout=60)
    panel.controls.prompt.area.value = ""
    assert demo_client.journal is not None
    alone = HistoryGallery(demo_client.journal)
    assert alone.cards[0].rerun.disabled  # a gallery on its own: off, as before
    alone.wait_thumbnails(timeout=30)

    panel.history.selected_index = 0
    assert panel.history.gallery is not None
    (card,) = panel.history.gallery.cards
    assert not card.rerun.disabled and "chosen again" in card.rerun.tooltip
    card.rerun.click()
    assert panel.controls.prompt.area.value == "uploaded"
    assert panel.image.source is None and "must be chosen again" in panel.image.status.value
    assert panel.bar.button.disabled
    panel.history.gallery.wait_thumbnails(timeout=30)


def test_history_is_built_only_when_first_opened(demo_client: AsyncKlingClient) -> None:
    panel = KlingPanel(demo_client)
    section = panel.history
    assert section in panel.children and section.selected_index is None
    assert section.gallery is None and section.body.children == ()
    section.selected_index = 0
    assert section.gallery is None and "No generations recorded yet" in section.notice.value
    assert not (demo_client.out_dir / FILENAME).exists(), "looking at history must not create a journal"

    run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt="first")))
    section.refresh_button.click()
    gallery = section.gallery
    assert gallery is not None and [c.item.prompt for c in gallery.cards] == ["first"]
    section.selected_index = None
    run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt="second")))
    assert [c.item.prompt for c in gallery.cards] == ["first"]  # closed: nothing reloads
    section.selected_index = 0
    assert section.gallery is gallery, "reopening reuses the gallery"
    assert [c.item.prompt for c in gallery.cards] == ["second", "first"]
    gallery.wait_thumbnails(timeout=30)

    again = KlingPanel(demo_client)  # a journal exists now: still nothing built before opening
    assert again.history.gallery is None and again.history.body.children == ()


def test_a_panel_with_history_open_stays_escaped(demo_client: AsyncKlingClient) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    run_blocking(demo_client.generate(GenerationRequest(image=DEMO_IMAGE, prompt=hostile)))
    panel = KlingPanel(demo_client)
    panel.history.selected_index = 0
    assert panel.history.gallery is not None
    panel.history.gallery.cards[0].play.click()
    panel.history.gallery.cards[0].rerun.click()
    shown = "\n".join(html_values(panel))
    assert "<script>" not in shown and "<img src=x" not in shown and "&lt;script&gt;" in shown
    panel.history.gallery.wait_thumbnails(timeout=30)
