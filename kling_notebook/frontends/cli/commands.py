"""``kling-notebook``: generate, check and pick up generations from a terminal.

Progress goes to stderr, results (paths, ids, JSON) to stdout, and the exit code says what went
wrong, so scripts can react (e.g. 7 = the submission is uncertain: do not blindly run it again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ...domain import errors
from ...domain.cost import Budget, cost_notice, credits_text
from ...domain.generation import GenerationResult
from ...domain.models import DEFAULT_MODEL
from ...domain.request import MAX_PROMPT_CHARS, PROVIDERS, GenerationRequest
from ...runtime.client import AsyncKlingClient
from ...runtime.connect import connect
from ..textprogress import TextProgress
from .arguments import usd
from .exits import INTERRUPTED, UNEXPECTED, exit_code, exit_codes_help
from .options import (
    Formatter,
    Parser,
    add_connection_options,
    finish_subcommands,
    require_key_or_demo,
)

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _client(args: argparse.Namespace, **options: Any) -> AsyncKlingClient:
    """The key comes only from the environment: a key on the command line ends up in shell history."""
    require_key_or_demo(args.demo, args.base_url)
    client = connect(demo=args.demo, base_url=args.base_url, endpoint=args.endpoint, out_dir=args.out, **options)
    print(f"kling-notebook: {client.mode_label}", file=sys.stderr)
    return client


async def _generate(args: argparse.Namespace) -> int:
    request = GenerationRequest(
        image=args.image,
        prompt=args.prompt,
        duration=args.duration,
        negative_prompt=args.negative_prompt,
        cfg_scale=args.cfg_scale,
        provider=args.provider,
        image_encoding="raw" if args.raw_base64 else None,  # None: a data URI
        model=args.model,
        end_image=args.end_image,
        generate_audio=args.audio,
    )
    budget = Budget(usd=args.budget) if args.budget is not None else None  # the client refuses past it
    async with _client(args, budget=budget) as client:
        estimate = await client.estimate(request)
        notice = cost_notice(estimate, demo=client.demo, charged_when="when it is submitted")
        print(f"kling-notebook: {notice}", file=sys.stderr)
        if budget is not None and not client.demo:
            budget.check(estimate)  # refused before any progress: nothing is checked or sent
        result = await client.generate(request, timeout=args.timeout, on_event=TextProgress())
    _print_result(args, _saved(result), client.demo)
    return 0


async def _status(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        generation = await client.get(args.id)
    fields = {
        "id": generation.id,
        "status": generation.status,
        "video_url": generation.video_url,
        "error": generation.error_message,
        "credits_used": generation.credits_used,
    }
    _print_result(args, fields, client.demo)
    return 0


async def _wait(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        job = client.runner.resume(args.id, duration=args.duration, timeout=args.timeout, on_event=TextProgress())
        result = await job.wait()
    _print_result(args, _saved(result), client.demo)
    return 0


def _saved(result: GenerationResult) -> dict[str, Any]:
    return {"id": result.id, "path": str(result.path), "credits_used": result.generation.credits_used}


def _print_result(args: argparse.Namespace, fields: dict[str, Any], simulated: bool) -> None:
    """Demo-mode credits are labelled simulated (in JSON: ``"simulated": true`` beside them)."""
    if args.json:
        print(json.dumps({**fields, "simulated": True} if simulated else fields))
    else:
        for key, value in fields.items():
            if value is not None:
                shown = credits_text(value, simulated=simulated) if key == "credits_used" else value
                print(f"{key}: {shown}")


DESCRIPTION = """\
Make videos from images with Kling image-to-video models, through the AI/ML API gateway.

The API key is read from the environment (AIMLAPI_KEY, AIML_API_KEY or AIMLAPI_API_KEY), never
from an option. Without a key and without a base URL, every command runs in demo mode: a local
emulator makes simulated videos from your image, and nothing is charged.
"""

EXAMPLES = """\
examples:
  kling-notebook generate --image notebooks/images/mushroom.jpg --prompt "the mushroom sways"
  kling-notebook models                  # the models, their fields, durations and prices
  kling-notebook history                 # what was made here, newest first
  kling-notebook resume                  # after a crash: save every unfinished generation
  kling-notebook emulator --port 8000    # a local stand-in for the gateway

"""


def build_parser() -> argparse.ArgumentParser:
    from ... import __version__

    parser = Parser(
        prog="kling-notebook",
        description=DESCRIPTION,
        epilog=EXAMPLES + exit_codes_help(),
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser(
        "generate",
        help="submit an image, wait, and save the video (the paid command)",
        description="Check the request, show the estimated cost, submit it (this costs credits "
        "unless in demo mode), wait for the video and save it with a JSON sidecar.",
    )
    gen.add_argument(
        "--image", required=True, metavar="FILE_OR_URL", help="the first frame: a local jpg/png file or an http(s) URL"
    )
    gen.add_argument(
        "--prompt",
        default=None,
        metavar="TEXT",
        help=f"what should happen in the video, at most {MAX_PROMPT_CHARS} characters (default: none)",
    )
    gen.add_argument(
        "--negative-prompt", default=None, metavar="TEXT", help="what the video should avoid (default: none)"
    )
    gen.add_argument(
        "--duration",
        type=int,
        default=5,
        metavar="SECONDS",
        help="video length: 5 or 10 (3 to 15 on v3 models) (default: 5)",
    )
    gen.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model id (default: {DEFAULT_MODEL}; see `kling-notebook models`)"
    )
    gen.add_argument(
        "--end-image",
        default=None,
        metavar="FILE_OR_URL",
        help="the last frame, on models with an end frame (default: none)",
    )
    gen.add_argument(
        "--audio",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="audio with the video, on models that take generate_audio (default: the model's, on)",
    )
    gen.add_argument(
        "--cfg-scale",
        type=float,
        default=None,
        metavar="0..1",
        help="how closely to follow the prompt (default: the gateway's, 0.5; v2.x models ignore it)",
    )
    gen.add_argument(
        "--provider",
        choices=PROVIDERS,
        default=None,
        help="who runs the model behind the gateway: auto tries Kling itself, then the fal "
        "mirror (default: the gateway's choice, auto)",
    )
    gen.add_argument(
        "--raw-base64",
        action="store_true",
        help="send a local image as bare base64 instead of a data: URI (what Kling's own API takes)",
    )
    gen.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop waiting after this long; the generation goes on and `wait ID` picks it up "
        "(default: 15 min for a 5 s video, 30 min for 10 s)",
    )
    gen.add_argument(
        "--budget",
        type=usd,
        default=None,
        metavar="USD",
        help="refuse to submit when the estimated cost is more than this (default: no limit; demo "
        "mode costs nothing)",
    )
    gen.set_defaults(run=_generate)

    status = commands.add_parser(
        "status",
        help="show a generation's current status (a free read)",
        description="One status read of a generation: free, and nothing is written.",
    )
    status.add_argument("id", help="the generation id (from `generate`, `history` or your account)")
    status.set_defaults(run=_status)

    wait = commands.add_parser(
        "wait",
        help="wait for a submitted generation and save its video",
        description="Pick up a generation by its id (after a timeout, a crash, or from another "
        "machine), wait for it and save its video. Nothing is submitted.",
    )
    wait.add_argument("id", help="the generation id (from `generate`, `history` or your account)")
    wait.add_argument(
        "--duration",
        type=int,
        choices=range(1, 16),
        default=None,
        metavar="SECONDS",
        help="the video's length, for the poll schedule and the deadline (default: what the "
        "journal recorded, else 5)",
    )
    wait.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop waiting after this long (default: 15 min for a 5 s video, 30 min for 10 s)",
    )
    wait.set_defaults(run=_wait)

    for sub in (gen, status, wait):
        add_connection_options(sub)
        sub.add_argument("--json", action="store_true", help="print the result as JSON")

    from ...emulator._cli import register
    from .classroom import register as register_class
    from .journal import register as register_journal
    from .models import register as register_models

    register_journal(commands)
    register_models(commands)
    register_class(commands)
    register(commands)
    finish_subcommands(parser, commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Command | Callable[[argparse.Namespace], int] = args.run
    try:
        outcome = run(args)
        if asyncio.iscoroutine(outcome):
            return asyncio.run(outcome)
        return int(outcome)
    except KeyboardInterrupt:
        print("\ninterrupted: a submitted generation keeps running; `kling-notebook resume` picks it up",
              file=sys.stderr)
        return INTERRUPTED
    except errors.KlingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except OSError as exc:  # a file the user named, a folder that cannot be written
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}.", file=sys.stderr)
        return exit_code(errors.StorageError(str(exc)))
    except Exception as exc:  # a bug: one line, not a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc} (a bug in kling-notebook: please report it)",
              file=sys.stderr)
        return UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
