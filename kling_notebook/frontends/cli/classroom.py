"""``kling-notebook class create|usage|revoke``: a class on one paid account.

Registered by :func:`kling_notebook.frontends.cli.commands.build_parser`. The management key is
read from ``$AIMLAPI_MANAGEMENT_KEY`` only, never from a flag (flags end up in shell history and
process lists). The roster (student, key prefix, limit) is written as CSV; the keys themselves
only with ``--keys-file``, to a new file readable by its owner only (mode 0600).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ...domain import errors
from ...gateway.keys import PERIODS
from ...runtime.classroom import Classroom, PartialClassError, Roster
from ..classroom import UsageTable
from .arguments import usd
from .options import BASE_URL_HELP

__all__ = ["register"]


def _classroom(args: argparse.Namespace) -> Classroom:
    teacher = Classroom(base_url=args.base_url, demo=args.demo)
    where = "demo mode: the demo emulator, nothing charged" if teacher.demo else teacher.base_url
    print(f"kling-notebook: {where}", file=sys.stderr)
    return teacher


def _save(args: argparse.Namespace, roster: Roster) -> None:
    print(f"roster: {roster.write(args.roster)} ({len(roster)} students)", file=sys.stderr)
    if args.keys_file:
        print(f"keys: {roster.write_keys(args.keys_file)} (readable by you only)", file=sys.stderr)
    else:
        print("keys: not written (pass --keys-file PATH to keep them; a key is shown only once)",
              file=sys.stderr)  # fmt: skip


async def _create(args: argparse.Namespace) -> int:
    if args.keys_file and Path(args.keys_file).exists():  # before any key is made: one shown once
        raise errors.ConfigurationError(
            f"{args.keys_file} exists: the keys are written only to a new file; nothing was created.",
            hint="Choose another path, or move the old file away first.",
        )
    async with _classroom(args) as teacher:
        try:
            roster = await teacher.create(args.students, args.limit_usd, args.period, name=args.name)
        except PartialClassError as partial:
            _save(args, partial.roster)
            raise
    _save(args, roster)
    if args.json:
        print(json.dumps([{"student": s.student, "key_prefix": s.prefix} for s in roster.seats]))
    return 0


async def _usage(args: argparse.Namespace) -> int:
    roster = Roster.read(args.roster)
    async with _classroom(args) as teacher:
        table = UsageTable(tuple(await teacher.usage(roster)))
    print(json.dumps(table.as_json()) if args.json else table)
    return 0


async def _revoke(args: argparse.Namespace) -> int:
    roster = Roster.read(args.roster)
    async with _classroom(args) as teacher:
        revoked = await teacher.revoke(roster)
    gone = len(roster) - len(revoked)
    note = f" ({gone} already gone)" if gone else ""
    print(json.dumps({"revoked": revoked}) if args.json else f"revoked {len(revoked)} key(s){note}")
    return 0


def _students(text: str) -> int | list[str]:
    """A number of students (named student-1, ...) or their names, comma-separated (a hub's
    user names, so its Spawner can find each student's key)."""
    if text.isdigit():
        if not 1 <= int(text) <= 500:
            raise argparse.ArgumentTypeError(f"a number of students from 1 to 500, got {text!r}")
        return int(text)
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"a number of students or their names, got {text!r}")
    return names


def register(commands: Any) -> None:
    """Add ``class`` (create, usage, revoke) to the CLI's subcommands."""
    group = commands.add_parser(
        "class", help="a class on one account: capped keys per student, their spend, revoke",
        description="The management key is read from $AIMLAPI_MANAGEMENT_KEY (never a flag).",
    )
    actions = group.add_subparsers(dest="class_command", required=True)
    create = actions.add_parser("create", help="create one capped key per student and a roster")
    create.add_argument("--students", type=_students, required=True, metavar="N|NAMES",
                        help="how many (student-1, ...) or their names, comma-separated")  # fmt: skip
    create.add_argument("--limit-usd", type=usd, required=True, metavar="USD",
                        help="each student's spending limit in dollars, enforced by the gateway")  # fmt: skip
    create.add_argument("--period", choices=PERIODS, default="none",
                        help="when each limit resets (00:00 UTC); none: never (default: none)")  # fmt: skip
    create.add_argument("--name", default="class", help="the class's name, in each key's name (default: class)")
    create.add_argument("--keys-file", default=None, metavar="PATH",
                        help="also write the keys here, a new file of mode 0600 (default: not written)")  # fmt: skip
    create.set_defaults(run=_create)
    usage = actions.add_parser("usage", help="each student's spend and what is left")
    usage.set_defaults(run=_usage)
    revoke = actions.add_parser("revoke", help="delete every key of the roster")
    revoke.set_defaults(run=_revoke)
    for action in (create, usage, revoke):
        action.add_argument("--roster", default="roster.csv", metavar="CSV", help="the roster CSV (default: roster.csv)")
        action.add_argument("--base-url", metavar="URL", help=BASE_URL_HELP)
        action.add_argument("--demo", action=argparse.BooleanOptionalAction, default=None,
                            help="the demo emulator (default: only with no keys configured)")  # fmt: skip
        action.add_argument("--json", action="store_true", help="print the result as JSON")
