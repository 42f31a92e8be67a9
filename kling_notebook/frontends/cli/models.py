"""``kling-notebook models``: every Kling image-to-video model, what it takes, its durations and
its price (live from the gateway, else built-in, labelled).

Registered by :func:`kling_notebook.frontends.cli.commands.build_parser`. Needs no key: the
pricing route is public; with no key and no base URL it lists the demo emulator's prices.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ...runtime.catalogue import list_models
from ..models import ModelTable
from .options import BASE_URL_HELP

__all__ = ["register"]


async def _models(args: argparse.Namespace) -> int:
    table = ModelTable(tuple(await list_models(args.base_url, demo=args.demo, live=not args.built_in)))
    print(json.dumps(table.as_json(), indent=2) if args.json else table)
    return 0


def register(commands: Any) -> None:
    """Add ``models`` to the CLI's subcommands."""
    listing = commands.add_parser(
        "models", help="list the Kling image-to-video models: fields, durations, prices"
    )
    listing.add_argument(
        "--base-url", metavar="URL", help=BASE_URL_HELP
    )
    listing.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the demo emulator's prices (default: only when no API key is set)",
    )
    listing.add_argument(
        "--built-in", action="store_true", help="the built-in price table only (no request)"
    )
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(run=_models)
