"""The model catalogue follows each published schema, and a request follows its model's rules:
fields a model does not take are refused naming the models that do, durations and required
prompts are the model's, the end frame goes out under the model's own field name."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from fakes import IMAGE_URL
from owned import model_schemas

from kling_notebook import GenerationRequest, IgnoredFieldWarning, PriceTable, errors
from kling_notebook.domain.models import DEFAULT_MODEL, FIELDS, MODELS, ModelRate, models_taking
from kling_notebook.emulator._models import MODELS as EMULATED

SCHEMAS = model_schemas()
END = "https://images.test/end.jpg"
#: Each concept's name in a create body (the end frame has two).
WIRE = {"end_image": ("tail_image_url", "last_image_url")}
#: A value each field takes on every model that takes it.
VALUES: dict[str, Any] = {
    "prompt": "a slow push in",
    "negative_prompt": "blur",
    "cfg_scale": 0.5,
    "camera_control": {"type": "down_back"},
    "static_mask": "https://images.test/mask.png",
    "dynamic_masks": [{"mask": "https://images.test/m.png", "trajectories": [{"x": 0, "y": 0}] * 2}],
    "provider": "auto",
    "end_image": END,
    "generate_audio": False,
    "multi_prompt": ["a wave", "a bow"],
    "elements": [{"reference_image_urls": ["https://images.test/ref.png"]}],
    "shot_type": "customize",
}


def request(model: str, **fields: Any) -> GenerationRequest:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredFieldWarning)
        return GenerationRequest(image=IMAGE_URL, model=model, **fields)


def minimal(model: str) -> dict[str, Any]:
    return {"prompt": "a slow push in"} if MODELS[model].prompt_required else {}


def test_the_catalogue_lists_every_image_to_video_model_of_the_schemas() -> None:
    assert set(MODELS) == set(SCHEMAS) and len(MODELS) == 19
    assert MODELS[DEFAULT_MODEL].name == "Kling v2.1 Master"


@pytest.mark.parametrize("model", sorted(SCHEMAS))
def test_each_entry_follows_its_schema(model: str) -> None:
    entry, published = MODELS[model], SCHEMAS[model]
    wire = {entry.wire_name(name) for name in entry.takes}
    assert wire | {"model", "image_url", "duration"} == set(published["fields"])
    assert entry.durations == tuple(published["fields"]["duration"]["enum"])
    assert entry.prompt_required == ("prompt" in published["required"])
    end = [name for name in ("tail_image_url", "last_image_url") if name in published["fields"]]
    assert entry.end_frame == (end[0] if end else None)
    shot_type = published["fields"].get("shot_type", {})
    assert entry.shot_types == tuple(shot_type.get("enum", ()))
    assert entry.max_prompt == published["fields"]["prompt"].get("maxLength", 2500)


@pytest.mark.parametrize("model", sorted(EMULATED))
def test_the_catalogue_agrees_with_the_emulator(model: str) -> None:
    entry, emulated = MODELS[model], EMULATED[model]
    assert (entry.durations, entry.end_frame, entry.audio, entry.multi_prompt) == (
        emulated.durations, emulated.end_frame, emulated.audio, emulated.multi_prompt
    )  # fmt: skip
    assert entry.prompt_required == ("prompt" in emulated.required)
    assert entry.rate.usd_per_second == emulated.usd_per_second
    assert entry.rate.audio_usd_per_second == emulated.audio_usd_per_second


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_field_a_model_does_not_take_is_refused_naming_the_models_that_do(model: str) -> None:
    entry = MODELS[model]
    for name in FIELDS:
        if name in entry.takes:
            continue
        with pytest.raises(errors.ValidationError) as caught:
            request(model, **{**minimal(model), name: VALUES[name]})
        assert caught.value.field == name
        assert entry.name in caught.value.limit and "Nothing was sent" in str(caught.value)
        takers = models_taking(name)
        assert takers and all(taker in caught.value.limit for taker in takers)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_each_field_a_model_takes_is_sent_under_its_schema_name(model: str) -> None:
    entry = MODELS[model]
    for name in entry.takes:
        fields = {**minimal(model), name: VALUES[name]}
        if name == "multi_prompt":
            fields.pop("prompt", None)
        if name == "end_image" and entry.end_frame_needs_silence:
            fields["generate_audio"] = False
        made = request(model, **fields)
        body = made.to_payload("https://images.test/start.jpg", END if name == "end_image" else None)
        assert body["model"] == model
        assert entry.wire_name(name) in body, (model, name)
        assert set(body) <= set(SCHEMAS[model]["fields"]), set(body) - set(SCHEMAS[model]["fields"])


@pytest.mark.parametrize("model", sorted(MODELS))
def test_durations_and_required_prompt_are_the_models(model: str) -> None:
    entry = MODELS[model]
    for duration in entry.durations:
        assert request(model, **minimal(model), duration=duration).duration == duration
    for duration in (min(entry.durations) - 1, max(entry.durations) + 1, 7 if 7 not in entry.durations else 16):
        with pytest.raises(errors.ValidationError, match=entry.duration_text):
            request(model, **minimal(model), duration=duration)
    if entry.prompt_required:
        with pytest.raises(errors.ValidationError, match="requires a prompt") as caught:
            request(model)
        assert caught.value.field == "prompt"
    else:
        assert request(model).prompt is None


def test_v2_1_master_stays_the_default_and_its_body_is_unchanged() -> None:
    made = GenerationRequest(image=IMAGE_URL, prompt="p")
    assert made.model == DEFAULT_MODEL
    assert made.to_payload("u") == {"model": DEFAULT_MODEL, "image_url": "u", "duration": 5, "prompt": "p"}
    assert "model" not in made.summary()
    other = request("kling-video/v2.1/pro/image-to-video", prompt="p")
    assert other.summary()["model"] == "kling-video/v2.1/pro/image-to-video"


def test_an_unknown_model_is_refused_listing_the_family() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        GenerationRequest(image=IMAGE_URL, model="klingai/v9-image-to-video")
    assert caught.value.field == "model" and DEFAULT_MODEL in caught.value.limit


def test_the_end_frame_goes_out_as_each_model_wants_it() -> None:
    v1 = request("kling-video/v1/pro/image-to-video", end_image=END)
    assert v1.to_payload("u", END)["tail_image_url"] == END
    o1 = request("klingai/video-o1-image-to-video", prompt="p", end_image=END)
    body = o1.to_payload("u", END)
    assert body["last_image_url"] == END and "tail_image_url" not in body
    assert o1.summary()["last_image_url"] == END  # the journal names it, never bytes


def test_kling_rules_across_fields() -> None:
    v1 = "kling-video/v1/pro/image-to-video"
    with pytest.raises(errors.ValidationError, match="cannot be combined"):
        request(v1, end_image=END, camera_control={"type": "down_back"})
    omni = "klingai/video-v3-omni-720p-image-to-video"
    with pytest.raises(errors.ValidationError, match="generate_audio=False"):
        request(omni, end_image=END)  # the gateway's default is audio on
    assert request(omni, end_image=END, generate_audio=False).generate_audio is False
    v3 = "klingai/video-v3-standard-image-to-video"
    with pytest.raises(errors.ValidationError, match="not both"):
        request(v3, prompt="a", multi_prompt=["b"])
    with pytest.raises(errors.ValidationError, match="intelligent"):
        request(v3, shot_type="intelligence")
    assert request(omni, shot_type="intelligence").shot_type == "intelligence"
    with pytest.raises(errors.ValidationError, match="one element with a video"):
        request(v3, elements=[{"reference_image_urls": [END], "video_url": "https://v.test/a.mp4"}] * 2)
    with pytest.raises(errors.ValidationError, match="True or False"):
        request(v3, generate_audio="yes")


def test_multi_shot_prompts_follow_the_model() -> None:
    turbo = "klingai/video-v3-turbo-pro-image-to-video"
    made = request(turbo, multi_prompt=["a wave", {"prompt": "a bow", "duration": 2}])
    assert made.to_payload("u")["multi_prompt"] == [{"prompt": "a wave"}, {"prompt": "a bow", "duration": 2}]
    with pytest.raises(errors.ValidationError, match="at most 6 shots"):
        request(turbo, multi_prompt=["s"] * 7)
    with pytest.raises(errors.ValidationError, match="1 to 15"):
        request(turbo, multi_prompt=[{"prompt": "s", "duration": 16}])
    assert request(turbo, prompt="x" * 3072).prompt
    with pytest.raises(errors.ValidationError, match="3072"):
        request(turbo, prompt="x" * 3073)
    v3 = request("klingai/video-v3-pro-image-to-video", multi_prompt=("a", "b"))
    assert v3.to_payload("u")["multi_prompt"] == ["a", "b"]


def test_a_local_end_image_is_checked_and_encoded_like_the_image(jpeg: bytes) -> None:
    v1 = request("kling-video/v1/pro/image-to-video", end_image=jpeg)
    end = v1.prepare_end_image()
    assert end is not None and end.api_value.startswith("data:image/jpeg;base64,")
    with pytest.raises(errors.ValidationError) as caught:
        request("kling-video/v1/pro/image-to-video", end_image=b"not an image").prepare_end_image()
    assert caught.value.field == "end_image"


def test_the_legacy_endpoint_serves_v2_1_master_only() -> None:
    assert GenerationRequest(image=IMAGE_URL).endpoint_notes("legacy") == []
    with pytest.raises(errors.ValidationError, match="universal"):
        request("kling-video/v2.1/pro/image-to-video").endpoint_notes("legacy")


def test_estimates_follow_the_model_and_audio() -> None:
    table = PriceTable()
    assert table.estimate(5).usd == table.estimate(5, model=DEFAULT_MODEL).usd == 1.40
    v26 = request("klingai/video-v2-6-pro-image-to-video", prompt="p")
    loud = table.estimate_request(v26)
    assert loud.usd == 0.70 and loud.label == "built-in estimate"  # audio is on by default
    quiet = table.estimate_request(v26.with_changes(generate_audio=False))
    assert quiet.usd == 0.35
    v3 = request("klingai/video-v3-turbo-pro-image-to-video", duration=3)
    assert table.estimate_request(v3).usd == pytest.approx(0.084 * 3)
    live = table.with_rates({DEFAULT_MODEL: ModelRate(0.3, label="the gateway's price")})
    assert live.estimate(10).usd == 3.0 and live.estimate(10).label == "the gateway's price"
    assert PriceTable(credits_per_usd=1500).estimate_request(v3).credits == pytest.approx(378)
    assert table.estimate_request(v3).credits is None


def test_a_journal_summary_rebuilds_the_model_and_its_fields() -> None:
    from kling_notebook.store.history import request_from_summary

    o1 = request("klingai/video-o1-image-to-video", prompt="p", end_image=END, duration=10)
    rebuilt = request_from_summary(o1.summary())
    assert rebuilt is not None
    assert (rebuilt.model, rebuilt.end_image, rebuilt.duration) == (o1.model, END, 10)
    v3 = request("klingai/video-v3-turbo-pro-image-to-video", multi_prompt=["a"], duration=3)
    again = request_from_summary(v3.summary())
    assert again is not None and again.multi_prompt == ({"prompt": "a"},) and again.duration == 3
