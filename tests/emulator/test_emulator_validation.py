"""Auth and body validation: what the gateway refuses, it refuses before creating anything."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from thorough import examples

from kling_notebook.emulator import Emulator
from kling_notebook.emulator._validation import BodyInvalid, validate

from ._support import MODEL, PATHS, check_schema, error_fields

DROP = object()  # a field to leave out
TINY = base64.b64encode(b"not really an image").decode()  # valid base64: checked later, by the job
TINY_URI = f"data:image/png;base64,{TINY}"  # the universal endpoint's image fields are format: uri


def tiny(flavor: str) -> str:
    """An inline image as each endpoint's schema takes it."""
    return TINY_URI if flavor == "universal" else TINY


def points(count: int) -> list[dict[str, int]]:
    return [{"x": i, "y": i} for i in range(count)]


@pytest.mark.parametrize("flavor", ["universal", "legacy"])
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key", "Basic {key}", "Bearer", "{key}"]
)
async def test_missing_or_wrong_keys_get_401(
    emulator: Emulator, flavor: str, method: str, authorization: str | None
) -> None:
    headers = (
        {}
        if authorization is None
        else {"Authorization": authorization.format(key=emulator.api_key)}
    )
    async with httpx.AsyncClient(base_url=emulator.base_url, headers=headers) as http:
        if method == "POST":
            response = await http.post(
                PATHS[flavor], json={"model": MODEL, "image_url": tiny(flavor)}
            )
        else:
            response = await http.get(PATHS[flavor], params={"generation_id": "x"})
    assert response.status_code == 401
    error_fields(response.json(), 401)
    assert response.json()["path"] == PATHS[flavor]
    assert emulator.api_key not in response.text
    assert emulator.stats()["created"] == []


async def test_a_chosen_key_is_the_one_accepted(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(api_key="my-own-key")
    assert emu.api_key == "my-own-key"
    async with httpx.AsyncClient(base_url=emu.base_url) as http:
        body = {"model": MODEL, "image_url": TINY_URI}
        ok = await http.post(
            PATHS["universal"], json=body, headers={"Authorization": "bearer my-own-key"}
        )
        assert ok.status_code == 200
    default = make_emulator()
    assert default.api_key.startswith("emu-") and len(default.api_key) > 20
    assert default.api_key != make_emulator().api_key


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("universal", {"model": DROP}, "model"),
    ("universal", {"model": "klingai/v2.1-master-text-to-video"}, "model"),
    ("legacy", {"image_url": DROP}, "image_url"),
    ("universal", {"image_url": 123}, "image_url"),
    ("universal", {"image_url": "a picture of a cat"}, "image_url"),
    ("universal", {"image_url": "ftp://example.com/x.jpg"}, "image_url"),
    ("universal", {"image_url": "data:image/png;base64,@@@"}, "image_url"),
    ("universal", {"image_url": TINY}, "image_url"),  # bare base64 is not a uri
    ("universal", {"image_url": f"data:text/plain;base64,{TINY}"}, "image_url"),
    ("universal", {"image_url": f"data:;base64,{TINY}"}, "image_url"),
    ("universal", {"static_mask": TINY}, "static_mask"),
    ("universal", {"static_mask": "a mask"}, "static_mask"),
    ("universal", {"prompt": "x" * 2501}, "prompt"),
    ("legacy", {"negative_prompt": "x" * 2501}, "negative_prompt"),
    ("universal", {"prompt": None}, "prompt"),
    ("universal", {"duration": 7}, "duration"),
    ("legacy", {"duration": "7"}, "duration"),
    ("universal", {"duration": True}, "duration"),
    ("universal", {"cfg_scale": 1.5}, "cfg_scale"),
    ("legacy", {"cfg_scale": "0.5"}, "cfg_scale"),
    ("universal", {"camera_control": {"type": "orbit"}}, "camera_control.type"),
    ("universal", {"camera_control": {"config": {"zoom": 1, "pan": 2}}}, "camera_control.config"),
    ("universal", {"camera_control": "zoom"}, "camera_control"),
    ("legacy", {"camera_control": {"type": "simple", "config": {"zoom": 2, "pan": 1}}},
     "camera_control.config"),
    ("universal", {"camera_control": {"type": "simple", "config": {}}}, "camera_control.config"),
    ("universal", {"camera_control": {"type": "simple", "config": {"roll": 11}}},
     "camera_control.config.roll"),
    ("legacy", {"camera_control": {"type": "down_back", "config": {"zoom": 3}}},
     "camera_control.config"),
    ("universal", {"dynamic_masks": [{"mask": "m", "trajectories": points(2)}] * 7},
     "dynamic_masks"),
    ("universal", {"dynamic_masks": [{"mask": "m", "trajectories": points(1)}]},
     "dynamic_masks.0.trajectories"),
    ("legacy", {"dynamic_masks": [{"mask": "m", "trajectories": points(78)}]},
     "dynamic_masks.0.trajectories"),
    ("universal", {"dynamic_masks": [{"mask": "m", "trajectories": [{"x": 1.5, "y": 0}] * 2}]},
     "dynamic_masks.0.trajectories"),
    ("universal", {"dynamic_masks": [{"trajectories": points(2)}]}, "dynamic_masks.0.mask"),
    ("universal", {"provider": "replicate"}, "provider"),
    ("legacy", {"type": "text-to-video"}, "type"),
    ("legacy", {"external_task_id": 5}, "external_task_id"),
    ("universal", {"static_mask": 5}, "static_mask"),
]  # fmt: skip


@pytest.mark.parametrize(("flavor", "change", "path"), INVALID)
async def test_invalid_bodies_get_400_and_create_nothing(
    emulator: Emulator, http: httpx.AsyncClient, flavor: str, change: dict[str, Any], path: str
) -> None:
    body = {"model": MODEL, "image_url": tiny(flavor), **change}
    body = {key: value for key, value in body.items() if value is not DROP}
    response = await http.post(PATHS[flavor], json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    error_fields(answer, 400)
    assert answer["message"] == "Body validation error"
    issue = next(issue for issue in answer["errors"] if issue["path"] == path)
    assert issue["message"] == f"Expected {issue['expected']}, received {issue['received']}"
    assert emulator.stats()["created"] == [] and emulator.generations() == {}


async def test_bare_base64_on_the_universal_endpoint_names_the_field(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(PATHS["universal"], json={"model": MODEL, "image_url": TINY})
    assert response.status_code == 400
    error_fields(response.json(), 400)
    assert response.json()["message"] == "Body validation error"
    (issue,) = response.json()["errors"]
    assert issue["path"] == "image_url" and issue["expected"].startswith("uri")
    assert "data:image/" in issue["expected"] and "data:image/" in issue["received"]
    assert issue["message"] == f"Expected {issue['expected']}, received {issue['received']}"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
async def test_bodies_that_are_not_json_objects_get_400(
    emulator: Emulator, http: httpx.AsyncClient, raw: bytes
) -> None:
    response = await http.post(PATHS["legacy"], content=raw)
    assert response.status_code == 400
    assert response.json()["message"] == "Body validation error"
    assert emulator.stats()["created"] == []


VALID: list[tuple[str, dict[str, Any]]] = [
    ("universal", {"duration": 10}),
    ("legacy", {"duration": "10"}),
    ("universal", {"duration": 5.0}),
    ("universal", {"image_url": f"data:image/jpeg;base64,{TINY}"}),
    ("legacy", {"image_url": TINY[:8] + "\n" + TINY[8:]}),
    ("legacy", {"image_url": TINY, "static_mask": "a mask"}),  # plain strings on the legacy pair
    ("legacy", {"image_url": f"data:image/png;base64,{TINY}"}),
    ("universal", {"static_mask": f"data:image/png;base64,{TINY}"}),
    ("universal", {"image_url": "https://example.com/cat.jpg?size=large"}),
    ("universal", {"provider": "FAL"}),
    ("universal", {"provider": "KlingAI"}),
    ("legacy", {"type": "image-to-video", "external_task_id": "order-17"}),
    ("legacy", {"provider": "not checked on the legacy pair"}),
    ("universal", {"camera_control": {"type": "simple", "config": {"zoom": -10, "pan": 0}}}),
    ("legacy", {"camera_control": {"type": "forward_up", "config": {}}}),
    ("universal", {"camera_control": {"type": "left_turn_forward"}}),
    ("universal", {"dynamic_masks": [{"mask": "m", "trajectories": points(77)}] * 6,
                   "static_mask": "https://example.com/mask.png"}),
    ("universal", {"cfg_scale": 0, "prompt": "x" * 2500, "negative_prompt": ""}),
    ("legacy", {"cfg_scale": 1}),
]  # fmt: skip


@pytest.mark.parametrize(("flavor", "change"), VALID)
async def test_valid_bodies_are_accepted(
    emulator: Emulator, http: httpx.AsyncClient, flavor: str, change: dict[str, Any]
) -> None:
    body = {"model": MODEL, "image_url": tiny(flavor), **change}
    response = await http.post(PATHS[flavor], json=body)
    assert response.status_code == 200, response.text
    created = check_schema(flavor, "post", response.json())
    assert emulator.stats()["created"] == [created["id"]]


async def test_status_queries_need_a_known_id(http: httpx.AsyncClient) -> None:
    for params in ({}, {"generation_id": ""}):
        missing = await http.get(PATHS["universal"], params=params)
        assert missing.status_code == 400
        error_fields(missing.json(), 400)
        assert missing.json()["errors"][0]["path"] == "generation_id"
    unknown = await http.get(PATHS["legacy"], params={"generation_id": "no-such:id/x"})
    assert unknown.status_code == 404
    error_fields(unknown.json(), 404)


async def test_unknown_routes_get_404(http: httpx.AsyncClient) -> None:
    for method, path in [("GET", "/v2/nothing"), ("PUT", PATHS["universal"]), ("DELETE", "/")]:
        response = await http.request(method, path)
        assert response.status_code == 404
        error_fields(response.json(), 404)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-20, 20) | st.floats(-20, 20) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    ["model", "image_url", "prompt", "duration", "cfg_scale", "camera_control", "dynamic_masks",
     "provider", "type", "external_task_id", "static_mask", "negative_prompt"]
)  # fmt: skip


@settings(max_examples=examples(300), deadline=None)
@given(
    body=st.dictionaries(FIELDS, JSON, max_size=6), flavor=st.sampled_from(["universal", "legacy"])
)
def test_validation_never_crashes(body: dict[str, Any], flavor: Any) -> None:
    """Whatever JSON arrives, the answer is a normalized request or a list of issues."""
    try:
        request = validate({"model": MODEL, "image_url": tiny(flavor), **body}, flavor)
    except BodyInvalid as invalid:
        assert invalid.issues and all(json.dumps(i.as_json()) for i in invalid.issues)
    else:
        assert request.duration in (5, 10)
