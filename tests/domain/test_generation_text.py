"""``print(result)`` and ``print(generation)`` in a script give one short readable line, and their
reprs stay short: no request bytes, no raw reply, no URL of hundreds of characters."""

from __future__ import annotations

from pathlib import Path

from kling_notebook import Generation, GenerationRequest, GenerationResult

GEN_ID = "8c4a3f1e-0b7d-4c1e-9a55-2f1d3b7e6a10:kling-video/v2.1/master/image-to-video"
SIGNED = "https://cdn.test/generations/out.mp4?X-Amz-Signature=" + "ab" * 300


def _done(**fields) -> Generation:
    return Generation(GEN_ID, "completed", video_url=SIGNED, credits_used=210.0, raw={"big": "x" * 5000}, **fields)


def _result(**fields) -> GenerationResult:
    request = GenerationRequest(image="https://images.test/frame.jpg", prompt="waves roll in " * 40, duration=10)
    return GenerationResult(
        path=Path("kling_outputs/20261201-1200_waves-roll-in_8c4a3f1e.mp4"), generation=_done(), request=request,
        elapsed=312.4, sidecar=Path("kling_outputs/20261201-1200_waves-roll-in_8c4a3f1e.json"), **fields,
    )


def test_printing_a_result_says_where_the_video_is_in_one_line() -> None:
    assert str(_result()) == (
        "video saved to kling_outputs/20261201-1200_waves-roll-in_8c4a3f1e.mp4 (10 s video, 210 credits, made in 312 s)"
    )
    assert "simulated, nothing charged" in str(_result(simulated=True))


def test_a_result_repr_is_short() -> None:
    text = repr(_result(simulated=True))
    assert text == (
        "GenerationResult(path='kling_outputs/20261201-1200_waves-roll-in_8c4a3f1e.mp4', "
        f"id='{GEN_ID}', status='completed', simulated=True)"
    )


def test_a_generation_prints_its_short_id_and_outcome() -> None:
    assert str(_done()) == "generation 8c4a3f1e: completed, video ready, 210 credits"
    failed = Generation(GEN_ID, "error", error_name="ModerationError", error_message="the image was refused")
    assert str(failed) == "generation 8c4a3f1e: error, error: the image was refused"


def test_a_generation_repr_shows_what_it_holds_and_cuts_a_long_url() -> None:
    text = repr(_done())
    assert text.startswith(f"Generation(id='{GEN_ID}', status='completed', video_url='https://cdn.test/")
    assert "error_name" not in text and "raw" not in text and len(text) < 250
    assert text.endswith("...', credits_used=210.0)")
