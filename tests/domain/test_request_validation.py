"""GenerationRequest enforces every documented rule before any money is spent: each rejection is a
ValidationError naming the field and the limit, submit() sends nothing, and fields the model is
documented to ignore are allowed but warned about."""

from __future__ import annotations

import warnings

import pytest
from fakes import IMAGE_URL

from kling_notebook import (
    CameraControl,
    DynamicMask,
    GenerationRequest,
    IgnoredFieldWarning,
    errors,
)
from kling_notebook.domain.request import CAMERA_AXES, CAMERA_TYPES

URL = IMAGE_URL
MASK = "https://images.test/mask.png"


def mask(points: int = 2) -> dict:
    return {"mask": MASK, "trajectories": [{"x": i, "y": i * 2} for i in range(points)]}


def rejected(field: str, limit_words: str, **fields) -> errors.ValidationError:
    """Build a request that must fail, and check the error names field and limit."""
    fields.setdefault("image", URL)
    with pytest.raises(errors.ValidationError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)
        GenerationRequest(**fields)
    exc = caught.value
    assert exc.field == field, (exc.field, field)
    assert limit_words in exc.limit, (exc.limit, limit_words)
    assert field in str(exc) and limit_words in str(exc)
    assert "Nothing was sent" in str(exc)
    return exc


def accepted(**fields) -> GenerationRequest:
    fields.setdefault("image", URL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)
        return GenerationRequest(**fields)


# -- image ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image", [None, "", "   "])
def test_image_is_required(image):
    rejected("image", "an image is required", image=image)


# -- prompts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_prompts_at_most_2500_characters(field):
    assert getattr(accepted(**{field: "x" * 2500}), field) == "x" * 2500
    exc = rejected(field, "at most 2500 characters", **{field: "x" * 2501})
    assert "2501" in exc.limit
    assert len(str(exc)) < 400  # the given value is shortened


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_prompts_must_be_text(field):
    rejected(field, "must be text", **{field: 42})
    rejected(field, "NUL", **{field: "a\x00b"})
    assert getattr(accepted(**{field: None}), field) is None


# -- duration ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [(5, 5), (10, 10), ("5", 5), ("10", 10), (" 10 ", 10)])
def test_duration_accepts_5_and_10(given, expected):
    request = accepted(duration=given)
    assert request.duration == expected and type(request.duration) is int


@pytest.mark.parametrize("given", [7, "7", True, False, 0, -5, 5.5, "five", None, "", [5]])
def test_duration_rejects_anything_else(given):
    rejected("duration", "5 or 10", duration=given)


# -- cfg_scale --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
def test_cfg_scale_in_range(value):
    assert accepted(cfg_scale=value).cfg_scale == value


@pytest.mark.parametrize("value", [-0.01, 1.01, 5, -1])
def test_cfg_scale_out_of_range(value):
    rejected("cfg_scale", "between 0 and 1", cfg_scale=value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.5", True])
def test_cfg_scale_must_be_a_finite_number(value):
    rejected("cfg_scale", "finite number", cfg_scale=value)


# -- camera control -------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", CAMERA_AXES)
@pytest.mark.parametrize("value", [-10, -0.5, 3, 10])
def test_simple_camera_with_one_axis_in_range(axis, value):
    request = accepted(camera_control={"type": "simple", "config": {axis: value}})
    assert request.camera_control == CameraControl("simple", {axis: value})
    assert request.to_payload(URL)["camera_control"] == {"type": "simple", "config": {axis: value}}


def test_camera_type_must_be_in_the_enum():
    exc = rejected("camera_control.type", "one of simple", camera_control={"type": "orbit"})
    for kind in CAMERA_TYPES:
        assert kind in exc.limit


@pytest.mark.parametrize(
    "config",
    [{}, {"zoom": 0}, {"zoom": 1, "pan": 2}, {"zoom": 0, "pan": 0, "tilt": 0}],
)
def test_simple_camera_needs_exactly_one_non_zero_axis(config):
    rejected("camera_control.config", "exactly one non-zero axis", camera_control={"type": "simple", "config": config})


@pytest.mark.parametrize("value", [10.01, -11, 100])
def test_camera_axis_range(value):
    rejected("camera_control.config.zoom", "between -10 and 10", camera_control={"type": "simple", "config": {"zoom": value}})


def test_camera_axis_names_and_values_are_checked():
    rejected("camera_control.config.spin", "axes are horizontal", camera_control={"config": {"spin": 1}})
    rejected("camera_control.config.zoom", "finite number", camera_control={"config": {"zoom": "2"}})
    rejected("camera_control", "only 'type' and 'config'", camera_control={"type": "simple", "speed": 1})
    rejected("camera_control", "a CameraControl or a {type, config} mapping", camera_control="simple")


@pytest.mark.parametrize("config", ["zoom", [1, 2], 5, [("zoom", 1, 2)]])
def test_camera_config_must_be_a_mapping(config):
    rejected("camera_control.config", "mapping", camera_control={"type": "simple", "config": config})


@pytest.mark.parametrize("kind", [k for k in CAMERA_TYPES if k != "simple"])
def test_preset_camera_types_take_no_config(kind):
    assert accepted(camera_control={"type": kind}).to_payload(URL)["camera_control"] == {"type": kind}
    rejected("camera_control.config", "takes no config", camera_control={"type": kind, "config": {"zoom": 1}})


# -- masks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 6])
def test_up_to_six_dynamic_masks(count):
    request = accepted(dynamic_masks=[mask() for _ in range(count)])
    assert len(request.dynamic_masks or ()) == count
    assert request.to_payload(URL)["dynamic_masks"][0] == mask()


def test_seven_dynamic_masks_rejected():
    rejected("dynamic_masks", "at most 6 masks", dynamic_masks=[mask() for _ in range(7)])


@pytest.mark.parametrize("points", [2, 77])
def test_trajectory_points_within_limits(points):
    request = accepted(dynamic_masks=[mask(points)])
    assert len(request.to_payload(URL)["dynamic_masks"][0]["trajectories"]) == points


@pytest.mark.parametrize("points", [0, 1, 78])
def test_trajectory_points_outside_limits(points):
    rejected("dynamic_masks.trajectories", "between 2 and 77 points", dynamic_masks=[mask(points)])


@pytest.mark.parametrize(
    "trajectories",
    [
        [{"x": 1, "y": 2}, {"x": 1.5, "y": 2}],
        [{"x": 1, "y": 2}, {"x": True, "y": 2}],
        [{"x": 1, "y": 2}, {"x": 1}],
        [{"x": 1, "y": 2}, 7],
        [{"x": 1, "y": 2}, (1, 2, 3)],
        "xy",
    ],
)
def test_trajectory_points_are_integer_pairs(trajectories):
    rejected("dynamic_masks.trajectories", "", dynamic_masks=[{"mask": MASK, "trajectories": trajectories}])


def test_masks_need_an_image_and_a_list():
    rejected("dynamic_masks.mask", "image URL", dynamic_masks=[{"mask": "", "trajectories": [(1, 1), (2, 2)]}])
    rejected("dynamic_masks", "a list of masks", dynamic_masks="mask.png")
    rejected("dynamic_masks", "each mask is", dynamic_masks=[5])
    rejected("static_mask", "http(s) image URL", static_mask="")
    rejected("static_mask", "http(s) image URL", static_mask=3)
    rejected("static_mask", "http(s) image URL", static_mask="iVBORw0KGgoAAAANSUhEUg==")  # schema: uri
    rejected("static_mask", "http(s) image URL", static_mask="https://images.test/a mask.png")
    assert accepted(static_mask=MASK).to_payload(URL)["static_mask"] == MASK


def test_dynamic_mask_objects_and_tuples_are_accepted():
    request = accepted(dynamic_masks=[DynamicMask(MASK, [(1, 2), (3, 4)])])
    assert request.to_payload(URL)["dynamic_masks"] == [
        {"mask": MASK, "trajectories": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}
    ]


@pytest.mark.parametrize("masks", [{"static_mask": MASK}, {"dynamic_masks": [mask()]}])
def test_masks_and_camera_control_are_not_combined(masks):
    rejected(
        "camera_control",
        "masks and camera control cannot be combined",
        camera_control={"type": "simple", "config": {"zoom": 2}},
        **masks,
    )


# -- provider ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent"),
    [("auto", "auto"), ("kling", "kling"), ("klingai", "klingai"), ("fal", "fal"), ("FAL", "fal"), ("KlingAI", "klingai")],
)
def test_provider_is_case_insensitive(given, sent):
    assert accepted(provider=given).to_payload(URL)["provider"] == sent


@pytest.mark.parametrize("given", ["replicate", "", "kling ai", 1])
def test_provider_outside_the_list(given):
    rejected("provider", "one of auto, kling, klingai, fal", provider=given)


def test_image_encoding_option_is_checked():
    rejected("image_encoding", "'raw' or 'data_uri'", image_encoding="base64")


def test_unknown_keyword_is_named():
    with pytest.raises(errors.ValidationError) as caught:
        GenerationRequest.from_kwargs(image=URL, negative="blur")
    assert caught.value.field == "negative" and "negative_prompt" in caught.value.limit


# -- ignored fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"cfg_scale": 0.5}, "cfg_scale"),
        ({"cfg_scale": 0}, "cfg_scale"),
        ({"camera_control": {"type": "down_back"}}, "camera_control"),
        ({"static_mask": MASK}, "static_mask"),
        ({"dynamic_masks": [mask()]}, "dynamic_masks"),
    ],
)
def test_ignored_fields_are_sent_with_a_warning(fields, name):
    with pytest.warns(IgnoredFieldWarning, match=name):
        request = GenerationRequest(image=URL, **fields)
    assert name in request.to_payload(URL)


def test_a_note_is_warned_once_per_request_not_again_when_it_is_changed():
    """check() changes the request (its image limits): what its construction warned is not warned
    again from inside dataclasses; a change that adds a note still warns it."""
    with pytest.warns(IgnoredFieldWarning, match="cfg_scale"):
        request = GenerationRequest(image=URL, cfg_scale=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        changed = request.with_changes(prompt="slow dolly in")
    assert changed.prompt == "slow dolly in" and changed.notes() == request.notes()
    with pytest.warns(IgnoredFieldWarning, match="camera_control") as caught:
        request.with_changes(camera_control={"type": "down_back"})
    assert [str(w.message) for w in caught if "cfg_scale" in str(w.message)] == []


def test_plain_request_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        request = GenerationRequest(image=URL, prompt="p", negative_prompt="n", duration=10, provider="fal")
    assert request.notes() == []


# -- nothing is sent --------------------------------------------------------------------------------

REJECTED_SUBMISSIONS = [
    {"image": None},
    {"prompt": "x" * 2501},
    {"negative_prompt": "x" * 2501},
    {"duration": 7},
    {"duration": "7"},
    {"duration": True},
    {"cfg_scale": 1.5},
    {"camera_control": {"type": "orbit"}},
    {"camera_control": {"type": "simple", "config": {"zoom": 1, "pan": 1}}},
    {"camera_control": {"type": "simple", "config": {"zoom": 11}}},
    {"camera_control": {"type": "down_back", "config": {"zoom": 1}}},
    {"dynamic_masks": [mask() for _ in range(7)]},
    {"dynamic_masks": [mask(1)]},
    {"dynamic_masks": [mask(78)]},
    {"static_mask": MASK, "camera_control": {"type": "down_back"}},
    {"provider": "replicate"},
    {"image": "/no/such/file.png"},
    {"image": "ftp://images.test/a.png"},
    {"image": b"not an image"},
    {"image": object()},
]


@pytest.mark.parametrize("fields", REJECTED_SUBMISSIONS)
async def test_rejected_submission_sends_no_request(fake_client, no_network, fields):
    fields = {"image": URL, **fields}
    async with fake_client(transport=no_network) as client:
        with pytest.raises(errors.ValidationError), warnings.catch_warnings():
            warnings.simplefilter("ignore", IgnoredFieldWarning)
            await client.submit(**fields)
        assert client.journal is not None and client.journal.entries() == []
