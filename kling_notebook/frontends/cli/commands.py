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
from ...domain.request import GenerationRequest
from ...runtime.client import AsyncKlingClient
from ...runtime.connect import connect
from ..textprogress import TextProgress
from .arguments import usd
from .exits import exit_code

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="gateway base URL (default: $AIMLAPI_BASE_URL or the public API)")
    parser.add_argument("--endpoint", choices=("universal", "legacy"), default="universal")
    parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use the built-in emulator (default: only when no API key is set)",
    )
    parser.add_argument("--out", default=None, help="output folder (default: $KLING_NOTEBOOK_OUTPUTS or ./kling_outputs)")


def _client(args: argparse.Namespace, **options: Any) -> AsyncKlingClient:
    """The key comes only from the environment: a key on the command line ends up in shell history."""
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
        notice = cost_notice(await client.estimate(request), demo=client.demo, charged_when="when it is submitted")
        print(f"kling-notebook: {notice}", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kling-notebook",
        description="Kling image-to-video (v2.1 master by default) through the AI/ML API gateway. The key is read "
        "from AIMLAPI_KEY / AIML_API_KEY / AIMLAPI_API_KEY; without one, demo mode is used.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="submit an image, wait, and save the video")
    gen.add_argument("--image", required=True, help="http(s) URL or local jpg/png file")
    gen.add_argument("--prompt", default=None)
    gen.add_argument("--negative-prompt", default=None)
    gen.add_argument(
        "--duration", type=int, default=5, help="seconds: 5 or 10 (3 to 15 on v3 models)"
    )
    gen.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL}; see `kling-notebook models`)"
    )
    gen.add_argument("--end-image", default=None, help="the last frame: URL or local file (models with an end frame)")
    gen.add_argument(
        "--audio", action=argparse.BooleanOptionalAction, default=None,
        help="audio with the video (models that take generate_audio; their default is on)",
    )
    gen.add_argument("--cfg-scale", type=float, default=None)
    gen.add_argument("--provider", choices=("auto", "kling", "klingai", "fal"), default=None)
    gen.add_argument(
        "--raw-base64",
        action="store_true",
        help="send a local image as bare base64 instead of a data: URI (what Kling's own API takes)",
    )
    gen.add_argument("--timeout", type=float, default=None, help="seconds to wait (default 15/30 min)")
    gen.add_argument(
        "--budget",
        type=usd,
        default=None,
        metavar="USD",
        help="refuse to submit when the estimated cost is more than this (demo mode costs nothing)",
    )
    gen.set_defaults(run=_generate)

    status = commands.add_parser("status", help="show a generation's current status")
    status.add_argument("id")
    status.set_defaults(run=_status)

    wait = commands.add_parser("wait", help="wait for a submitted generation and save its video")
    wait.add_argument("id")
    wait.add_argument("--duration", type=int, choices=range(1, 16), default=None, metavar="SECONDS")
    wait.add_argument("--timeout", type=float, default=None)
    wait.set_defaults(run=_wait)

    for sub in (gen, status, wait):
        _add_connection_options(sub)
        sub.add_argument("--json", action="store_true", help="print the result as JSON")

    from ...emulator._cli import register
    from .classroom import register as register_class
    from .journal import register as register_journal
    from .models import register as register_models

    register_journal(commands)
    register_models(commands)
    register_class(commands)
    register(commands)
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
        return 130
    except errors.KlingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
