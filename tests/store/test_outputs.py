"""Output folder, file names and sidecars: predictable, safe, never half-written."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kling_notebook.domain.cost import PriceTable
from kling_notebook.store.outputs import (
    DEFAULT_DIR_NAME,
    ENV_VAR,
    find_out_dir,
    read_sidecar,
    video_filename,
    write_sidecar,
)

CREATED = datetime(2026, 11, 23, 19, 30, 0)
GEN_ID = "b906d239-1c2d-4e5f-8a9b-0c1d2e3f4a5b:kling-video/v2.1/master/image-to-video"
SAFE_NAME = re.compile(r"\d{8}-\d{6}_[a-z0-9]+(-[a-z0-9]+)*_[a-z0-9]+-[0-9a-f]{8}\.mp4")


# -- where outputs go ---------------------------------------------------------------------------


def test_argument_beats_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert find_out_dir(tmp_path / "from-arg") == tmp_path / "from-arg"
    assert find_out_dir() == tmp_path / "from-env"


@pytest.mark.parametrize("env_value", [None, ""])
def test_default_is_beside_the_notebook(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env_value: str | None
) -> None:
    if env_value is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, env_value)
    monkeypatch.chdir(tmp_path)
    resolved = find_out_dir()
    assert resolved == tmp_path / DEFAULT_DIR_NAME
    assert resolved.is_absolute()
    assert not resolved.exists()  # resolving has no side effects


def test_relative_and_home_paths_become_absolute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert find_out_dir("rel") == tmp_path / "rel"
    assert find_out_dir("~/vids") == tmp_path / "home" / "vids"


# -- file names ---------------------------------------------------------------------------------


def test_filename_example() -> None:
    name = video_filename(GEN_ID, "Mona Lisa puts on sunglasses and smiles", CREATED)
    assert name == "20261123-193000_mona-lisa-puts-on_b906d239-5a1ff582.mp4"
    assert video_filename(GEN_ID, "Café crème brûlée", CREATED) == (
        "20261123-193000_cafe-creme-brulee_b906d239-5a1ff582.mp4"
    )
    assert video_filename(GEN_ID, None, CREATED) == "20261123-193000_video_b906d239-5a1ff582.mp4"


#: The three id shapes the gateway sends, each with a neighbour that starts the same: numeric Kling
#: ids made in the same second share their leading digits; nanoids may differ only in case.
ID_SHAPES = {
    "uuid": (GEN_ID, "b906d239-ffff-4e5f-8a9b-0c1d2e3f4a5b:kling-video/v2.1/master/image-to-video"),
    "numeric": ("789392067490349060", "789392067490349061"),
    "nanoid": ("gg6lldgKC2tRmvJwBjK7-", "gg6lldgKC2tRmvJwBjK7_"),
    "nanoid by case": ("gg6lldgKC2tRmvJwBjK7-", "GG6lldgKC2tRmvJwBjK7-"),
}


@pytest.mark.parametrize("shape", list(ID_SHAPES))
def test_two_generations_never_share_a_name(shape: str) -> None:
    """Same second, same prompt: the names still differ (case-insensitively, as on macOS and
    Windows disks), and each stays readable: it shows the id's start as the panel does."""
    one, other = ID_SHAPES[shape]
    names = [video_filename(generation_id, "a cat", CREATED) for generation_id in (one, other)]
    assert names[0].lower() != names[1].lower(), names
    for generation_id, name in zip((one, other), names, strict=True):
        assert SAFE_NAME.fullmatch(name), name
        readable = re.sub(r"[^a-z0-9]", "", generation_id.split(":")[0].lower())[:8]
        assert f"_{readable}-" in name
        assert "kling-video" not in name and "image-to-video" not in name


@pytest.mark.parametrize(
    ("prompt", "generation_id"),
    [
        ("../../../etc/passwd", GEN_ID),
        ("<script>alert('x')</script>", GEN_ID),
        ('a/b\\c:d*e?f"g<h>i|j', GEN_ID),
        ("\x00\n\t\r", GEN_ID),
        ("日本語のプロンプト", GEN_ID),
        ("💥" * 500, GEN_ID),
        ("x" * 5000, GEN_ID),
        ("..", "../../evil:id"),
        ("ok", "::::"),
        ("CON", "\\\\server\\share"),
    ],
)
def test_hostile_text_gives_a_safe_name(prompt: str, generation_id: str) -> None:
    name = video_filename(generation_id, prompt, CREATED)
    assert SAFE_NAME.fullmatch(name), name
    assert Path(name).name == name and ".." not in name
    assert len(name) <= 80


@given(prompt=st.one_of(st.none(), st.text()), generation_id=st.text())
def test_any_text_gives_a_safe_name(prompt: str | None, generation_id: str) -> None:
    name = video_filename(generation_id, prompt, CREATED)
    assert SAFE_NAME.fullmatch(name), name
    assert len(name) <= 80


# -- sidecars -----------------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_sidecar_round_trip(tmp_path: Path) -> None:
    video = tmp_path / "videos" / "clip.mp4"
    data = {
        "id": GEN_ID,
        "prompt": "Mona Lisa ✨",
        "settings": {"duration": 10, "cfg_scale": 0.5},
        "created": datetime(2026, 11, 23, 19, 30, tzinfo=timezone.utc),
        "path": video,
        "estimate": PriceTable().estimate(10),
        "credits_used": 210.0,
    }
    written = write_sidecar(video, data)
    assert written == tmp_path / "videos" / "clip.json"
    loaded = read_sidecar(video)
    assert loaded == {
        **data,
        "created": "2026-11-23T19:30:00+00:00",
        "path": str(video),
        "estimate": {
            "count": 1,
            "duration_seconds_total": 10,
            "usd": 2.8,
            "credits": None,
            "label": "estimate from the published fal.ai mirror price",
        },
    }
    assert leftovers(video.parent) == []


def test_sidecar_never_holds_image_bytes_or_keys(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    write_sidecar(video, {"request": {"image_url": "data:image/jpeg;base64," + "Q" * 4000}})
    assert "QQQQ" not in (tmp_path / "clip.json").read_text()
    with pytest.raises(ValueError, match="credential"):
        write_sidecar(tmp_path / "other.mp4", {"request": {"api_key": "sk-secret"}})
    assert not (tmp_path / "other.json").exists()


def test_failed_write_keeps_the_old_sidecar_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = tmp_path / "clip.mp4"
    write_sidecar(video, {"status": "completed"})
    with pytest.raises(TypeError):
        write_sidecar(video, {"status": object()})

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_sidecar(video, {"status": "overwritten"})
    assert read_sidecar(video) == {"status": "completed"}
    assert leftovers(tmp_path) == []


def test_missing_or_damaged_sidecar_reads_as_none(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    assert read_sidecar(video) is None
    (tmp_path / "clip.json").write_text('{"half": ')
    assert read_sidecar(video) is None
    (tmp_path / "clip.json").write_text(json.dumps(["not", "a", "dict"]))
    assert read_sidecar(video) is None
