"""Pick up every unfinished generation after a crash or a kernel restart: wait, save, report.

Nothing is ever submitted here. Status reads and downloads are free, so resuming can only
recover what was paid for: each pending journal entry is waited for and downloaded (a completed
one whose file is missing is downloaded again, from a freshly fetched URL, continuing the part an
earlier download left), partial downloads nobody will finish are deleted, and each attempt whose
outcome is uncertain is listed with what the user must check before paying again (and how to
record the answer: :mod:`kling_notebook.runtime.settle`).

The journal records the base URL and endpoint pair of every generation, never the key, so entries
made against another base URL get a client of their own with the key from the argument or the
environment. Demo generations live in an emulator that ends with its process: when their loopback
server is gone they are reported as not resumable instead of being waited for until a deadline.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..domain import errors
from ..domain.events import JobEvent
from ..domain.generation import GenerationResult
from ..domain.polling import PollPolicy
from ..gateway.settings import Endpoint
from ..store.history import HistoryItem, request_from_summary
from ..store.journal import SUBMITTING, Journal, JournalEntry
from ..store.outputs import resolve_out_dir
from ..store.partials import sweep
from .batch import BatchEvent, BatchHandler
from .client import AsyncKlingClient
from .connect import connect
from .engine import run_blocking
from .jobs import live_generation_ids
from .pipeline import finish_generation

__all__ = [
    "NotResumableError",
    "ResumeFailure",
    "ResumeReport",
    "UncertainEntry",
    "is_loopback",
    "resume",
    "resume_async",
]

_LOOPBACK = ("localhost", "::1")
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


@dataclass(frozen=True)
class ResumeFailure:
    """A pending generation that could not be recovered this time, and why (a typed error)."""

    entry: JournalEntry
    error: Exception


@dataclass(frozen=True)
class UncertainEntry:
    """An attempt that may have created (and charged) a generation whose id we never received."""

    entry: JournalEntry

    @property
    def advice(self) -> str:
        """What the user must check, in one paragraph."""
        item = HistoryItem(self.entry)
        what = f"prompt {item.prompt!r}" if item.prompt else "no prompt"
        why = (
            "the process stopped while submitting"
            if self.entry.status == SUBMITTING
            else self.entry.error or "no answer"
        )
        row = self.entry.row
        return (
            f"Row {row}: submitted at {self.entry.created_at} ({what}, {item.duration or '?'} s) "
            f"to {self.entry.base_url}; the outcome is unknown ({why}). Check your account's "
            "generations for one created then: if it exists, record its id with "
            f"`kling-notebook resolve {row} --id ID` and resume saves it; if not, record that "
            f"with `kling-notebook resolve {row} --not-created`, and submitting again is safe. "
            "Resume never resubmits it."
        )


@dataclass(frozen=True)
class ResumeReport:
    """What a resume recovered, what failed (typed errors) and what the user must check."""

    recovered: tuple[GenerationResult, ...]
    failures: tuple[ResumeFailure, ...]
    uncertain: tuple[UncertainEntry, ...]

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
        lines += [f"  saved {result.path} ({result.id})" for result in self.recovered]
        lines += [f"  failed {f.entry.generation_id}: {f.error}" for f in self.failures]
        lines += [f"  uncertain: {u.advice}" for u in self.uncertain]
        return "\n".join(lines)


def is_loopback(base_url: str) -> bool:
    """Whether ``base_url`` points at this machine: a local emulator, which ends with its process."""
    host = urlsplit(base_url).hostname or ""
    return host.startswith("127.") or host in _LOOPBACK


async def _reachable(base_url: str) -> bool:
    """Whether anything listens at ``base_url`` (a quick TCP connect, no request sent)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port), _PROBE_TIMEOUT
        )
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


class _Clients:
    """One client per (base URL, endpoint) found in the journal, all recording to one journal."""

    def __init__(self, given: AsyncKlingClient | None, folder: Path, api_key: str | None) -> None:
        self.folder = folder
        self.api_key = api_key
        self.given = given
        shared = given.journal if given is not None and given.out_dir == folder else None
        self.journal = shared or Journal.in_dir(folder)
        self._owns_journal = shared is None
        self._made: list[AsyncKlingClient] = []
        # None: a loopback emulator that is gone; an error: no client can be made (no key).
        self._by_target: dict[tuple[str, str], AsyncKlingClient | errors.KlingError | None] = {}

    def _default(self) -> AsyncKlingClient:
        if self.given is None:
            self.given = connect(self.api_key, out_dir=self.folder, journal=self.journal)
            self._made.append(self.given)
        return self.given

    async def prepare(self, entries: Sequence[JournalEntry]) -> None:
        for entry in entries:
            target = (entry.base_url, entry.endpoint)
            if target not in self._by_target:
                try:
                    self._by_target[target] = await self._make(*target)
                except errors.KlingError as exc:
                    self._by_target[target] = exc

    async def _make(self, base_url: str, endpoint: str) -> AsyncKlingClient | None:
        if is_loopback(base_url) and not await _reachable(base_url):
            return None
        default = self._default()
        same_target = (default.base_url, default.endpoint) == (base_url, endpoint)
        if same_target and default.journal is self.journal:
            return default
        endpoint_name: Endpoint = "legacy" if endpoint == "legacy" else "universal"
        client = AsyncKlingClient(
            self.api_key,
            base_url,
            endpoint_name,
            out_dir=self.folder,
            journal=self.journal,
            # An emulator's sped-up schedule must never reach the real gateway.
            poll=default.poll if is_loopback(base_url) else PollPolicy(),
            retry=default.retry,
        )
        self._made.append(client)
        return client

    def client_for(self, entry: JournalEntry) -> AsyncKlingClient:
        found = self._by_target[(entry.base_url, entry.endpoint)]
        if found is None:
            raise NotResumableError(entry.generation_id or "", entry.base_url)
        if isinstance(found, errors.KlingError):
            raise found
        return found

    async def close(self) -> None:
        for client in self._made:
            await client.aclose()
        if self._owns_journal:
            self.journal.close()


async def _recover(
    clients: _Clients,
    index: int,
    entry: JournalEntry,
    gate: asyncio.Semaphore,
    on_event: BatchHandler | None,
    timeout: float | None,
) -> GenerationResult | ResumeFailure:
    def tagged(event: JobEvent) -> None:
        if on_event is not None:
            on_event(BatchEvent(index, event))

    assert entry.generation_id is not None  # pending() only lists entries with an id
    async with gate:
        try:
            client = clients.client_for(entry)
        except errors.KlingError as exc:
            tagged(
                JobEvent(
                    phase="failed",
                    elapsed=0.0,
                    generation_id=entry.generation_id,
                    error=exc,
                    message=str(exc),
                )
            )
            return ResumeFailure(entry, exc)
        try:
            return await finish_generation(
                client,
                entry.generation_id,
                duration=HistoryItem(entry).duration,
                request=request_from_summary(entry.request),
                out_dir=clients.folder,
                timeout=timeout,
                on_event=tagged,
            )
        except (errors.KlingError, OSError) as exc:
            return ResumeFailure(entry, exc)


async def resume_async(
    client: AsyncKlingClient | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    on_event: BatchHandler | None = None,
    concurrency: int = 4,
    timeout: float | None = None,
    entries: Sequence[JournalEntry] | None = None,
) -> ResumeReport:
    """Wait for and save every unfinished generation in the journal of ``out_dir`` (default: the
    client's folder, else ``$KLING_NOTEBOOK_OUTPUTS`` or ``./kling_outputs``).

    ``client`` defaults to :func:`kling_notebook.runtime.connect.connect` (the key from ``api_key`` or the
    environment; demo mode without one). ``entries`` narrows the work to those pending entries
    (the panel passes the ones it lists, leaving out generations it is still waiting for itself);
    by default every pending entry is resumed but those a running job of this process is already
    waiting for (a panel's, say: resuming them too would save each video twice). ``on_event``
    gets every job's events tagged with its place in the pending list (``entries`` when given).
    Never submits anything.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    folder = resolve_out_dir(out_dir if out_dir is not None else client.out_dir if client else None)
    clients = _Clients(client, folder, api_key)
    try:
        if entries is not None:
            pending = list(entries)
        else:
            live = live_generation_ids()
            pending = [entry for entry in clients.journal.pending() if entry.generation_id not in live]
        uncertain = tuple(UncertainEntry(entry) for entry in clients.journal.uncertain_entries())
        await clients.prepare(pending)
        gate = asyncio.Semaphore(concurrency)
        outcomes = await asyncio.gather(
            *(
                _recover(clients, i, entry, gate, on_event, timeout)
                for i, entry in enumerate(pending)
            )
        )
        report = ResumeReport(
            recovered=tuple(o for o in outcomes if isinstance(o, GenerationResult)),
            failures=tuple(o for o in outcomes if isinstance(o, ResumeFailure)),
            uncertain=uncertain,
        )
        sweep(clients.journal, [f.entry.generation_id or "" for f in report.not_resumable])
    finally:
        await clients.close()
    return report


def resume(client: AsyncKlingClient | None = None, **options: Any) -> ResumeReport:
    """Blocking :func:`resume_async` (runs on the engine loop; works inside a notebook cell)."""
    return run_blocking(resume_async(client, **options))
