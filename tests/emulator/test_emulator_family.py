"""The Kling family: every image-to-video model the gateway lists, per its published schema."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from owned import model_schemas

from kling_notebook.emulator import Emulator

from ._support import PATHS, ManualClock, check_service, png

UNIVERSAL = PATHS["universal"]


SCHEMAS = model_schemas()
MODELS = sorted(SCHEMAS)


def check_model(model: str, body: Any) -> Any:
    validator = OAS30Validator(SCHEMAS[model]["response"], format_checker=oas30_format_checker)
    errors = [error.message for error in validator.iter_errors(body)]
    assert not errors, f"{model} reply breaks its schema: {errors} in {body}"
    return body


def uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


@pytest.fixture(scope="module")
def nowhere() -> Iterator[str]:
    """An image URL nobody serves: the generation fails at once, with no clip rendered (for
    tests of validation only)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{probe.getsockname()[1]}/image.png"


def minimal(model: str, image_url: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "image_url": image_url}
    if "prompt" in SCHEMAS[model]["required"]:
        body["prompt"] = "a slow push in"
    return body


def http_client(emu: Emulator) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    return httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=30)


def test_the_schemas_name_the_whole_family() -> None:
    assert len(MODELS) == 19


async def test_every_model_creates_with_its_minimal_body(
    make_emulator: Callable[..., Emulator], nowhere: str
) -> None:
    emu = make_emulator()
    suffixes = set()
    async with http_client(emu) as http:
        for model in MODELS:
            response = await http.post(UNIVERSAL, json=minimal(model, nowhere))
            assert response.status_code == 200, (model, response.text)
            created = check_model(model, response.json())
            _, suffix = created["id"].split(":")
            assert suffix.startswith("kling-video/") and suffix.endswith("/image-to-video")
            suffixes.add(suffix)
            assert emu.generations()[created["id"]]["model"] == model
        listed = await http.get("/v1/models", params={"include": "pricing"})
    assert len(suffixes) == len(MODELS)  # each model's ids say which model made them
    assert "kling-video/v2.1/master/image-to-video" in suffixes
    assert {entry["id"] for entry in check_service("models", listed.json())["data"]} == set(MODELS)


@pytest.mark.parametrize("model", MODELS)
async def test_required_fields_durations_and_ignored_fields(
    make_emulator: Callable[..., Emulator], nowhere: str, model: str
) -> None:
    fields = SCHEMAS[model]["fields"]
    durations = fields["duration"]["enum"]
    emu = make_emulator()
    async with http_client(emu) as http:
        body = minimal(model, nowhere)
        without_prompt = {k: v for k, v in body.items() if k != "prompt"}
        refused = await http.post(UNIVERSAL, json=without_prompt)
        needs_prompt = "prompt" in SCHEMAS[model]["required"]
        assert refused.status_code == (400 if needs_prompt else 200), refused.text
        if needs_prompt:
            assert [i["path"] for i in refused.json()["errors"]] == ["prompt"]
        for duration in (*durations, max(durations) + 1, min(durations) - 1):
            response = await http.post(UNIVERSAL, json={**body, "duration": duration})
            assert response.status_code == (200 if duration in durations else 400), duration
        foreign = {"camera_control": {"type": "down_back"}, "generate_audio": False,
                   "tail_image_url": nowhere, "last_image_url": nowhere, "elements": [],
                   "cfg_scale": 0.5, "provider": "fal", "shot_type": "customize"}  # fmt: skip
        sent = {name: value for name, value in foreign.items() if name not in fields}
        kept = await http.post(UNIVERSAL, json={**body, **sent})
        assert kept.status_code == 200, kept.text
    assert emu.generations()[kept.json()["id"]]["ignored_fields"] == sorted(sent)


V3 = "klingai/video-v3-standard-image-to-video"
OMNI = "klingai/video-v3-omni-720p-image-to-video"
TURBO = "klingai/video-v3-turbo-pro-image-to-video"
V1 = "kling-video/v1/pro/image-to-video"

RULES: list[tuple[str, dict[str, Any], str | None]] = [
    (V3, {"prompt": "a", "multi_prompt": ["b", "c"]}, "multi_prompt"),
    (V3, {"multi_prompt": ["b", "c"]}, None),
    (V3, {"multi_prompt": [1]}, "multi_prompt.0"),
    (V3, {"shot_type": "intelligence"}, "shot_type"),
    (OMNI, {"shot_type": "intelligence"}, None),
    (V3, {"elements": [{"reference_image_urls": ["https://x/a.png"], "video_url": "https://x/v.mp4"}] * 2}, "elements"),
    (V3, {"elements": [{"reference_image_urls": []}]}, "elements.0.reference_image_urls"),
    (V3, {"elements": [{"reference_image_urls": ["https://x/a.png"], "frontal_image_url": "https://x/f.png"}]}, None),
    (V3, {"generate_audio": "yes"}, "generate_audio"),
    (OMNI, {"tail_image_url": "https://x/end.png"}, "tail_image_url"),  # audio is on by default
    (OMNI, {"tail_image_url": "https://x/end.png", "generate_audio": False}, None),
    (TURBO, {"multi_prompt": [{"prompt": "s", "duration": 2}] * 7}, "multi_prompt"),
    (TURBO, {"multi_prompt": [{"prompt": "s", "duration": 16}]}, "multi_prompt.0.duration"),
    (TURBO, {"multi_prompt": [{"duration": 2}]}, "multi_prompt.0.prompt"),
    (TURBO, {"multi_prompt": None, "prompt": "x" * 3072}, None),
    (TURBO, {"prompt": "x" * 3073}, "prompt"),
    (V1, {"tail_image_url": "https://x/end.png", "camera_control": {"type": "down_back"}}, "tail_image_url"),
    (V1, {"tail_image_url": "https://x/end.png", "dynamic_masks": [{"mask": "m", "trajectories": [{"x": 0, "y": 0}] * 2}]}, "tail_image_url"),
    (V1, {"tail_image_url": base64.b64encode(b"raw").decode()}, "tail_image_url"),
    ("klingai/video-o1-image-to-video", {"prompt": "p", "last_image_url": "ftp://x/end.png"}, "last_image_url"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "change", "path"), RULES)
async def test_per_model_rules(
    http: httpx.AsyncClient, nowhere: str, model: str, change: dict[str, Any], path: str | None
) -> None:
    response = await http.post(UNIVERSAL, json={"model": model, "image_url": nowhere, **change})
    if path is None:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Body validation error"
    assert path in [issue["path"] for issue in response.json()["errors"]]


async def test_the_legacy_pair_serves_v2_1_master_only(
    http: httpx.AsyncClient, nowhere: str
) -> None:
    response = await http.post(PATHS["legacy"], json={"model": V3, "image_url": nowhere})
    assert response.status_code == 400
    assert [issue["path"] for issue in response.json()["errors"]] == ["model"]


def frames(clip: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(clip)) as container:
        return [f.to_ndarray(format="rgb24").astype(float) for f in container.decode(video=0)]


def solid(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (500, 400), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("model", "field", "extra"),
    [
        (V1, "tail_image_url", {}),
        ("klingai/video-o1-image-to-video", "last_image_url", {"prompt": "p"}),
        (V3, "tail_image_url", {"generate_audio": False, "duration": 3}),
    ],
)
async def test_the_video_ends_on_the_end_frame(
    make_emulator: Callable[..., Emulator],
    image_server: Callable[[bytes], str],
    model: str,
    field: str,
    extra: dict[str, Any],
) -> None:
    emu = make_emulator()
    red = (220, 30, 30)
    body = {
        "model": model,
        "image_url": uri(png(600, 400)),
        field: image_server(solid(red)),
        **extra,
    }
    async with http_client(emu) as http:
        created = await http.post(UNIVERSAL, json=body)
        assert created.status_code == 200, created.text
        emu.complete_all_now()
        summary = emu.generations()[created.json()["id"]]
        assert summary["end_frame"] and summary["status"] == "completed", summary
        clip = frames((await http.get(summary["video_url"] or "")).content)
    top_left = [
        frame[: len(frame) // 2, : frame.shape[1] // 2].reshape(-1, 3).mean(axis=0)
        for frame in clip
    ]
    assert np.abs(top_left[-1] - red).max() < 12  # the last frame is the end image
    assert np.abs(top_left[0] - red).max() > 60  # the first is the start image
    assert np.abs(top_left[len(clip) // 2] - red).max() > 60  # the crossfade is at the end


async def test_audio_on_the_models_that_take_it(
    make_emulator: Callable[..., Emulator], mushroom_uri: str
) -> None:
    import av

    emu = make_emulator()
    model = "klingai/video-v2-6-pro-image-to-video"
    body = {"model": model, "image_url": mushroom_uri, "prompt": "wind"}
    async with http_client(emu) as http:
        loud = await http.post(UNIVERSAL, json=body)
        quiet = await http.post(UNIVERSAL, json={**body, "generate_audio": False})
        emu.complete_all_now()
        clips = {}
        for name, created in (("loud", loud), ("quiet", quiet)):
            url = emu.generations()[created.json()["id"]]["video_url"]
            clips[name] = (await http.get(url or "")).content
    assert (
        loud.json()["meta"]["usage"]["credits_used"],
        quiet.json()["meta"]["usage"]["credits_used"],
    ) == (1050, 525)
    for name, streams in (("loud", ["video", "audio"]), ("quiet", ["video"])):
        with av.open(io.BytesIO(clips[name])) as container:
            assert [s.type for s in container.streams] == streams
            if name == "loud":
                assert container.streams.audio[0].codec_context.name == "aac"


async def test_timings_and_prices_per_model(
    make_emulator: Callable[..., Emulator], nowhere: str
) -> None:
    clock = ManualClock()
    emu = make_emulator(clock=clock, job_seconds=None, time_scale=60)
    cases = [("klingai/v2.5-turbo/pro/image-to-video", 5, (60, 120), 0.07),
             (V3, 15, (360, 600), 0.126),  # audio on by default
             (TURBO, 3, (36, 72), 0.084),
             ("klingai/v2.1-master-image-to-video", 10, (660, 840), 0.28)]  # fmt: skip
    async with http_client(emu) as http:
        for model, duration, (low, high), per_second in cases:
            body = {**minimal(model, nowhere), "duration": duration}
            created = await http.post(UNIVERSAL, json=body)
            summary = emu.generations()[created.json()["id"]]
            assert low / 60 <= summary["ends_in"] <= high / 60, (model, summary["ends_in"])
            assert created.headers["x-aimlapi-usd-spent"] == f"{per_second * duration:g}"
        priced = await http.get("/v1/models", params={"id": V3, "include": "pricing"})
    (entry,) = priced.json()["data"]
    assert entry["pricing"]["kind"] == "variants" and entry["pricing"]["dimensions"] == [
        "generate_audio"
    ]
    assert [(v["generate_audio"], v["price"]) for v in entry["pricing"]["variants"]] == [
        (False, 0.084),
        (True, 0.126),
    ]


async def test_omni_usage_carries_usd_spent(
    make_emulator: Callable[..., Emulator], nowhere: str
) -> None:
    emu = make_emulator()
    async with http_client(emu) as http:
        created = await http.post(UNIVERSAL, json={"model": OMNI, "image_url": nowhere})
    assert check_model(OMNI, created.json())["meta"]["usage"] == {
        "credits_used": 945,
        "usd_spent": 0.63,
    }


async def test_the_catalogue_filters_by_capability(http: httpx.AsyncClient) -> None:
    ends = await http.get(
        "/v1/models", params={"capabilities": "end_frame", "include": "capabilities"}
    )
    ids = {entry["id"] for entry in ends.json()["data"]}
    expected = {
        model
        for model in MODELS
        if {"tail_image_url", "last_image_url"} & set(SCHEMAS[model]["fields"])
    }
    assert ids == expected
    audio = await http.get("/v1/models", params={"output_modalities": "audio"})
    assert {e["id"] for e in audio.json()["data"]} == {
        m for m in MODELS if "generate_audio" in SCHEMAS[m]["fields"]
    }
