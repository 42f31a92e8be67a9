"""Property, through the whole client path: for any field values and any image source,
``client.submit`` either raises ValidationError having sent no POST, or sends exactly one POST
whose body satisfies the published schema of the create call and carries the values asked for.
(The unit suite checks ``GenerationRequest`` alone; this goes through check, probe, encode, POST.)

The schema marks ``image_url`` as ``format: uri``: an inline image goes as a ``data:`` URI, which
is one, so the whole body is checked against the schema as sent (the ``uri`` format checked for
real, see ``test_the_schema_rejects_what_the_client_must_never_send``), and the image is decoded
back to the bytes given.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import warnings
from typing import Any

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from owned import schema
from thorough import examples

from kling_notebook import AsyncKlingClient, IgnoredFieldWarning, errors
from kling_notebook.domain.request import CAMERA_AXES, CAMERA_TYPES, PROVIDERS

from ._support import KEY, mock
from .test_bad_input import API, FILES, IMAGES, MASK, serve

POST_SCHEMA = schema("universal-endpoint.openapi.json")["paths"]["/v2/video/generations"]["post"][
    "requestBody"]["content"]["application/json"]["schema"]
VALIDATOR = OAS30Validator(POST_SCHEMA, format_checker=oas30_format_checker)

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-20, 20), st.floats(), st.text(max_size=6),
    st.binary(max_size=6), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
images = st.one_of(
    st.sampled_from([f"{IMAGES}{path}" for path in FILES] + [f"{IMAGES}/gone.jpg", "  "]),
    st.sampled_from(list(FILES.values())[:1] + [FILES["/tiny.jpg"], b"junk"]),
    anything,
)
axes = st.dictionaries(st.sampled_from(CAMERA_AXES), st.one_of(st.integers(-11, 11), anything),
                       max_size=2)
values = st.fixed_dictionaries(
    {"image": images},
    optional={
        "prompt": st.one_of(st.text(max_size=30), st.text(min_size=2499, max_size=2502), anything),
        "negative_prompt": st.one_of(st.text(max_size=30), anything),
        "duration": st.one_of(st.sampled_from([5, 10, "5", "10", 6, "x"]), anything),
        "cfg_scale": st.one_of(st.floats(-0.5, 1.5), anything),
        "camera_control": st.one_of(
            st.fixed_dictionaries({"type": st.sampled_from(CAMERA_TYPES)}, optional={"config": axes}),
            anything,
        ),
        "static_mask": st.one_of(st.just(MASK), anything),
        "dynamic_masks": st.one_of(
            st.lists(st.fixed_dictionaries({
                "mask": st.one_of(st.just(MASK), anything),
                "trajectories": st.lists(st.fixed_dictionaries(
                    {"x": st.integers(0, 999), "y": st.one_of(st.integers(0, 999), anything)}),
                    max_size=4),
            }), max_size=7),
            anything,
        ),
        "provider": st.one_of(st.sampled_from([*PROVIDERS, "FAL", "other"]), anything),
    },
)


async def submit(fields: dict[str, Any]) -> tuple[errors.ValidationError | None, list[Any]]:
    recorder = mock(serve)
    async with AsyncKlingClient(KEY, API, transport=recorder, journal=False) as client:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", IgnoredFieldWarning)
                await client.submit(**fields)
        except errors.ValidationError as error:
            return error, recorder.posts
    return None, recorder.posts


def check_image(sent: str, jpeg: Any) -> None:
    """Assert ``sent`` is ``image`` as the API takes it: the URL given, or a data URI of the bytes."""
    if isinstance(jpeg, str):
        assert sent == jpeg.strip()
        return
    header, comma, data = sent.partition(",")
    assert header.startswith("data:image/") and header.endswith(";base64") and comma
    assert base64.b64decode(data, validate=True) == jpeg


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_valid_or_rejected_before_sending(fields: dict[str, Any]) -> None:
    error, posts = asyncio.run(submit(fields))
    if error is not None:
        assert posts == [] and error.field and error.field in str(error)
        return
    assert len(posts) == 1
    body = json.loads(posts[0].content)
    check_image(body["image_url"], fields["image"])
    VALIDATOR.validate(body)
    assert body["duration"] == int(fields.get("duration", 5))
    for name in ("prompt", "negative_prompt", "static_mask"):
        assert body.get(name) == fields.get(name)
    if fields.get("cfg_scale") is not None:
        assert math.isclose(body["cfg_scale"], fields["cfg_scale"])


def test_the_schema_rejects_what_the_client_must_never_send() -> None:
    """The property would prove nothing with a validator that accepts anything."""
    good = {"model": "klingai/v2.1-master-image-to-video", "image_url": MASK, "duration": 5}
    assert VALIDATOR.is_valid(good)
    for bad in ({"duration": 7}, {"cfg_scale": 3}, {"model": "x"}, {"image_url": None},
                {"image_url": "/9j/4AAQSkZJRgABAQ"}):  # bare base64 is no uri
        assert not VALIDATOR.is_valid({**good, **bad})


def test_the_inputs_reach_both_outcomes() -> None:
    """Neither branch of the property is vacuous: some inputs are sent, some are refused."""
    sent = find(values, lambda fields: asyncio.run(submit(fields))[0] is None,
                settings=settings(database=None, max_examples=examples(500)))
    refused = find(values, lambda fields: asyncio.run(submit(fields))[0] is not None,
                   settings=settings(database=None, max_examples=examples(500)))
    assert asyncio.run(submit(sent))[1] and not asyncio.run(submit(refused))[1]
