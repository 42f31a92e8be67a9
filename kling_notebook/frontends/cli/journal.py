"""``kling-notebook resume``, ``settle`` and ``history``: the journal from a terminal.

Registered by :func:`kling_notebook.frontends.cli.commands.build_parser`; the same conventions hold: progress on
stderr, results on stdout (``--json`` for scripts), and an exit code per error kind.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ...domain import errors
from ...domain.events import JobEvent, describe
from ...runtime.jobs import Job
from ...runtime.resume import NotResumableError, ResumeReport, resume_async
from ...runtime.settle import settle_uncertain
from ...store.history import HistoryItem, load_history
from ...store.journal import FOUND, Journal
from .arguments import positive
from .exits import exit_code
from .options import BASE_URL_HELP, ENDPOINT_HELP, OUT_HELP, journal_folder, require_key_or_demo

__all__ = ["register"]

_PROMPT_CHARS = 48


class _ManyProgress:
    """One stderr line per phase change of each job, prefixed with its place in the list."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._count = 0

    def __call__(self, job: Job) -> None:
        """Follow ``job`` (the next one resumed)."""
        self._count += 1
        place = self._count
        last: list[str] = []

        def show(event: JobEvent) -> None:
            if last == [event.phase] and not event.is_final:
                return
            last[:] = [event.phase]
            detail = f"{event.phase} | {event.message}" if event.phase == "failed" else describe(event)
            self.stream.write(f"[{place}] {detail}\n")
            self.stream.flush()

        job.subscribe(show)


def _report_json(report: ResumeReport) -> dict[str, Any]:
    return {
        "recovered": [{"id": r.id, "path": str(r.path)} for r in report.recovered],
        "failed": [
            {"id": f.entry.generation_id, "error": type(f.error).__name__, "message": str(f.error)}
            for f in report.failures
        ],
        "uncertain": [
            {"row": u.entry.row, "created_at": u.entry.created_at, "advice": u.advice}
            for u in report.uncertain
        ],
        "settled": [
            {"row": s.entry.row, "verdict": s.verdict, "detail": s.detail} for s in report.settled
        ],
    }


def _resume_exit_code(report: ResumeReport) -> int:
    """The first actionable failure's code; 7 while uncertain attempts await the user's check.
    Demo generations whose emulator is gone are reported but need nothing, so they exit 0."""
    actionable = [f.error for f in report.failures if not isinstance(f.error, NotResumableError)]
    if actionable:
        return exit_code(actionable[0])
    if report.uncertain:
        return exit_code(errors.SubmissionUncertainError("check the uncertain attempts"))
    return 0


async def _resume(args: argparse.Namespace) -> int:
    folder, has_journal = journal_folder(args.out)
    if not has_journal:
        if args.json:
            print(json.dumps(_report_json(ResumeReport((), (), ()))))
        else:
            print(f"Nothing to resume: no journal in {folder}.")
        return 0
    require_key_or_demo(None, args.base_url)
    report = await resume_async(
        out_dir=folder,
        on_job=_ManyProgress(),
        concurrency=args.concurrency,
        timeout=args.timeout,
        base_url=args.base_url,
        endpoint=args.endpoint,
    )
    print(json.dumps(_report_json(report)) if args.json else report)
    return _resume_exit_code(report)


def _settle(args: argparse.Namespace) -> int:
    folder, has_journal = journal_folder(args.out)
    if not has_journal:
        raise errors.ValidationError("--out", str(folder), "no journal there, so no row to settle")
    entry = settle_uncertain(
        args.row, generation_id=args.id, not_created=args.not_created, out_dir=folder
    )
    if args.json:
        print(json.dumps({"row": entry.row, "status": entry.status, "id": entry.generation_id}))
    elif entry.status == FOUND:
        print(f"row {entry.row}: {entry.generation_id}; `kling-notebook resume` saves its video")
    elif entry.generation_id is None:
        print(f"row {entry.row}: recorded as not created; no longer listed")
    else:  # folded into the row `wait ID` made for the same generation
        print(f"row {entry.row}: {entry.generation_id}, already {entry.status}")
    return 0


def _history_line(item: HistoryItem) -> str:
    prompt = (
        item.prompt
        if len(item.prompt) <= _PROMPT_CHARS
        else item.prompt[: _PROMPT_CHARS - 3] + "..."
    )
    credits = f"{item.credits:g} credits" if item.credits is not None else "credits ?"
    return " | ".join(
        [
            item.entry.created_at[:19].replace("T", " "),
            item.status,
            f"{item.duration or '?'} s",
            credits,
            item.generation_id or "(no id)",
            repr(prompt),
            str(item.video or ""),
        ]
    )


def _history(args: argparse.Namespace) -> int:
    folder, has_journal = journal_folder(args.out)
    items: list[HistoryItem] = []
    if has_journal:
        with Journal.in_dir(folder) as journal:
            items = load_history(journal, limit=args.limit)
    if not items and not args.json:
        where = "" if has_journal else " (it has no journal)"
        print(f"No generations yet in {folder}{where}.")
    elif args.json:
        rows = [
            {
                "id": i.generation_id,
                "status": i.entry.status,
                "created_at": i.entry.created_at,
                "prompt": i.prompt,
                "duration": i.duration,
                "credits_used": i.credits,
                "path": str(i.video) if i.video else None,
            }
            for i in items
        ]
        print(json.dumps(rows))
    else:
        for item in items:
            print(_history_line(item))
    return 0


def register(commands: Any) -> None:
    """Add ``resume``, ``settle`` and ``history`` to the CLI's subcommands."""
    resume = commands.add_parser(
        "resume",
        help="wait for and save every unfinished generation in the journal (never resubmits)",
        description="Read the journal of the outputs folder, wait for every unfinished "
        "generation and save its video, and list the uncertain submissions with what to check. "
        "Nothing is ever submitted.",
    )
    resume.add_argument("--out", default=None, metavar="FOLDER", help=OUT_HELP)
    resume.add_argument("--base-url", metavar="URL", help=BASE_URL_HELP)
    resume.add_argument("--endpoint", choices=("universal", "legacy"), default="universal", help=ENDPOINT_HELP)
    resume.add_argument(
        "--concurrency", type=positive, default=4, metavar="N", help="wait for at most N at once (default: 4)"
    )
    resume.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop waiting for each after this long (default: 15 min for a 5 s video, 30 min for 10 s)",
    )
    resume.add_argument("--json", action="store_true", help="print the report as JSON")
    resume.set_defaults(run=_resume)

    settle = commands.add_parser(
        "settle",
        help="record what you found for an uncertain submission (the rows `resume` lists)",
        description="An uncertain submission may or may not have created a generation. Once you "
        "have checked your account's generations list, record the verdict: the id you found "
        "(`resume` then saves its video) or that nothing was created.",
    )
    settle.add_argument("row", type=int, help="the journal row of the uncertain attempt (`resume` lists them)")
    outcome = settle.add_mutually_exclusive_group(required=True)
    outcome.add_argument(
        "--id", help="the generation your account lists for it: `resume` then saves its video"
    )
    outcome.add_argument(
        "--not-created", action="store_true", help="nothing was created: stop listing it"
    )
    settle.add_argument("--out", default=None, metavar="FOLDER", help=OUT_HELP)
    settle.add_argument("--json", action="store_true", help="print the entry as JSON")
    settle.set_defaults(run=_settle)

    history = commands.add_parser(
        "history",
        help="list past generations, newest first",
        description="Every generation in the journal of the outputs folder: when, status, "
        "length, credits, id, prompt and saved file. Reads only; nothing is created.",
    )
    history.add_argument("--out", default=None, metavar="FOLDER", help=OUT_HELP)
    history.add_argument(
        "--limit", type=positive, default=50, metavar="N", help="show at most N (default: 50)"
    )
    history.add_argument("--json", action="store_true", help="print the list as JSON")
    history.set_defaults(run=_history)
