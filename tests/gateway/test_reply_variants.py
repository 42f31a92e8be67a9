"""The client handles the replies the real gateway sends, beyond its schema: each variant the
emulator can send, over real sockets, ends in a saved video (or the real failure reason), and a
failed generation costs nothing from a budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulated import client_for

from kling_notebook import Budget, errors
from kling_notebook.emulator import Emulator

SAVED_WITH = ["video_list", "id_numeric", "id_nanoid", "url_query", "url_kling", "tokens_used",
              "old_statuses", "instant", "real"]


@pytest.mark.parametrize("variant", SAVED_WITH)
async def test_each_reply_variant_ends_in_a_saved_video(
    make_emulator, out_dir: Path, image: Path, variant: str
) -> None:
    emulator: Emulator = make_emulator(replies=variant)
    events = []
    async with client_for(emulator, out_dir) as client:
        result = await client.generate(image=image, prompt=variant, on_event=events.append)
    (created,) = emulator.stats()["created"]
    assert result.id == created and result.path.is_file() and result.path.stat().st_size > 1000
    assert result.path.parent == out_dir and "?" not in result.path.name
    if variant == "tokens_used":
        assert result.generation.credits_used and result.generation.credits_used > 0
    if variant == "old_statuses":
        said = {e.status for e in events if e.status}
        assert said & {"queued", "generating"} and not said & {"waiting", "active", "processing"}
    if variant == "instant":  # the create said completed: no status read was needed
        assert emulator.stats()["requests"].get("GET /v2/video/generations", {}) == {}


@pytest.mark.parametrize("variant", ["error_detail", "error_string", "error_name_message", "error_null"])
async def test_the_real_failure_reason_reaches_the_user(
    make_emulator, out_dir: Path, image: Path, variant: str
) -> None:
    shape = "" if variant == "error_name_message" else variant
    emulator: Emulator = make_emulator(replies=shape, faults="job:error=1")
    async with client_for(emulator, out_dir) as client:
        with pytest.raises(errors.GenerationFailedError) as caught:
            await client.generate(image=image, prompt="a face, please")
    text = str(caught.value)
    assert caught.value.generation_id in text
    if variant != "error_null":
        assert caught.value.detail and caught.value.detail in text and "{" not in caught.value.detail


async def test_a_failed_generation_takes_nothing_from_a_budget(
    make_emulator, out_dir: Path, image: Path
) -> None:
    emulator: Emulator = make_emulator(faults="job:error=1")
    budget = Budget(usd=10)
    async with client_for(emulator, out_dir, budget=budget) as client:
        with pytest.raises(errors.GenerationFailedError):
            await client.generate(image=image)
    assert budget.spent_usd == 0 and budget.reserved_usd == 0 and budget.remaining_usd == 10
    assert emulator.stats()["billing"]["charges"] == [] or not emulator.stats()["billing"]["charges"]
