"""Every model of the family over the emulator: what the domain builds for a model, the emulator
(which follows each published schema) takes whole, ignoring nothing; what it refuses never leaves
the client; estimates follow the gateway's live price, read once and revalidated by ETag."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulated import posts

from kling_notebook import AsyncKlingClient, GenerationRequest, errors
from kling_notebook.domain.models import DEFAULT_MODEL, FIELDS, MODELS
from kling_notebook.emulator import Emulator

MODELS_ROUTE = "GET /v1/models"


def end_frame() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 560), (220, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def everything(model: str, end: bytes) -> dict[str, Any]:
    """A request with every field ``model`` takes that can go together."""
    entry = MODELS[model]
    values: dict[str, Any] = {
        "prompt": "a slow push in",
        "negative_prompt": "blur",
        "cfg_scale": 0.5,
        "provider": "auto",
        "end_image": end,
        "generate_audio": False,
        "elements": [{"reference_image_urls": ["https://images.test/ref.png"]}],
        "shot_type": entry.shot_types[0] if entry.shot_types else None,
    }
    if entry.multi_prompt and not entry.prompt_required:
        values.pop("prompt")
        values["multi_prompt"] = ["a wave", "a bow"]
    if not entry.end_frame and "camera_control" in entry.takes:
        values["camera_control"] = {"type": "down_back"}
    return {name: value for name, value in values.items() if name in entry.takes and value is not None}


@pytest.mark.filterwarnings("ignore::kling_notebook.IgnoredFieldWarning")  # v2.1 master's notes
@pytest.mark.parametrize("model", sorted(MODELS))
async def test_the_emulator_takes_what_the_domain_builds_for_each_model(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient],
    image: Path, model: str,
) -> None:  # fmt: skip
    emu = make_emulator()
    fields = everything(model, end_frame())
    async with make_client(emu) as client:
        generation = await client.submit(image=image, model=model, duration=MODELS[model].durations[-1], **fields)
    summary = emu.generations()[generation.id]
    assert summary["model"] == model and summary["ignored_fields"] == []
    assert summary["end_frame"] == ("end_image" in fields)
    assert summary["duration"] == MODELS[model].durations[-1]


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_a_field_the_model_does_not_take_sends_nothing(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient],
    image: Path, model: str,
) -> None:  # fmt: skip
    emu = make_emulator()
    foreign = next(name for name in ("end_image", "generate_audio", "camera_control", "provider", "negative_prompt")
                   if name in FIELDS and name not in MODELS[model].takes)  # fmt: skip
    value = {"end_image": end_frame(), "generate_audio": True, "camera_control": {"type": "down_back"},
             "provider": "fal", "negative_prompt": "blur"}[foreign]  # fmt: skip
    async with make_client(emu) as client:
        with pytest.raises(errors.ValidationError) as caught:
            await client.submit(image=image, model=model, prompt="p", **{foreign: value})
    assert caught.value.field == foreign
    assert posts(emu) == {}


async def test_an_end_image_url_is_probed_like_the_image(
    emulator: Emulator, client: AsyncKlingClient, image: Path
) -> None:
    missing = f"{emulator.base_url}/nowhere/end.jpg"
    with pytest.raises(errors.ValidationError) as caught:
        await client.check(image=image, model="kling-video/v1/pro/image-to-video", end_image=missing)
    assert caught.value.field == "end_image"
    assert posts(emulator) == {}


async def test_estimates_follow_the_live_price_revalidated_by_etag(
    emulator: Emulator, make_client: Callable[..., AsyncKlingClient], image: Path
) -> None:
    v3 = GenerationRequest(image=image, model="klingai/video-v3-pro-image-to-video", duration=4)
    async with make_client(emulator, live_prices=True) as client:
        first = await client.estimate(v3)
        assert first.usd == pytest.approx(0.168 * 4) and "gateway" in first.label  # audio on
        assert (await client.estimate(v3.with_changes(generate_audio=False))).usd == pytest.approx(0.112 * 4)
        assert emulator.stats()["requests"][MODELS_ROUTE] == {"200": 1}  # cached
        client._live_prices.max_age = 0  # type: ignore[union-attr]  # revalidate every time
        await client.estimate(v3)
        assert emulator.stats()["requests"][MODELS_ROUTE] == {"200": 1, "304": 1}
        emulator.set_price(v3.model, 0.2, generate_audio=True)
        assert (await client.estimate(v3)).usd == pytest.approx(0.8)
        prepared = await client.check(v3)
        assert prepared.estimate.usd == pytest.approx(0.8)
    async with make_client(emulator) as plain:  # without live prices: the built-in table, labelled
        table = await plain.estimate(v3)
    assert table.usd == pytest.approx(0.168 * 4) and table.label == "built-in estimate"


async def test_a_price_that_cannot_be_read_falls_back_to_the_table(gateway, fake_client, jpeg) -> None:
    gateway.get(503, {"data": [{"id": DEFAULT_MODEL, "pricing": {"kind": "variable"}}]})
    request = GenerationRequest(image=jpeg)
    async with fake_client(live_prices=True) as client:
        client._live_prices.max_age = 0  # type: ignore[union-attr]
        for _ in range(2):  # an error, then a price that cannot be quoted ahead
            estimate = await client.estimate(request)
            assert estimate.usd == 1.40 and "fal.ai" in estimate.label
    read = [r for r in gateway.requests if r.url.path == "/v1/models"]
    assert len(read) == 2 and all("authorization" not in r.headers for r in read)  # no key needed
    assert read[0].url.params["id"] == DEFAULT_MODEL and read[0].url.params["include"] == "pricing"
