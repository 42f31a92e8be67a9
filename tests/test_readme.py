"""The README works as written: its Python snippets run in order, as cells of one notebook would
(top-level ``await`` included), against an emulator; every ``kling-notebook`` line it shows is a
command the CLI takes; its exit code table is the CLI's; the files it links to exist."""

from __future__ import annotations

import ast
import inspect
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from emulated import client_for

import kling_notebook
from kling_notebook import AsyncKlingClient, KlingClient
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.frontends.cli.exits import EXIT_MEANINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def snippets(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README) if lang == language]


#: A Python block whose first line is ``# from PATH`` is an excerpt of that (tested) file.
EXCERPT = re.compile(r"# from (\S+)\n")


def runnable() -> list[str]:
    return [body for body in snippets("python") if not EXCERPT.match(body)]


def test_every_excerpt_is_in_its_file() -> None:
    excerpts = [(EXCERPT.match(body), body) for body in snippets("python") if EXCERPT.match(body)]
    for found, body in excerpts:
        assert found is not None
        lines = [line.strip() for line in (ROOT / found[1]).read_text().splitlines()]
        missing = [
            line for line in body.splitlines()[1:] if line.strip() and not any(have.startswith(line.strip()) for have in lines)
        ]
        assert missing == [], f"not in {found[1]}: {missing}"


def test_the_readme_has_the_snippets_a_newcomer_copies() -> None:
    python = "\n".join(runnable())
    for needed in ("KlingPanel()", "connect()", "await client.generate(", "KlingClient(client=connect())"):
        assert needed in python, needed
    assert "make demo" in snippets("bash")[0]


@pytest.mark.slow
@pytest.mark.parametrize("emulator", [{"time_scale": 300}], indirect=True)  # deadlines of 3 s, not 1.5
async def test_the_python_snippets_run_as_written(emulator, out_dir, tmp_path, monkeypatch, capsys) -> None:
    """From the root of a clone (the shipped image at notebooks/images/), with ``connect()``
    giving a client of a fast test emulator instead of the demo one."""
    shutil.copytree(ROOT / "notebooks" / "images", tmp_path / "notebooks" / "images")
    made: list[AsyncKlingClient] = []

    def connect(*args: Any, **options: Any) -> AsyncKlingClient:
        made.append(client_for(emulator, out_dir, demo=True))
        return made[-1]

    monkeypatch.setattr(kling_notebook, "connect", connect)
    namespace: dict[str, Any] = {}
    try:
        for number, source in enumerate(runnable(), 1):
            code = compile(source, f"README.md python snippet {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            outcome = eval(code, namespace)
            if inspect.iscoroutine(outcome):
                await outcome
        await namespace["job"].wait()  # the job the README starts in the background
    finally:
        for client in made:
            await client.aclose()
    printed = capsys.readouterr().out
    assert "prompt: at most 2500 characters" in printed and "Nothing was sent and nothing was charged" in printed
    assert printed.count("video saved to ") == 1  # the script's print(result)
    assert isinstance(namespace["kling"], KlingClient)
    assert namespace["result"].path.exists() and namespace["path"] == Path("zoom.mp4") and Path("zoom.mp4").exists()
    assert len(list(out_dir.glob("*.mp4"))) >= 3  # generate, the job, the script (zoom.mp4 went to the cwd), ...


def _cli_lines() -> list[str]:
    """Every ``kling-notebook ...`` command of the bash blocks, continuation lines joined."""
    joined = "\n".join(snippets("bash")).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("kling-notebook ")]


@pytest.mark.parametrize("line", _cli_lines())
def test_every_command_line_shown_is_one_the_cli_takes(line: str) -> None:
    argv = shlex.split(line, comments=True)[1:]
    parsed = cli.build_parser().parse_args(argv)
    assert parsed.command == argv[0]


def test_the_cli_lines_cover_every_command() -> None:
    shown = {shlex.split(line)[1] for line in _cli_lines()}
    assert shown == set(cli.build_parser().subcommands)


def test_the_exit_code_table_is_the_clis() -> None:
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", README, re.MULTILINE)
    assert {int(code) for code, _ in rows} == set(EXIT_MEANINGS)


def test_the_files_it_links_to_exist() -> None:
    links = re.findall(r"\]\(((?!https?:|#)[^)]+)\)", README)
    assert links, "no local links found"
    assert [link for link in links if not (ROOT / link).exists()] == []
