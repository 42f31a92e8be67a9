"""``KlingPanel``: the whole tool in one cell, composed of the small views of this package.

The panel only wires views to the engine: it builds a :class:`GenerationRequest` from the
controls (the request's own validation decides what is allowed), hands it to a
:class:`~kling_notebook.runtime.jobs.JobRunner` (so the generation runs on the engine thread and the
kernel stays free) and gives each job a :class:`ProgressRow`. Widget callbacks may run on a
kernel subshell thread; they only read widgets, start jobs and schedule work on the engine loop.
A past request goes back into the controls with :meth:`KlingPanel.load_request` (the History
section's Re-run buttons), to be edited and generated again.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import warnings
from pathlib import Path

import ipywidgets as widgets

from ...domain.cost import DEFAULT_PRICES, PriceTable
from ...domain.errors import KlingError, ValidationError
from ...domain.events import JobEvent
from ...domain.generation import GenerationResult
from ...domain.images import KLING_LIMITS, is_url
from ...domain.request import GenerationRequest, IgnoredFieldWarning
from ...runtime.client import AsyncKlingClient
from ...runtime.connect import connect
from ...runtime.engine import in_engine_thread, run_blocking, spawn
from ...runtime.jobs import Job, live_generation_ids
from ...runtime.resume import Survey, is_here, survey
from ...runtime.settle import settle_uncertain
from ...store.history import HistoryItem, request_from_summary
from ...store.journal import FILENAME, Journal, JournalEntry
from ._controls import Controls
from ._generate import GenerateBar
from ._header import Header
from ._history_section import HistorySection
from ._html import note
from ._image import ImagePicker
from ._key import KeyField
from ._keycheck import CHECKING, KeyVerdict, check_key, not_checked
from ._pending import PendingView
from ._progress import ProgressRow
from ._repeat import RepeatGuard
from ._result import code_for
from ._style import PANEL_CLASS, spaced, stylesheet
from ._uncertain import UncertainView

__all__ = ["KlingPanel"]


class KlingPanel(widgets.VBox):
    """Image-to-video with Kling v2.1 master, in a notebook: ``KlingPanel()`` as a cell's last line.

    ``client``: an :class:`AsyncKlingClient` to use; otherwise one from
    ``kling_notebook.runtime.connect.connect(api_key, demo=demo)`` (demo mode when no key is configured).
    ``image``: a URL or file path to start with (default: the bundled demo image).
    """

    def __init__(
        self,
        client: AsyncKlingClient | None = None,
        *,
        api_key: str | None = None,
        demo: bool | None = None,
        image: str | os.PathLike[str] | None = None,
        prompt: str = "",
        duration: int = 5,
        out_dir: str | os.PathLike[str] | None = None,
        concurrency: int = 4,
        prices: PriceTable = DEFAULT_PRICES,
    ) -> None:
        self._out_dir = out_dir
        self._concurrency = concurrency
        self.prices = prices
        self.results: list[GenerationResult] = []
        self._lock = threading.Lock()
        self.header = Header()
        self.key = KeyField(self.use_key, self.use_demo)
        self.image = ImagePicker()
        self.controls = Controls()
        self.bar = GenerateBar(self._clicked)
        self.repeats = RepeatGuard()
        self.rows = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.pending = PendingView(self._resume, self.resume_all)
        self.uncertain = UncertainView(self._settle)
        self.history = HistorySection(self._journal_if_any, self.load_request)
        self.controls.prompt.area.value = prompt
        self.controls.duration.value = duration
        super().__init__(
            [
                stylesheet(),
                self.header,
                self.key,
                spaced(widgets.HBox(
                    [
                        widgets.Box([self.image], layout=widgets.Layout(flex="1 1 300px", min_width="280px")),
                        widgets.Box([self.controls], layout=widgets.Layout(flex="2 1 400px", min_width="320px")),
                    ],
                    layout=widgets.Layout(width="100%", flex_flow="row wrap", align_items="flex-start"),
                ), 20),
                self.bar,
                self.rows,
                self.pending,
                self.uncertain,
                self.history,
            ],
            layout=widgets.Layout(width="100%", max_width="1060px", padding="4px"),
        )
        spaced(self, 8).add_class(PANEL_CLASS)
        self._connect(client or connect(api_key, demo=demo, out_dir=out_dir, concurrency=concurrency))
        self.image.on_change(self._refresh)
        self.controls.on_change(self._refresh)
        self._start_image(image)

    def __repr__(self) -> str:
        return (
            f"KlingPanel({self.client.mode_label}): an ipywidgets panel; it needs a widget front end "
            "(JupyterLab, Notebook 7, Voila, VS Code). Without one, use kling_notebook.KlingClient."
        )

    # -- where generations go -------------------------------------------------------------------

    def _connect(self, client: AsyncKlingClient) -> None:
        self.client = client
        self.runner = client.runner
        self.image.limits = client.image_limits or KLING_LIMITS
        self.header.show(client.mode_label, client.demo)
        self.key.show(client)
        self._refresh()
        self.show_pending()

    def use_key(self, api_key: str) -> concurrent.futures.Future[KeyVerdict] | None:
        """Switch to the real gateway with this key (jobs already running keep their client),
        and check the key with one free status read on the engine loop (the caller, a widget
        callback, is not held up). Returns the check, or None when no client could be made."""
        try:
            client = connect(api_key, demo=False, out_dir=self._out_dir, concurrency=self._concurrency)
        except KlingError as exc:
            self.key.status.value = note(f"{exc.message} {exc.hint}", "bad")
            return None
        self._connect(client)
        self.key.checked(CHECKING)
        future = spawn(check_key(client))

        def checked(done: concurrent.futures.Future[KeyVerdict]) -> None:
            try:
                verdict = done.result()
            except BaseException as exc:  # a bug or a cancelled check: never "checking" forever
                verdict = not_checked(f"unexpected {type(exc).__name__}.")
            if self.client is client:  # not another key or demo mode meanwhile
                self.key.checked(verdict)

        future.add_done_callback(checked)
        return future

    def use_demo(self) -> None:
        """Switch back to the local emulator (simulated videos, no credits used)."""
        self._connect(connect(demo=True, out_dir=self._out_dir, concurrency=self._concurrency))

    def _start_image(self, image: str | os.PathLike[str] | None) -> None:
        if image is None:
            self.image.use_demo()
        elif isinstance(image, str) and is_url(image):
            self.image.url.value = image
        else:
            self.image.use_file(Path(image))

    def load_request(self, request: GenerationRequest) -> None:
        """Fill the controls from ``request`` (a past generation's, say) to edit and generate again.

        The image loads when it is a URL, bytes or a file still on disk; a journal keeps no image
        bytes, so otherwise the image status says it must be chosen again (and Generate waits for
        it). Masks, which the panel has no controls for, are not carried over.
        """
        self.image.use_image(request.image)
        self.controls.load(request)

    # -- validation ---------------------------------------------------------------------------

    def request(self) -> tuple[GenerationRequest | None, str]:
        """The request the controls describe, or None and why it cannot be sent yet."""
        source = self.image.source
        if source is None or self.image.problem:
            return None, f"image: {self.image.problem or 'no image yet'}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", IgnoredFieldWarning)  # the controls say so already
                request = GenerationRequest(image=source.value, image_limits=self.image.limits, **self.controls.values())
        except ValidationError as exc:
            return None, f"{exc.field}: {exc.limit}"
        return request, ""

    def _refresh(self) -> None:
        with self._lock:
            _request, reason = self.request()
            self.bar.show(reason, self.controls.duration.value, self.client.demo, self.prices)

    # -- running ------------------------------------------------------------------------------

    def generate(self, *, again: bool = False) -> Job | None:
        """What the Generate button does: start a job for the current input and add its row.

        The exact request sent less than a minute ago is not sent again unless ``again`` is
        True: the panel asks instead (None is returned), since a repeat pays twice."""
        request, reason = self.request()
        source = self.image.source
        if request is None or source is None:
            self.bar.reason.value = note(f"Generate is disabled: {reason}", "bad")
            return None
        ago = self.repeats.seconds_since_same(request)
        if ago is not None and not again:
            self.bar.ask_again(ago)
            return None
        self.repeats.sent(request)
        job = self.runner.start(request)
        self._follow(job, code_for(request, source, self.client.demo))
        return job

    def _clicked(self, again: bool) -> None:
        """A click the bar let through (it holds the button): release it once the submit is over."""
        job = self.generate(again=again)
        if job is None:
            self.bar.release()
            return
        released = threading.Event()

        def on_event(event: JobEvent) -> None:
            if event.phase not in ("checking", "submitting") and not released.is_set():
                released.set()
                self.bar.release()

        job.subscribe(on_event)

    def add_row(self, row: ProgressRow) -> None:
        """Show a progress row (newest last); also for jobs started elsewhere (resume, batches)."""
        with self._lock:
            self.rows.children = (*self.rows.children, row)

    @property
    def jobs(self) -> list[Job]:
        return [row.job for row in self.rows.children if isinstance(row, ProgressRow)]

    # -- unfinished generations from earlier sessions -----------------------------------------

    def show_pending(self) -> None:
        """List generations the journal holds as unfinished (what :func:`survey` finds: resumable
        here with Resume buttons, running in another panel, made elsewhere), and the submissions
        whose outcome is unknown, with what to check and how to settle them. Called from a job's
        end (on the engine thread) the survey runs there and the lists are drawn when it is done."""
        journal = self._journal_if_any()  # None before it exists: showing must not create one
        if journal is None:
            self.pending.show([], [], [])
            self.uncertain.show([])
            return
        client = self.client
        shown = {job.generation_id for job in self.jobs if job.generation_id and not job.done()}

        def draw(found: Survey) -> None:
            if self.client is client:  # not another key or demo mode meanwhile
                self.pending.show(found.here, found.notes, found.running)
                self.uncertain.show([lost.entry for lost in found.uncertain])

        if not in_engine_thread():
            draw(run_blocking(survey(journal, client, shown=shown)))
            return

        def drawn(done: concurrent.futures.Future[Survey]) -> None:
            if not done.cancelled() and done.exception() is None:
                draw(done.result())

        spawn(survey(journal, client, shown=shown)).add_done_callback(drawn)

    def _follow(self, job: Job, code_text: str | None = None) -> None:
        """Show ``job`` in a row; once it ends (without a video, it is unfinished again) refresh
        the unfinished list, so it reappears there with Resume."""
        self.add_row(ProgressRow(job, code_text=code_text, on_result=self.results.append))
        job.add_done_callback(lambda _job: self.show_pending())

    def _settle(self, entry: JournalEntry, generation_id: str | None) -> str | None:
        """Record the user's verdict on an uncertain submission (as ``kling-notebook settle``
        does); a generation found is then waited for at once when it belongs to this gateway."""
        try:
            settled = settle_uncertain(
                entry.row,
                generation_id=generation_id,
                not_created=generation_id is None,
                out_dir=self.client.out_dir,
            )
        except KlingError as exc:
            return f"{exc.message} {exc.hint or ''}".strip()
        if settled.needs_work and is_here(settled, self.client):
            self._resume(settled)
        self.show_pending()
        return None

    def _resume(self, entry: JournalEntry) -> Job | None:
        """Resume one listed generation in a row of its own (its request titles the row); None
        when a job of this process took it up since it was listed."""
        assert entry.generation_id is not None  # unfinished() lists only submitted entries
        if entry.generation_id in live_generation_ids():
            self.show_pending()
            return None
        job = self.runner.resume(
            entry.generation_id, duration=HistoryItem(entry).duration, request=request_from_summary(entry.request)
        )
        self._follow(job)
        return job

    def resume_all(self) -> list[Job] | None:
        """What Resume all does: wait for and save every listed generation not resumed yet, one
        job and row each, as :func:`kling_notebook.resume` would (nothing is submitted). None
        when nothing is left to resume."""
        live = live_generation_ids()
        entries = [entry for entry in self.pending.take_unresumed() if entry.generation_id not in live]
        return [job for entry in entries if (job := self._resume(entry)) is not None] or None

    # -- the journal --------------------------------------------------------------------------

    def _journal_if_any(self) -> Journal | None:
        """The client's journal, or None before it exists (showing the panel must not create one)."""
        client = self.client
        return client.journal if (client.out_dir / FILENAME).is_file() else None
