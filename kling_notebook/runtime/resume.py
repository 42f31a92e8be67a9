"""Resume every unfinished generation after a crash or a kernel restart: wait, save, report.

Nothing is ever submitted here. Status reads and downloads are free, so resuming can only
recover what was paid for: each unfinished journal entry is waited for and downloaded (a completed
one whose file is missing is downloaded again, from a freshly fetched URL, continuing the part an
earlier download left), partial downloads nobody will finish are deleted, and each attempt whose
outcome is uncertain is listed with what the user must check before paying again (and how to
record the answer: :mod:`kling_notebook.runtime.settle`).

What can be done about each entry is decided in one place, :func:`survey`, which the panel and the
CLI both only draw: a job of this process may already be waiting for it (left to that job); it
may come from a local emulator that has stopped (demo generations end with their process and cost
nothing); it may have been made through another gateway address (the journal keeps the address,
never the key, and a key is only sent to the address it was configured for); else this client
resumes it. Resumed generations are jobs of the client's runner, so they count against the same
concurrency cap as everything else it runs.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..domain import errors
from ..domain.errors import shell_quote
from ..domain.generation import GenerationResult
from ..gateway.client import GatewayClient
from ..gateway.settings import is_loopback
from ..store.claims import held_elsewhere
from ..store.history import HistoryItem, request_from_summary
from ..store.journal import SUBMITTING, Journal, JournalEntry
from ..store.outputs import find_out_dir
from ..store.partials import remove_abandoned
from ..store.processes import is_running
from .client import AsyncKlingClient
from .connect import connect
from .engine import run_blocking
from .jobs import Job, live_generation_ids
from .settle import Settled, settle_from_logs

__all__ = [
    "ElsewhereError",
    "NotResumableError",
    "ResumeFailure",
    "ResumeReport",
    "Survey",
    "UncertainEntry",
    "is_here",
    "resume",
    "resume_async",
    "survey",
]

_PROBE_TIMEOUT = 2.0


class NotResumableError(errors.KlingError):
    """The generation lived in a local emulator (demo mode) that is no longer running."""

    def __init__(self, generation_id: str, base_url: str) -> None:
        self.generation_id = generation_id
        super().__init__(
            f"{generation_id} was made by the emulator at {base_url}, which is no longer running.",
            hint="Demo generations end with the process that made them and cost nothing; "
            "generate again to get a new one.",
        )


class ElsewhereError(errors.KlingError):
    """The generation was made through another gateway address than this client's: a key is only
    ever sent to the address it was configured for, so it is resumed by a client for that one."""

    def __init__(self, generation_id: str, base_url: str, endpoint: str) -> None:
        self.generation_id = generation_id
        self.base_url = base_url
        super().__init__(
            f"{generation_id} was made through {base_url} ({endpoint} endpoint), not this client's address.",
            hint=f"Resume it with the key for that gateway and AIMLAPI_BASE_URL={shell_quote(base_url)}"
            + (" and --endpoint legacy" if endpoint == "legacy" else "") + ".",
        )


@dataclass(frozen=True)
class ResumeFailure:
    """An unfinished generation that could not be recovered this time, and why (a typed error)."""

    entry: JournalEntry
    error: BaseException


@dataclass(frozen=True)
class UncertainEntry:
    """An attempt that may have created (and charged) a generation whose id we never received."""

    entry: JournalEntry

    @property
    def advice(self) -> str:
        """What the user must check, in one paragraph."""
        item = HistoryItem(self.entry)
        what = f"prompt {item.prompt!r}" if item.prompt else "no prompt"
        if self.entry.status != SUBMITTING:
            why = self.entry.error or "no answer"
        elif is_running(self.entry.submitter) is False:
            why = "the process that sent it stopped before its answer was recorded"
        else:
            why = "no answer was recorded"
        row = self.entry.row
        return (
            f"Row {row}: submitted at {self.entry.created_at} ({what}, {item.duration or '?'} s) "
            f"to {self.entry.base_url}; the outcome is unknown ({why}). Check your account's "
            "generations for one created then: if it exists, record its id with "
            f"`kling-notebook settle {row} --id ID` and resume saves it; if it does not, record "
            f"that with `kling-notebook settle {row} --not-created`. Resume never resubmits it."
        )


@dataclass(frozen=True)
class ResumeReport:
    """What a resume recovered, what failed (typed errors) and what the user must check."""

    recovered: tuple[GenerationResult, ...]
    failures: tuple[ResumeFailure, ...]
    uncertain: tuple[UncertainEntry, ...]
    #: Uncertain attempts looked up in the gateway's logs first, and what they said.
    settled: tuple[Settled, ...] = ()

    @property
    def not_resumable(self) -> list[ResumeFailure]:
        return [
            failure for failure in self.failures if isinstance(failure.error, NotResumableError)
        ]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.uncertain

    def __str__(self) -> str:
        lines = [
            f"resume: {len(self.recovered)} recovered, {len(self.failures)} failed, "
            f"{len(self.uncertain)} uncertain"
        ]
        lines += [f"  settled by the gateway's logs: {outcome}" for outcome in self.settled]
        lines += [f"  saved {result.path} ({result.id})" for result in self.recovered]
        lines += [f"  failed {f.entry.generation_id}: {f.error}" for f in self.failures]
        lines += [f"  uncertain: {u.advice}" for u in self.uncertain]
        return "\n".join(lines)


async def _reachable(base_url: str) -> bool:
    """Whether anything listens at ``base_url`` (a quick TCP connect, no request sent)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), _PROBE_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


def _generations(count: int) -> str:
    return f"{count} generation{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class Survey:
    """A journal's unfinished generations and uncertain attempts, sorted by what ``client`` can do."""

    #: This client resumes them (waiting and downloading are free).
    here: tuple[JournalEntry, ...]
    #: A job of this process (another panel, a cell) or of another process on this machine already
    #: waits for them: left to it.
    running: tuple[JournalEntry, ...]
    #: Made by a local emulator that has stopped (and not by the demo emulator, which answers for
    #: the demo emulators before it): nothing to save, nothing was paid.
    gone: tuple[JournalEntry, ...]
    #: Made through another gateway address: only a client for that address resumes them.
    elsewhere: tuple[JournalEntry, ...]
    #: Attempts that may have been paid without an id: the user (or the gateway's logs) settles them.
    uncertain: tuple[UncertainEntry, ...]
    #: Whether ``client`` runs on the local emulator (its notes then ask for a key).
    demo: bool = False

    @property
    def notes(self) -> list[str]:
        """One sentence per other address holding unfinished entries: how many, and what it takes."""
        notes = []
        if self.gone:
            notes.append(
                f"{_generations(len(self.gone))} from an earlier demo session: they cost nothing "
                "and cannot be resumed once that emulator has stopped."
            )
        groups = Counter((entry.base_url, entry.endpoint) for entry in self.elsewhere)
        for (base_url, endpoint), count in sorted(groups.items()):
            if self.demo and not is_loopback(base_url):
                need = "needs" if count == 1 else "need"
                notes.append(f"{_generations(count)} from the gateway ({base_url}) {need} your key; enter it above to resume them.")
            else:
                notes.append(
                    f"{_generations(count)} were made through {base_url} ({endpoint} endpoint); the key is "
                    "never sent to another address, so resume them with the key for that gateway "
                    f"(AIMLAPI_BASE_URL={shell_quote(base_url)} kling-notebook resume)."
                )
        return notes


def is_here(entry: JournalEntry, client: GatewayClient) -> bool:
    """Whether ``entry`` was made through ``client``'s base URL and endpoint (its key may resume it)."""
    return (entry.base_url, entry.endpoint) == (client.base_url, client.endpoint)


async def survey(journal: Journal, client: GatewayClient, *, shown: Iterable[str] = ()) -> Survey:
    """Sort ``journal``'s unfinished entries for ``client`` (see :class:`Survey`), leaving out
    the generation ids in ``shown`` (a panel's own running jobs, drawn as rows already)."""
    unfinished = await journal.run(journal.unfinished)
    lost = await journal.run(journal.uncertain_entries)
    live = live_generation_ids()
    skip = set(shown)
    here: list[JournalEntry] = []
    running: list[JournalEntry] = []
    gone: list[JournalEntry] = []
    elsewhere: list[JournalEntry] = []
    reachable: dict[str, bool] = {}
    for entry in unfinished:
        if entry.generation_id in skip:
            continue
        if entry.generation_id in live or held_elsewhere(journal.path.parent, entry.generation_id or ""):
            running.append(entry)
        elif is_here(entry, client):
            here.append(entry)
        elif is_loopback(entry.base_url):
            if entry.base_url not in reachable:
                reachable[entry.base_url] = await _reachable(entry.base_url)
            if reachable[entry.base_url]:
                elsewhere.append(entry)
            elif entry.demo and client.demo:  # this process's demo emulator answers for it
                here.append(entry)
            else:
                gone.append(entry)
        else:
            elsewhere.append(entry)
    return Survey(
        here=tuple(here),
        running=tuple(running),
        gone=tuple(gone),
        elsewhere=tuple(elsewhere),
        uncertain=tuple(UncertainEntry(entry) for entry in lost),
        demo=client.demo,
    )


async def resume_async(
    client: AsyncKlingClient | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    on_job: Callable[[Job], None] | None = None,
    timeout: float | None = None,
    entries: Sequence[JournalEntry] | None = None,
    **options: Any,
) -> ResumeReport:
    """Wait for and save every unfinished generation in the journal of ``client``'s folder (or,
    with no client, of ``out_dir``, else ``$KLING_NOTEBOOK_OUTPUTS`` or ``./kling_outputs``).

    ``client`` defaults to :func:`kling_notebook.runtime.connect.connect` (the key from
    ``api_key`` or the environment, demo mode without one; ``options`` such as ``concurrency``
    go to it). ``entries`` narrows the work to those unfinished entries (the panel passes the ones
    it lists); by default every entry :func:`survey` finds resumable here is resumed. ``on_job``
    is given each job as it starts. Never submits anything.
    """
    made = client is None
    if client is None:
        client = connect(api_key, out_dir=find_out_dir(out_dir), **options)
    elif out_dir is not None and find_out_dir(out_dir) != client.out_dir:
        raise errors.ConfigurationError(
            f"This client journals into {client.out_dir}, not {find_out_dir(out_dir)}.",
            hint="Resume another folder without a client (resume(out_dir=...)), or with a client made for it.",
        )
    journal = client.journal
    try:
        if journal is None:
            return ResumeReport((), (), ())
        lost = [u.entry for u in (await survey(journal, client)).uncertain if is_here(u.entry, client)]
        settled = tuple(await settle_from_logs(client, lost)) if lost else ()
        found = await survey(journal, client)
        chosen = list(entries) if entries is not None else list(found.here)
        jobs = []
        for entry in chosen:
            assert entry.generation_id is not None  # unfinished() only lists entries with an id
            job = client.runner.resume(
                entry.generation_id,
                duration=HistoryItem(entry).duration,
                request=request_from_summary(entry.request),
                out_dir=client.out_dir,
                timeout=timeout,
            )
            jobs.append(job)
            if on_job is not None:
                on_job(job)
        outcomes = await asyncio.gather(*(job.wait() for job in jobs), return_exceptions=True)
        failures = [
            ResumeFailure(entry, outcome)
            for entry, outcome in zip(chosen, outcomes, strict=True)
            if not isinstance(outcome, GenerationResult)
        ]
        if entries is None:
            failures += [ResumeFailure(e, NotResumableError(e.generation_id or "", e.base_url)) for e in found.gone]
            failures += [
                ResumeFailure(e, ElsewhereError(e.generation_id or "", e.base_url, e.endpoint)) for e in found.elsewhere
            ]
        gone = [entry.generation_id or "" for entry in found.gone]
        await journal.run(lambda: remove_abandoned(journal, gone))
        return ResumeReport(
            recovered=tuple(o for o in outcomes if isinstance(o, GenerationResult)),
            failures=tuple(failures),
            uncertain=found.uncertain,
            settled=settled,
        )
    finally:
        if made:
            await client.aclose()


def resume(client: AsyncKlingClient | None = None, **options: Any) -> ResumeReport:
    """Blocking :func:`resume_async` (runs on the engine loop; works inside a notebook cell)."""
    return run_blocking(resume_async(client, **options))
