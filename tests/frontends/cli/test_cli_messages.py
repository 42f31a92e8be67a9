"""What ``kling-notebook`` says when something is wrong: one clear line and an exit code from the
table in its help, never a traceback; nothing created or sent that the command did not need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fakes import image_bytes

from kling_notebook.frontends.cli import commands as cli
from kling_notebook.frontends.cli.exits import EXIT_MEANINGS

# -- the key, in the CLI's own words ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "setting", "reason"),
    [
        (["status", "abc"], {"AIMLAPI_BASE_URL": "http://127.0.0.1:9"}, "A base URL is set"),
        (["generate", "--image", "x.jpg", "--no-demo"], {}, "--no-demo turns demo mode off"),
        (["resume", "--base-url", "http://127.0.0.1:9"], {}, "A base URL is set"),
        (["wait", "abc"], {"KLING_NOTEBOOK_DEMO": "0"}, "KLING_NOTEBOOK_DEMO=0 turns demo mode off"),
    ],
)
def test_no_key_says_where_a_key_goes_for_the_cli(
    argv, setting, reason, clean_env, tmp_path, capsys
) -> None:
    for name, value in setting.items():
        clean_env.setenv(name, value)
    if argv[0] == "resume":  # resume looks at a journal first: give it one to resume
        (tmp_path / "kling_outputs").mkdir()
        (tmp_path / "kling_outputs" / "journal.sqlite3").touch()
    assert cli.main(argv) == 3
    err = capsys.readouterr().err
    assert "No API key: set AIMLAPI_KEY" in err and "no key option" in err and reason in err
    assert "api_key=" not in err and "panel" not in err


# -- commands that only read create nothing --------------------------------------------------------


def test_history_in_a_folder_without_a_journal_says_so_and_creates_nothing(tmp_path, capsys) -> None:
    assert cli.main(["history"]) == 0
    assert capsys.readouterr().out == f"No generations yet in {tmp_path / 'kling_outputs'} (it has no journal).\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["history"], 0, "No generations yet in"),
        (["history", "--json"], 0, "[]"),
        (["resume"], 0, "Nothing to resume: no journal in"),
        (["settle", "1", "--not-created"], 2, "no journal there, so no row to settle"),
    ],
)
def test_a_mistyped_out_folder_is_not_created(argv, code, said, tmp_path, capsys) -> None:
    typo = tmp_path / "kling_ouputs"
    assert cli.main([*argv, "--out", str(typo)]) == code
    captured = capsys.readouterr()
    assert said in captured.out + captured.err
    assert not typo.exists()


# -- submitting ------------------------------------------------------------------------------------


@pytest.mark.parametrize("emulator", [{"faults": "post:503=1"}], indirect=True)
def test_an_uncertain_submission_names_its_journal_row(cli_on_emulator, image, capsys) -> None:
    assert cli.main(["generate", "--image", str(image)]) == 7
    err = capsys.readouterr().err
    assert "The journal keeps it as row 1." in err
    assert "`kling-notebook settle 1 --id ID`" in err and "`kling-notebook settle 1 --not-created`" in err
    assert err.count("HTTP 503") == 1


async def test_a_bare_503_is_said_once(fake_client, gateway, tmp_path) -> None:
    """A proxy's 503 with no body: the status is the whole story, said once."""
    from kling_notebook import errors

    gateway.post(httpx.Response(503))
    picture = tmp_path / "frame.jpg"
    picture.write_bytes(image_bytes())
    async with fake_client() as client:
        with pytest.raises(errors.SubmissionUncertainError) as caught:
            await client.submit(image=str(picture), prompt="waves")
    assert str(caught.value).count("HTTP 503") == 1 and caught.value.row == 1


# -- no traceback ----------------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line(monkeypatch, capsys) -> None:
    async def broken(args):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(cli, "_status", broken)
    assert cli.main(["status", "abc", "--demo"]) == 1
    err = capsys.readouterr().err
    assert err == "error: unexpected RuntimeError: something nobody foresaw (a bug in kling-notebook: please report it)\n"


def test_an_os_error_is_one_line(monkeypatch, capsys) -> None:
    def full(args):
        raise OSError(28, "No space left on device", "/data/kling_outputs")

    monkeypatch.setattr(cli, "_status", full)
    assert cli.main(["status", "abc", "--demo"]) == 11
    assert capsys.readouterr().err == "error: No space left on device (/data/kling_outputs).\n"


@pytest.fixture
def run(tmp_path: Path, image: Path):
    """``kling-notebook ARGS`` in a child process (the real entry point: its own interpreter,
    output and exit code), in an empty folder, with no key in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMLAPI_", "AIML_API_", "KLING_NOTEBOOK_"))}
    (tmp_path / "photo.jpg").write_bytes(image.read_bytes())
    (tmp_path / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(4000))
    (tmp_path / "a-file").touch()

    def run(*argv: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kling_notebook.frontends.cli.commands", *argv],
            cwd=tmp_path, env={**env, **extra_env}, capture_output=True, text=True, timeout=120,
        )

    return run


@pytest.mark.parametrize(
    ("argv", "env", "code", "said"),
    [
        (["--version"], {}, 0, "kling-notebook 0."),
        (["generate", "--image", "missing.jpg", "--demo"], {}, 2, "image: no such file"),
        (["generate", "--image", "photo.heic", "--demo"], {}, 2, "format is heic (the iPhone's photo format"),
        (["generate", "--image", "photo.jpg", "--demo", "--out", "a-file/videos"], {}, 11, "Not a directory"),
        (["generate", "--image", "photo.jpg", "--duration", "7"], {}, 2, "duration: 5 or 10 (seconds)"),
        (["status", "abc"], {"AIMLAPI_BASE_URL": "http://127.0.0.1:9"}, 3, "No API key"),
        (["status", "abc", "--demo"], {}, 10, "HTTP 404"),
        (["history", "--out", "nowhere"], {}, 0, "No generations yet"),
        (["settle", "1", "--not-created"], {}, 2, "no row to settle"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_errors_reach_the_user_as_a_line_and_a_listed_exit_code(run, argv, env, code, said) -> None:
    done = run(*argv, **env)
    assert "Traceback" not in done.stderr
    assert (done.returncode, said in done.stdout + done.stderr) == (code, True), done.stderr
    assert done.returncode in EXIT_MEANINGS
