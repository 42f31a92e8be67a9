"""``kling-notebook models`` lists every model with its fields, durations and price (live, else
built-in, labelled); ``kling-notebook class create|usage|revoke`` runs a class with the
management key from the environment only; ``generate --model`` follows the model's price."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

import kling_notebook
from kling_notebook.domain.models import DEFAULT_MODEL, MODELS
from kling_notebook.emulator import Emulator
from kling_notebook.frontends.cli import commands as cli

MANAGEMENT = "mgmt-key-for-the-cli-tests"


@pytest.fixture
def emu(make_emulator) -> Emulator:
    return make_emulator(management_key=MANAGEMENT)


def listed(capsys, *args: str) -> list[dict]:
    assert cli.main(["models", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_models_lists_the_family_with_live_prices(emu, capsys) -> None:
    emu.set_price(DEFAULT_MODEL, 0.3)
    rows = listed(capsys, "--base-url", emu.base_url, "--no-demo")
    assert [row["id"] for row in rows] == list(MODELS)
    master = next(row for row in rows if row["id"] == DEFAULT_MODEL)
    assert master["default"] and master["usd_per_second"] == 0.3
    assert master["price_source"] == "the gateway's price (GET /v1/models)"
    o1 = next(row for row in rows if row["id"] == "klingai/video-o1-image-to-video")
    assert o1["end_frame"] == "last_image_url" and o1["prompt_required"] and o1["durations"] == [5, 10]
    v3 = next(row for row in rows if row["id"] == "klingai/video-v3-pro-image-to-video")
    assert v3["durations"] == list(range(3, 16)) and v3["audio_usd_per_second"] == 0.168
    assert "generate_audio" in v3["takes"] and "multi_prompt" in v3["takes"]


def test_models_falls_back_to_the_built_in_table_labelled(capsys) -> None:
    rows = listed(capsys, "--base-url", "http://127.0.0.1:9", "--no-demo")  # nothing listens
    assert {row["price_source"] for row in rows} == {"built-in estimate"}
    assert cli.main(["models", "--built-in"]) == 0
    text = capsys.readouterr().out
    assert f"{DEFAULT_MODEL} (default)" in text and "3 to 15 s" in text and "(prompt required)" in text


def test_the_python_listing_is_a_table(emu) -> None:
    table = kling_notebook.models(emu.base_url, demo=False)
    assert len(table) == len(MODELS) and table[DEFAULT_MODEL].live
    bundle = table._repr_mimebundle_()
    assert bundle["text/html"].count("<tr>") == len(MODELS) + 1
    assert "Kling v2.1 Master <b>(default)</b>" in bundle["text/html"]
    offline = kling_notebook.models(live=False)
    assert not offline[DEFAULT_MODEL].live


def test_generate_takes_a_model_and_estimates_its_price(cli_on_emulator, emulator, image, capsys) -> None:
    args = ["generate", "--image", str(image), "--model", "klingai/video-v3-turbo-pro-image-to-video",
            "--duration", "3", "--prompt", "a wave"]  # fmt: skip
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "about $0.25" in err and "built-in estimate" in err
    (made,) = emulator.generations().values()
    assert made["model"] == "klingai/video-v3-turbo-pro-image-to-video" and made["duration"] == 3
    assert cli.main(["generate", "--image", str(image), "--model", "klingai/video-o1-image-to-video"]) == 2
    assert "requires a prompt" in capsys.readouterr().err


def test_a_class_from_the_command_line(emu, clean_env, tmp_path, capsys) -> None:
    where = ["--base-url", emu.base_url, "--roster", str(tmp_path / "roster.csv")]
    assert cli.main(["class", "create", "--students", "3", "--limit-usd", "2", "--period", "day", *where]) == 3
    assert "AIMLAPI_MANAGEMENT_KEY" in capsys.readouterr().err  # never a flag
    clean_env.setenv("AIMLAPI_MANAGEMENT_KEY", MANAGEMENT)
    keys = tmp_path / "keys.csv"
    assert cli.main(["class", "create", "--students", "3", "--limit-usd", "2", "--period", "day",
                     "--keys-file", str(keys), *where]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "3 students" in err and "readable by you only" in err and MANAGEMENT not in err
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    roster = (tmp_path / "roster.csv").read_text()
    assert roster.splitlines()[0] == "student,key_prefix,limit_usd,period"
    assert roster.splitlines()[1].startswith("student-1,") and roster.splitlines()[1].endswith(",2,day")
    assert "emu" in keys.read_text() and all(line.split(",")[2] not in roster for line in keys.read_text().splitlines()[1:])

    assert cli.main(["class", "usage", *where, "--json"]) == 0
    usage = json.loads(capsys.readouterr().out)
    assert [row["left_usd"] for row in usage] == [2.0, 2.0, 2.0] and {row["status"] for row in usage} == {"active"}
    assert cli.main(["class", "usage", *where]) == 0
    assert "total spent: $0.00" in capsys.readouterr().out
    assert cli.main(["class", "revoke", *where]) == 0
    assert "revoked 3 key(s)" in capsys.readouterr().out
    assert cli.main(["class", "revoke", *where, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"revoked": []}


def test_the_keys_file_is_never_overwritten(emu, clean_env, tmp_path: Path, capsys) -> None:
    clean_env.setenv("AIMLAPI_MANAGEMENT_KEY", MANAGEMENT)
    keys = tmp_path / "keys.csv"
    keys.write_text("someone else's\n")
    args = ["class", "create", "--students", "1", "--limit-usd", "1", "--base-url", emu.base_url,
            "--roster", str(tmp_path / "roster.csv"), "--keys-file", str(keys)]  # fmt: skip
    assert cli.main(args) == 3
    assert "nothing was created" in capsys.readouterr().err and keys.read_text() == "someone else's\n"
    assert "POST /v1/keys" not in emu.stats()["requests"]
