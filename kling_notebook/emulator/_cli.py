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

#: Exit codes of ``emulator``, listed in its help.
EPILOG = """\
exit codes:
  0    stopped (Ctrl+C or SIGTERM)
  1    could not start (the port is taken, or an option's value is wrong)
  2    invalid usage
"""

DESCRIPTION = """\
Serve an offline stand-in for the AI/ML API gateway (the Kling image-to-video
models) on loopback: both endpoint pairs, the service endpoints (logs, prices,
keys, usage, billing), real MP4 results, and faults and off-schema replies on
demand. It prints its address and key, and how to point a client at them.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        help="divide the documented generation times by this (default: 60, about 5.5 s per 5 s video)",
    )
    parser.add_argument(
        "--job-seconds",
        type=float,
        default=None,
        help="make every job take exactly this many seconds (default: the documented time / --time-scale)",

    )
    parser.add_argument("--api-key", default=None, help="the key to accept (default: a new one, printed at start)")
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
        "--faults",
        default="",
        help="faults to inject, e.g. 'post:429=0.2,get:503=0.1,job#1:error' (default: none)",

    )
    parser.add_argument(
        "--replies",
        default="",
        help="reply profile: off-schema shapes the real gateway sends, e.g. "
        "'video_list,error_detail' or 'real' (a seeded mix); default: schema-exact",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for ids, timings and faults (default: random)")
    parser.add_argument("--video-width", type=int, default=640, help="width of rendered videos in px (default: 640)")
    parser.add_argument(
        "--logs-lag",
        type=float,
        default=0.0,
        help="seconds before a request shows in GET /v2/logs (default: 0)",
    )
    parser.add_argument(
        "--credits-per-usd",
        type=float,
        default=1500.0,
        help="credits per USD of a price (default: 1500, 420 credits per second of v2.1 master)",
    )
    parser.add_argument(
        "--balance", type=float, default=10_000.0, help="the account's balance in USD (default: 10000)"
    )
    parser.add_argument(
        "--registry",
        default=None,
        help="a folder shared with other emulators, which then answer for each other's "
        "generations (default: none; the demo emulators use one per user under the temp folder)",
    )


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``emulator`` subcommand to an ``argparse`` subparsers object.

    Like the project's other subcommands it sets ``run``: ``args.run(args)`` serves until Ctrl-C.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="serve an offline emulator of the gateway", description=DESCRIPTION, epilog=EPILOG
    )
    add_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _how_to_use(base_url: str, api_key: str) -> str:
    """What to do with the address and key just printed (on stderr: the first line of stdout
    stays the one line scripts read)."""
    return (
        "Point kling-notebook (or any client of the gateway) at it, in another terminal:\n"
        f"  export AIMLAPI_BASE_URL={base_url} AIMLAPI_KEY={api_key}\n"
        "  kling-notebook generate --image notebooks/images/mushroom.jpg --prompt 'the mushroom sways'\n"
        f"or in Python: kling_notebook.connect(api_key={api_key!r}, base_url={base_url!r})\n"
        "Stop it with Ctrl+C."
    )


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
    print(_how_to_use(emulator.base_url, emulator.api_key), file=sys.stderr, flush=True)
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
        prog="python -m kling_notebook.emulator",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
