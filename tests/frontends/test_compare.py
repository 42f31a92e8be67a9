"""Side by side over the emulator: a generation per model family, saved (ending on the end frame
where the model takes one), and the comparison grid: confirmed first, a player, the time taken
and the cost per model, every value escaped."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from emulated import posts

from kling_notebook import (
    AsyncKlingClient,
    ConfirmationRequiredError,
    GenerationRequest,
)
from kling_notebook.domain.models import MODELS
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.compare import compare_models_async

RED = (220, 30, 30)


def first_of_each_family() -> list[str]:
    seen: dict[str, str] = {}
    for model in MODELS.values():
        seen.setdefault(model.family, model.id)
    return list(seen.values())


def end_frame() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 560), RED).save(buffer, format="JPEG")
    return buffer.getvalue()


def last_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[-1].reshape(-1, 3).mean(axis=0)


async def test_a_generation_per_model_family(emulator: Emulator, client: AsyncKlingClient, image: Path) -> None:
    families = first_of_each_family()
    assert len(families) == len({m.family for m in MODELS.values()}) == 11
    requests = []
    for model in families:
        entry = MODELS[model]
        fields: dict = {"prompt": "a slow push in", "duration": entry.durations[0]}
        if entry.end_frame:
            fields["end_image"] = end_frame()
            if entry.audio:
                fields["generate_audio"] = False
        requests.append(GenerationRequest(image=image, model=model, **fields))
    batch = await client.batch(requests, confirm=True)
    assert batch.failures == [], [(f.request.model, f.error) for f in batch.failures]
    assert len(batch.results) == len(families)
    for item in batch:
        made = emulator.generations()[item.result.id]
        assert made["model"] == item.request.model and made["status"] == "completed"
        sidecar = item.result.sidecar.read_text()
        if item.request.model != "klingai/v2.1-master-image-to-video":
            assert item.request.model in sidecar
        if item.request.end_image is not None:
            assert made["end_frame"]
            assert np.abs(last_frame(item.result.path) - RED).max() < 16  # it ends on the end frame


async def test_the_comparison_is_confirmed_then_shown_as_a_grid(
    emulator: Emulator, make_client: Callable[..., AsyncKlingClient], image: Path
) -> None:
    models = ["klingai/v2.1-master-image-to-video", "kling-video/v1.6/pro/image-to-video",
              "klingai/video-v3-turbo-pro-image-to-video"]  # fmt: skip
    prompt = "<b>a wave</b>"
    async with make_client(emulator, live_prices=True) as client:
        with pytest.raises(ConfirmationRequiredError) as caught:
            await compare_models_async(client, image, prompt, models=models)
        assert caught.value.estimate.count == 3 and posts(emulator) == {}
        assert caught.value.estimate.usd == pytest.approx(1.40 + 0.095 * 5 + 0.084 * 5)
        comparison = await compare_models_async(client, image, prompt, models=models, confirm=True)
    assert [run.model for run in comparison] == models
    assert all(run.item.ok and run.seconds and run.seconds > 0 for run in comparison)
    grid = comparison._repr_mimebundle_()["text/html"]
    assert grid.count("<video") == 3 and "Time taken" in grid
    assert "estimated $1.40 (the gateway&#x27;s price (GET /v1/models))" in grid
    assert "credits used" in grid and "<b>a wave</b>" not in grid
    assert "Kling v1.6 Pro" in str(comparison) and "saved to" in str(comparison)


async def test_a_model_that_cannot_take_the_request_fails_the_comparison_before_sending(
    emulator: Emulator, client: AsyncKlingClient, image: Path
) -> None:
    from kling_notebook import errors

    with pytest.raises(errors.ValidationError, match="requires a prompt"):
        await compare_models_async(client, image, None, models=["klingai/video-o1-image-to-video"], confirm=True)
    assert posts(emulator) == {}


async def test_a_failed_model_shows_why_in_its_cell(
    make_emulator: Callable[..., Emulator], make_client: Callable[..., AsyncKlingClient], image: Path
) -> None:
    emu = make_emulator(faults="job:error=1")
    async with make_client(emu) as client:
        comparison = await compare_models_async(
            client, image, "p", models=["kling-video/v2.1/pro/image-to-video"], confirm=True
        )
    (run,) = comparison
    assert not run.item.ok and "failed" in run.outcome_text()
    assert "No video" in comparison.html() and "<video" not in comparison.html()
