"""``kling-notebook emulator`` and ``python -m kling_notebook.emulator``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from ._emulator import Emulator

__all__ = ["add_arguments", "main", "register", "run"]

DESCRIPTION = (
    "Serve an offline stand-in for the AI/ML API gateway (the Kling image-to-video models) on "
    "loopback: both endpoint pairs, the service endpoints (logs, prices, keys, usage, billing), "
    "real MP4 results, and faults and off-schema replies on demand."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        help="divide the documented generation times by this (default 60: ~5.5 s per 5 s video)",
    )
    parser.add_argument(
        "--job-seconds", type=float, default=None, help="make every job take exactly this long"
    )
    parser.add_argument("--api-key", default=None, help="the key to accept (default: a new one)")
    parser.add_argument(
        "--management-key",
        default=None,
        help="the account's management key, for /v1/keys (default: a new one, not shown)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="generations the account may run at once (default: no limit); beyond it, 429",
    )
    parser.add_argument(
        "--faults", default="", help="fault spec, e.g. 'post:429=0.2,get:503=0.1,job#1:error'"
    )
    parser.add_argument(
        "--replies",
        default="",
        help="reply profile: off-schema shapes the real gateway sends, e.g. "
        "'video_list,error_detail' or 'real' (a seeded mix); default: schema-exact",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for ids, timings, faults")
    parser.add_argument("--video-width", type=int, default=640, help="width of rendered videos")
    parser.add_argument(
        "--logs-lag",
        type=float,
        default=0.0,
        help="seconds before a request shows in GET /v2/logs (default 0)",
    )
    parser.add_argument(
        "--credits-per-usd",
        type=float,
        default=1500.0,
        help="credits per USD of a price (default 1500: 420 credits per second of v2.1 master)",
    )
    parser.add_argument(
        "--balance", type=float, default=10_000.0, help="the account's balance in USD"
    )
    parser.add_argument(
        "--registry",
        default=None,
        help="a folder shared with other emulators, which then answer for each other's "
        "generations (the demo emulators use one per user under the temp folder)",
    )


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``emulator`` subcommand to an ``argparse`` subparsers object.

    Like the project's other subcommands it sets ``run``: ``args.run(args)`` serves until Ctrl-C.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="serve an offline emulator of the gateway", description=DESCRIPTION
    )
    add_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 0 on Ctrl-C (or SIGTERM), 1 if the server cannot start."""
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            time_scale=args.time_scale,
            job_seconds=args.job_seconds,
            api_key=args.api_key,
            management_key=args.management_key,
            concurrency=args.concurrency,
            faults=args.faults,
            replies=args.replies,
            seed=args.seed,
            video_width=args.video_width,
            logs_lag=args.logs_lag,
            credits_per_usd=args.credits_per_usd,
            balance=args.balance,
            registry=args.registry,
        ).start()
    except (OSError, ValueError) as error:
        print(f"emulator: cannot start: {error}", file=sys.stderr)
        return 1
    print(f"Emulator at {emulator.base_url}  key: {emulator.api_key}", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kling_notebook.emulator", description=DESCRIPTION
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
