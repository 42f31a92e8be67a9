"""What the subcommands share: the help layout, the connection options, the key check in the
CLI's own words, and the outputs folder of the commands that only read what is there."""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...domain import errors
from ...gateway.settings import BASE_URL_ENV_VARS, KEY_ENV_VARS, find_api_key
from ...runtime.connect import DEMO_ENV_VAR, demo_wanted
from ...store.journal import FILENAME as JOURNAL_FILENAME
from ...store.outputs import ENV_VAR as OUTPUTS_ENV_VAR
from ...store.outputs import find_out_dir
from ...store.record import FILENAME as RECORD_FILENAME
from .exits import exit_codes_help

__all__ = [
    "Formatter",
    "Parser",
    "OUT_HELP",
    "BASE_URL_HELP",
    "ENDPOINT_HELP",
    "add_connection_options",
    "finish_subcommands",
    "require_key_or_demo",
    "journal_folder",
]

OUT_HELP = f"outputs folder: videos, sidecars and the journal (default: ${OUTPUTS_ENV_VAR}, else ./kling_outputs)"
BASE_URL_HELP = f"gateway base URL (default: ${BASE_URL_ENV_VARS[0]}, else https://api.aimlapi.com)"
ENDPOINT_HELP = (
    "the gateway's endpoint pair: universal (/v2/video/generations) or legacy "
    "(/v2/generate/video/kling/generation) (default: universal)"
)


class Formatter(argparse.HelpFormatter):
    """Descriptions and epilogs wrap paragraph by paragraph; a paragraph with indented lines (the
    exit code table, the examples) keeps its line breaks."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.strip("\n").split("\n\n")
        return "\n\n".join(
            "\n".join(indent + line for line in paragraph.splitlines())
            if any(line.startswith(" ") for line in paragraph.splitlines())
            else textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent, subsequent_indent=indent)
            for paragraph in paragraphs
        ) + "\n"


class Parser(argparse.ArgumentParser):
    """A mistyped option is reported under the usage of the (sub)command it was given to, not the
    top-level usage (argparse's subparsers hand unknown options back to the top)."""

    #: The top-level commands, by name (set by :func:`finish_subcommands`).
    subcommands: Mapping[str, argparse.ArgumentParser] = {}

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            _chosen(self, parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse._SubParsersAction[Any]]:
    return [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]


def _chosen(parser: argparse.ArgumentParser, parsed: Any) -> argparse.ArgumentParser:
    """The innermost (sub)command ``parsed`` chose (``class create`` in ``class create ...``)."""
    for action in _subparsers(parser):
        name = getattr(parsed, action.dest, None)
        if name in action.choices:
            return _chosen(action.choices[name], parsed)
    return parser


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", metavar="URL", help=BASE_URL_HELP)
    parser.add_argument("--endpoint", choices=("universal", "legacy"), default="universal", help=ENDPOINT_HELP)
    parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="--demo: the built-in emulator (simulated videos, nothing charged); --no-demo: never "
        "(default: demo mode only when neither a key nor a base URL is set)",
    )
    parser.add_argument("--out", default=None, metavar="FOLDER", help=OUT_HELP)


def finish_subcommands(parser: Parser, commands: Any) -> None:
    """Every (sub)command lists the exit codes (unless it has its own) and keeps the help
    layout; the top-level commands are kept by name."""
    parser.subcommands = commands.choices

    def finish(sub: argparse.ArgumentParser) -> None:
        sub.formatter_class = Formatter
        if sub.epilog is None:
            sub.epilog = exit_codes_help()
        for action in _subparsers(sub):
            for inner in action.choices.values():
                finish(inner)

    for sub in commands.choices.values():
        finish(sub)


def require_key_or_demo(demo: bool | None, base_url: str | None) -> None:
    """Refuse a live run without a key, in the CLI's words: it takes no key flag (a key on the
    command line ends up in shell history), so the only fix is the environment, or demo mode."""
    if demo is None:
        demo = demo_wanted(base_url=base_url)
    if demo or find_api_key() is not None:
        return
    if os.environ.get(DEMO_ENV_VAR, "").strip().lower() in ("0", "false", "no"):
        why = f"{DEMO_ENV_VAR}=0 turns demo mode off."
    elif base_url or any(os.environ.get(name) for name in BASE_URL_ENV_VARS):
        why = "A base URL is set (--base-url or $" + BASE_URL_ENV_VARS[0] + "), so demo mode is off."
    else:
        why = "--no-demo turns demo mode off."
    raise errors.ConfigurationError(
        f"No API key: set {KEY_ENV_VARS[0]} (or {' or '.join(KEY_ENV_VARS[1:])}) in the environment; "
        "kling-notebook takes no key option, so the key stays out of your shell history.",
        hint=f"{why} With neither a key nor a base URL, kling-notebook runs in demo mode (simulated "
        "videos, nothing charged).",
    )


def journal_folder(out: str | None) -> tuple[Path, bool]:
    """The outputs folder of a command that reads or settles what is there, and whether it has a
    journal. Such a command never creates one: a mistyped ``--out`` must not leave an empty
    folder and journal behind."""
    folder = find_out_dir(out)
    return folder, (folder / JOURNAL_FILENAME).exists() or (folder / RECORD_FILENAME).exists()
