"""The gateway's own SDK (``aimlapi-sdk-python``, a fork of openai-python that nobody here wrote)
generates a video against the emulator: a second client that agrees with the emulator and with
this package's client about the same generation.

The SDK's ``videos.generate_with_polling`` has no image argument; the first frame goes through
``extra_body``, as a data URI (the universal endpoint's ``image_url`` is ``format: uri``).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from emulated import client_for
from owned import image

from kling_notebook.emulator import Emulator
from kling_notebook.store.mp4 import require_mp4

MODEL = "klingai/v2.1-master-image-to-video"
FRAME = "data:image/jpeg;base64," + base64.b64encode(image("mushroom.jpg")).decode()


def sdk(emulator: Emulator) -> Any:
    """The SDK as its users configure it: the base URL ends in ``/v1``; no retries, so every
    request it makes is one the emulator answered. Imported here: its import takes a second,
    which every test worker would pay at collection."""
    from aimlapi import AIMLAPI

    return AIMLAPI(api_key=emulator.api_key, base_url=f"{emulator.base_url}/v1", max_retries=0)


@pytest.mark.parametrize(
    "emulator",
    [{}, {"replies": "id_numeric"}, {"replies": "id_nanoid"}, {"replies": "url_query"}],
    indirect=True, ids=["schema", "numeric id", "nanoid", "url with query"],
)
def test_the_gateway_sdk_generates_a_video_the_emulator_and_this_client_agree_on(
    emulator: Emulator, out_dir: Path
) -> None:
    answers: list[dict[str, Any]] = []
    video = sdk(emulator).videos.generate_with_polling(
        model=MODEL,
        prompt="a mushroom in the rain",
        duration=5,
        extra_body={"image_url": FRAME},
        poll_interval=0.05,
        poll_timeout=60,
        return_bytes=True,
        status_callback=lambda answer: answers.append(dict(answer)),
    )
    assert isinstance(video, bytes)
    saved = out_dir / "sdk.mp4"
    out_dir.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(video)
    require_mp4(saved)  # a whole MP4, as this package checks its own downloads

    created, final = answers[0], answers[-1]
    generation_id = created["id"]
    assert {answer["id"] for answer in answers} == {generation_id}
    assert created["status"] == "queued" and final["status"] == "completed"
    assert {answer["status"] for answer in answers} <= {"queued", "generating", "completed"}
    assert final["video"]["file_size"] == len(video)

    # The emulator's own view: one create, the SDK's fields, finished from an inline image.
    summary = emulator.generations()[generation_id]
    assert summary["status"] == "completed" and summary["prompt"] == "a mushroom in the rain"
    assert summary["image"] == "inline" and summary["duration"] == 5
    assert sum(emulator.stats()["requests"]["POST /v2/video/generations"].values()) == 1

    # This package's client reads and saves the same generation: the same answer, the same bytes.
    async def ours() -> tuple[Any, bytes]:
        async with client_for(emulator, out_dir) as client:
            seen = await client.get(generation_id)
            path = await client.download(seen, out_dir / "ours.mp4")
            return seen, path.read_bytes()

    seen, bytes_here = asyncio.run(ours())
    assert seen.status == "completed" and seen.video_url == final["video"]["url"]
    assert seen.file_size == len(video) and bytes_here == video


def test_the_sdk_gets_the_gateways_400_for_a_bad_body(emulator: Emulator) -> None:
    """Refusals reach the SDK as its own typed error, with the gateway's message."""
    from aimlapi import BadRequestError

    with pytest.raises(BadRequestError, match="Body validation error"):
        sdk(emulator).videos.generate_with_polling(
            model=MODEL, prompt="no image", extra_body={"image_url": "not an image"},
            poll_interval=0.05, poll_timeout=10,
        )
    assert emulator.stats()["created"] == []
