"""``kling-notebook --help`` explains itself: every option of every command says what it does and
what it defaults to, every command lists the exit codes, ``--version`` answers, and a mistyped
option is reported under the usage of the command it was given to."""

from __future__ import annotations

import argparse

import pytest

import kling_notebook
from kling_notebook import errors
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.frontends.cli.exits import EXIT_CODES, EXIT_MEANINGS

PARSER = cli.build_parser()


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every command by its words (``class create`` too)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub
                found.update(_commands(sub, f"{prefix}{name} "))
    return found


SUBCOMMANDS = _commands(PARSER)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))  # commands: their own help
    ]


def _in_required_group(parser: argparse.ArgumentParser, action: argparse.Action) -> bool:
    return any(group.required and action in group._group_actions for group in parser._mutually_exclusive_groups)


def test_the_commands_a_newcomer_meets_are_all_there() -> None:
    assert {"generate", "status", "wait", "resume", "settle", "history", "emulator"} <= set(SUBCOMMANDS)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_option_says_what_it_does(name: str) -> None:
    parser = SUBCOMMANDS[name]
    missing = [action.dest for action in _options(parser) if not (action.help or "").strip()]
    assert missing == [], f"`kling-notebook {name}`: no help for {missing}"


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_optional_value_shows_its_default(name: str) -> None:
    parser = SUBCOMMANDS[name]
    silent = [
        action.option_strings[0]
        for action in _options(parser)
        if action.option_strings
        and action.nargs != 0  # a flag: off unless given
        and not action.required
        and not _in_required_group(parser, action)
        and "default" not in (action.help or "")
    ]
    assert silent == [], f"`kling-notebook {name}`: no default shown for {silent}"


def test_the_emulator_port_shows_its_default() -> None:
    (port,) = [action for action in _options(SUBCOMMANDS["emulator"]) if action.dest == "port"]
    assert "(default: 8000)" in (port.help or "")


@pytest.mark.parametrize("name", [None, *sorted(SUBCOMMANDS)])
def test_every_command_lists_the_exit_codes(name: str | None) -> None:
    text = (SUBCOMMANDS[name] if name else PARSER).format_help()
    assert "exit codes:" in text
    if name != "emulator":  # the emulator has its own: stopped, could not start
        for code, meaning in EXIT_MEANINGS.items():
            assert f"{code:<4} {meaning}" in text


def test_every_exit_code_the_cli_returns_is_explained() -> None:
    assert {code for _, code in EXIT_CODES} <= set(EXIT_MEANINGS)


def test_only_gateway_and_network_errors_share_the_generic_code() -> None:
    """A new error kind needs a code of its own, or a place in this list: 8 means the gateway or
    the network failed, and a script reacting to it retries later."""
    kinds = [getattr(errors, name) for name in errors.__all__]
    generic = {kind.__name__ for kind in kinds if next(code for k, code in EXIT_CODES if issubclass(kind, k)) == 8}
    assert generic == {
        "KlingError", "APIStatusError", "BadRequestError", "RateLimitError", "ServerError",
        "GatewayTimeoutError", "APIConnectionError", "APITimeoutError", "InvalidResponseError",
    }


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"kling-notebook {kling_notebook.__version__}\n"


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["generate", "--image", "photo.jpg", "--promt", "waves"], "usage: kling-notebook generate"),
        (["history", "--lmit", "3"], "usage: kling-notebook history"),
        (["emulator", "--prot", "8000"], "usage: kling-notebook emulator"),
        (["class", "usage", "--rooster", "r.csv"], "usage: kling-notebook class usage"),
    ],
)
def test_a_mistyped_option_is_reported_under_its_command(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert err.startswith(usage) and f"unrecognized arguments: {' '.join(argv[-2:])}" in err
