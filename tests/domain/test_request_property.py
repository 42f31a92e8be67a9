"""Property: whatever values the request fields get, GenerationRequest either accepts them, and the
payload it builds then satisfies the published POST schema (universal endpoint), or rejects them
with a ValidationError. It never raises anything else."""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from owned import schema
from thorough import examples

from kling_notebook import GenerationRequest, IgnoredFieldWarning, errors
from kling_notebook.domain.request import CAMERA_AXES, CAMERA_TYPES

SPEC = schema("universal-endpoint.openapi.json")
POST_SCHEMA = SPEC["paths"]["/v2/video/generations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
VALIDATOR = OAS30Validator(POST_SCHEMA, format_checker=oas30_format_checker)
URL = "https://images.test/frame.jpg"

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
numbers = st.one_of(st.integers(-15, 15), st.floats(-12, 12), junk)
texts = st.one_of(st.none(), st.text(max_size=40), st.text(min_size=2495, max_size=2505, alphabet="ab"), junk)
durations = st.one_of(st.sampled_from([5, 10, "5", "10", 7, "7", True, 5.0, 10.5, " 5"]), junk)
axes = st.dictionaries(st.one_of(st.sampled_from(CAMERA_AXES), st.text(max_size=5)), numbers, max_size=3)
cameras = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={"type": st.one_of(st.sampled_from(CAMERA_TYPES), junk), "config": st.one_of(axes, junk)},
    ),
    junk,
)
points = st.one_of(
    st.fixed_dictionaries({"x": st.integers(-999, 999), "y": st.integers(-999, 999)}),
    st.tuples(st.integers(0, 99), st.integers(0, 99)),
    st.fixed_dictionaries({}, optional={"x": numbers, "y": numbers}),
    junk,
)
masks = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {"mask": st.one_of(st.just("https://images.test/mask.png"), junk),
                 "trajectories": st.one_of(st.lists(points, min_size=0, max_size=80), junk)},
            ),
            junk,
        ),
        max_size=8,
    ),
    junk,
)
providers = st.one_of(st.sampled_from(["auto", "kling", "klingai", "fal", "FAL", "Kling", "replicate"]), junk)
static_masks = st.one_of(
    st.none(),
    st.just("https://images.test/static.png"),
    st.text(max_size=12).map(lambda tail: "https://images.test/" + tail),
    st.just("iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"),
    junk,
)
encodings = st.one_of(st.sampled_from(["raw", "data_uri"]), junk)

fields = st.fixed_dictionaries(
    {},
    optional={
        "prompt": texts,
        "negative_prompt": texts,
        "duration": durations,
        "cfg_scale": numbers,
        "camera_control": cameras,
        "static_mask": static_masks,
        "dynamic_masks": masks,
        "provider": providers,
        "image_encoding": encodings,
    },
)


def build(values: dict[str, Any]) -> GenerationRequest | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)
        try:
            return GenerationRequest(image=URL, **values)
        except errors.ValidationError as exc:
            assert exc.field and exc.limit
            return None


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields)
def test_any_field_values_are_accepted_valid_or_rejected_cleanly(values):
    request = build(values)
    if request is None:
        return
    payload = request.to_payload(URL)
    VALIDATOR.validate(payload)  # raises if the payload breaks the published schema
    assert payload["duration"] in (5, 10)
    assert len(payload.get("prompt") or "") <= 2500
    camera = payload.get("camera_control")
    if camera and camera["type"] == "simple":
        assert sum(1 for v in camera["config"].values() if v != 0) == 1
    if camera:
        assert "static_mask" not in payload and "dynamic_masks" not in payload
    if "provider" in payload:
        assert payload["provider"] in ("auto", "kling", "klingai", "fal")


def test_the_schema_validator_is_strict_enough_to_matter():
    """The property above would prove nothing if the validator accepted anything."""
    bad = [
        {"model": "klingai/v2.1-master-image-to-video", "image_url": URL, "duration": 7},
        {"model": "klingai/v2.1-master-image-to-video", "image_url": URL, "cfg_scale": 2},
        {"model": "other", "image_url": URL},
        {"model": "klingai/v2.1-master-image-to-video"},
        {"model": "klingai/v2.1-master-image-to-video", "image_url": URL,
         "dynamic_masks": [{"mask": "m", "trajectories": [{"x": 1, "y": 1}]}]},
    ]
    for payload in bad:
        assert not VALIDATOR.is_valid(payload), payload
    assert VALIDATOR.is_valid({"model": "klingai/v2.1-master-image-to-video", "image_url": URL, "duration": 10})


images = st.one_of(
    junk,
    st.binary(max_size=64),
    st.binary(max_size=64).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),
    st.binary(max_size=64).map(lambda tail: b"\xff\xd8\xff" + tail),
    st.binary(max_size=64).map(lambda tail: b"RIFF\x00\x00\x00\x00WEBP" + tail),
    st.text(max_size=30),
    st.text(max_size=30).map(lambda tail: "https://images.test/" + tail),
    st.sampled_from(["file:///nonexistent.png", "ftp://x/y.png", "C:\\\\pics\\\\a.png", "~/a.png", "data:image/png;base64,AAAA"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(images, encodings)
def test_any_image_value_is_prepared_or_rejected_cleanly(image, encoding):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)
        try:
            request = GenerationRequest(image=image, image_encoding=encoding)
            prepared = request.prepare()
        except errors.ValidationError as exc:
            assert exc.field and exc.limit
            return
    assert isinstance(prepared.api_value, str) and prepared.api_value
    assert prepared.is_url or prepared.info is not None
