"""``KlingPanel``: the whole tool in one cell, as one anywidget model.

The panel only wires its state holders to the engine: it builds a :class:`GenerationRequest`
from the controls (the request's own validation decides what is allowed), hands it to a
:class:`~kling_notebook.runtime.jobs.JobRunner` (so the generation runs on the engine thread and
the kernel stays free) and gives each job a row. The view sends every edit and click as a custom
message (:meth:`KlingPanel.receive`); the kernel answers by setting the JSON traits the view
draws. Messages may arrive on a kernel subshell thread; they only change state, start jobs and
schedule work on the engine loop. The key arrives in a message, is handed to a client and is
never kept in a trait, so it never reaches widget state or a saved notebook.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import traitlets

from ...domain.cost import DEFAULT_PRICES, CostEstimate, PriceTable, cost_notice
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
from ...store.claims import held_elsewhere
from ...store.history import HistoryItem, request_from_summary
from ...store.journal import FILENAME, Journal, JournalEntry
from ._controls import MODEL_CHOICES, Controls
from ._fallback import fallback_html
from ._history_page import history_page
from ._html import note
from ._image import ImagePicker
from ._keycheck import CHECKING, UNCHECKED, KeyVerdict, check_key, not_checked
from ._progress import RowsWidget
from ._repeat import RepeatGuard
from ._result import code_for
from ._unfinished import pending_state, uncertain_state

__all__ = ["KlingPanel", "EPHEMERAL_ENV_VAR"]

#: Set (by binder/start) where the whole session, files included, vanishes when it idles.
EPHEMERAL_ENV_VAR = "KLING_NOTEBOOK_EPHEMERAL"
#: What a paying user of such a session must do so that a finished video is not lost with it.
EPHEMERAL_WARNING = (
    "This is a temporary session (Binder ends it after about 10 idle minutes, and its files with "
    "it): keep this tab open until your video is saved, then download it. Copy each generation id "
    "as it appears: with it, `kling-notebook wait ID` saves the video anywhere later."
)
_KEPT = "The key is kept in memory only, never saved."
_NOTHING_UNFINISHED = Survey((), (), (), (), ())
#: How many times (50 ms apart) an ended job's claim is looked at before the list is refreshed.
_CLAIM_WAITS = 40


class KlingPanel(RowsWidget):
    """Image-to-video with Kling, in a notebook: ``KlingPanel()`` as a cell's last line.

    ``client``: an :class:`AsyncKlingClient` to use; otherwise one from
    ``kling_notebook.runtime.connect.connect(api_key, demo=demo)`` (demo mode when no key is configured).
    ``image``: a URL or file path to start with (default: the bundled demo image).
    ``prices``: a price table for the cost line instead of the client's estimate.
    """

    header = traitlets.Dict().tag(sync=True)
    key = traitlets.Dict().tag(sync=True)
    image = traitlets.Dict().tag(sync=True)
    controls = traitlets.Dict().tag(sync=True)
    models: traitlets.List[list[str]] = traitlets.List().tag(sync=True)
    ready = traitlets.Dict().tag(sync=True)
    pending = traitlets.Dict().tag(sync=True)
    uncertain: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    #: The model id the static stand-in names, so the live view can hide it (see :mod:`._fallback`).
    fallback_id = traitlets.Unicode().tag(sync=True)

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
        prices: PriceTable | None = None,
    ) -> None:
        super().__init__(view="panel", models=MODEL_CHOICES)
        self.fallback_id = self.model_id
        self._uploads: dict[str, list[bytes | None]] = {}
        self._out_dir = out_dir
        self._concurrency = concurrency
        self.prices = prices or DEFAULT_PRICES
        self._own_prices = prices is not None
        self.results: list[GenerationResult] = []
        self._lock = threading.Lock()
        self._held = False
        self._question = ""
        self._cost = ""
        self._cost_ticket = 0
        self._key_verdict = UNCHECKED
        self._resumed: set[str] = set()
        self._history: dict[int, HistoryItem] = {}
        self._fallback: Any = None
        self._survey = _NOTHING_UNFINISHED
        self.picker = ImagePicker()
        self.request_controls = Controls()
        self.repeats = RepeatGuard()
        self.request_controls.set("prompt", prompt)
        self.request_controls.set("duration", duration)
        self._connect(client or connect(api_key, demo=demo, out_dir=out_dir, concurrency=concurrency))
        self.picker.on_change(self._refresh)
        self.request_controls.on_change(self._refresh)
        self._start_image(image)

    def __repr__(self) -> str:
        return (
            f"KlingPanel({self.client.mode_label}): a notebook widget; it needs a widget front end "
            "(JupyterLab, Notebook 7, Voila, VS Code, marimo). Without one, use kling_notebook.KlingClient."
        )

    def _ipython_display_(self, **kwargs: Any) -> None:
        """The widget, then its static stand-in as an output of its own (see :mod:`._fallback`),
        which the live view hides and which is redrawn with each new result."""
        from IPython.display import HTML, display

        display(self.widget_bundle(), raw=True)
        self._fallback = display(HTML(self.fallback_html()), display_id=True)

    def fallback_html(self) -> str:
        """What this panel's output shows where its view cannot run."""
        return fallback_html(self.model_id, self.client.mode_label, self.results)

    def _result_saved(self, result: GenerationResult) -> None:
        self.results.append(result)
        handle = self._fallback
        if handle is not None:
            try:
                from IPython.display import HTML

                handle.update(HTML(self.fallback_html()))
            except Exception:  # no display machinery here (a thread without a kernel parent)
                pass

    # -- where generations go -------------------------------------------------------------------

    def _connect(self, client: AsyncKlingClient) -> None:
        self.client = client
        self.runner = client.runner
        self.picker.limits = client.image_limits or KLING_LIMITS
        self.request_controls.time_scale = client.poll.time_scale if client.demo else 1.0
        self.header = {"title": "Kling \u00b7 image to video", "mode": client.mode_label, "demo": client.demo}
        self._key_verdict = UNCHECKED
        self._show_key()
        self._refresh()
        self.show_pending()

    def _show_key(self) -> None:
        live = not self.client.demo
        if not live:
            status = note("Without a key the panel runs in demo mode. A key you enter is kept in memory only, never saved.")
        else:
            warning = "<br>" + note(EPHEMERAL_WARNING, "warn") if os.environ.get(EPHEMERAL_ENV_VAR) else ""
            verdict = self._key_verdict
            status = note(f"{verdict.text} {_KEPT}", verdict.tone) + warning
        self.key = {"live": live, "status_html": status}

    def use_key(self, api_key: str) -> concurrent.futures.Future[KeyVerdict] | None:
        """Switch to the real gateway with this key (jobs already running keep their client),
        and check the key with one free status read on the engine loop (the caller, a message
        handler, is not held up). Returns the check, or None when no client could be made."""
        try:
            client = connect(api_key, demo=False, out_dir=self._out_dir, concurrency=self._concurrency)
        except KlingError as exc:
            self.key = {"live": not self.client.demo, "status_html": note(str(exc), "bad")}
            return None
        self._connect(client)
        self._checked(CHECKING)
        future = spawn(check_key(client))

        def checked(done: concurrent.futures.Future[KeyVerdict]) -> None:
            try:
                verdict = done.result()
            except BaseException as exc:  # a bug or a cancelled check: never "checking" forever
                verdict = not_checked(f"unexpected {type(exc).__name__}.")
            if self.client is client:  # not another key or demo mode meanwhile
                self._checked(verdict)

        future.add_done_callback(checked)
        return future

    def _checked(self, verdict: KeyVerdict) -> None:
        self._key_verdict = verdict
        self._show_key()

    def use_demo(self) -> None:
        """Switch back to the local emulator (simulated videos, no credits used)."""
        self._connect(connect(demo=True, out_dir=self._out_dir, concurrency=self._concurrency))

    def _start_image(self, image: str | os.PathLike[str] | None) -> None:
        if image is None:
            self.picker.use_demo()
        elif isinstance(image, str) and is_url(image):
            self.picker.use_url(image)
        else:
            self.picker.use_file(Path(image))

    def load_request(self, request: GenerationRequest) -> None:
        """Fill the controls from ``request`` (a past generation's, say) to edit and generate again.

        The image loads when it is a URL, bytes or a file still on disk; a journal keeps no image
        bytes, so otherwise the image status says it must be chosen again (and Generate waits for
        it). Masks, which the panel has no controls for, are not carried over.
        """
        self.picker.use_image(request.image)
        self.request_controls.load(request)

    # -- validation ---------------------------------------------------------------------------

    def request(self) -> tuple[GenerationRequest | None, str]:
        """The request the controls describe, or None and why it cannot be sent yet."""
        source = self.picker.source
        if source is None or self.picker.problem:
            return None, f"image: {self.picker.problem or 'no image yet'}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", IgnoredFieldWarning)  # the controls say so already
                request = GenerationRequest(
                    image=source.value, image_limits=self.picker.limits, **self.request_controls.values()
                )
        except ValidationError as exc:
            return None, f"{exc.field}: {exc.limit}"
        return request, ""

    def _refresh(self) -> None:
        """Redraw everything that follows from the input: image, controls, cost, Generate."""
        request, reason = self.request()
        with self._lock:
            self._question = ""  # the request changed: the repeat question no longer applies
        self.image = self.picker.state()
        self.controls = {**self.request_controls.state(), "advanced_open": self.request_controls.advanced_set()}
        self._estimate(request)
        self._show_ready(reason)

    def _estimate(self, request: GenerationRequest | None) -> None:
        """The cost line: the panel's price table, or the client's estimate (live prices, read on
        the engine loop; the table's figure is shown meanwhile)."""
        values = self.request_controls.values()
        model, duration = values["model"], values["duration"]
        audio = bool(values.get("generate_audio", False))
        with self._lock:
            self._cost_ticket += 1
            ticket = self._cost_ticket
        self._show_cost(self.prices.estimate(duration, model=model, audio=audio))
        if request is None or self._own_prices:
            return
        client = self.client

        def estimated(done: concurrent.futures.Future[CostEstimate]) -> None:
            if done.cancelled() or done.exception() is not None or self.client is not client:
                return
            with self._lock:
                current = ticket == self._cost_ticket
            if current:
                self._show_cost(done.result())
                self._show_ready(self.request()[1])

        spawn(client.estimate(request)).add_done_callback(estimated)

    def _show_cost(self, estimate: CostEstimate) -> None:
        demo = self.client.demo
        self._cost = note(cost_notice(estimate, demo=demo, charged_when="when you click Generate"),
                          "muted" if demo else "warn")

    def _show_ready(self, reason: str) -> None:
        with self._lock:
            held, question = self._held, self._question
        self.ready = {
            "cost_html": self._cost,
            "reason": f"Generate is disabled: {reason}" if reason else "",
            "can_generate": not reason and not held,
            "busy": held,
            "question": question,
        }

    # -- running ------------------------------------------------------------------------------

    def generate(self, *, again: bool = False) -> Job | None:
        """What the Generate button does: start a job for the current input and add its row.

        The exact request sent less than a minute ago is not sent again unless ``again`` is
        True: the panel asks instead (None is returned), since a repeat may pay twice."""
        request, reason = self.request()
        source = self.picker.source
        if request is None or source is None:
            self._show_ready(reason or "no image yet")
            return None
        ago = self.repeats.seconds_since_same(request)
        if ago is not None and not again:
            self._ask_again(ago)
            return None
        self.repeats.sent(request)
        job = self.runner.start(request)
        self._follow(job, code_for(request, source, self.client.demo))
        return job

    def _ask_again(self, seconds_ago: float) -> None:
        """The repeat question instead of sending (the click that led here sent nothing)."""
        cost = "In demo mode nothing is charged." if self.client.demo else "It is charged again."
        with self._lock:
            self._question = (
                f"You sent this exact request (same image, prompt and settings) {seconds_ago:.0f} s ago. "
                f"Generate it again? {cost}"
            )
        self._show_ready(self.request()[1])

    def _clicked(self, again: bool) -> None:
        """A Generate click: dropped while a submit is out (a double-click never pays twice);
        the button is held until that submit has returned, failed or sent nothing."""
        with self._lock:
            if self._held:
                return
            self._held = True
            self._question = ""
        self._show_ready(self.request()[1])
        try:
            job = self.generate(again=again)
        except BaseException:
            self._release()
            raise
        if job is None:
            self._release()
            return
        released = threading.Event()

        def on_event(event: JobEvent) -> None:
            if event.phase not in ("checking", "submitting") and not released.is_set():
                released.set()
                self._release()

        job.subscribe(on_event)

    def _release(self) -> None:
        with self._lock:
            self._held = False
        self._show_ready(self.request()[1])

    def _follow(self, job: Job, code_text: str | None = None) -> None:
        """Show ``job`` in a row; once it ends (without a video, it is unfinished again) refresh
        the unfinished list, so it reappears there with Resume."""
        self.follow(job, code_text=code_text, on_result=self._result_saved)

        def ended(_job: Job) -> None:
            spawn(self._after(job))

        job.add_done_callback(ended)

    async def _after(self, job: Job) -> None:
        """Refresh the unfinished list once ``job`` has let go of its generation: a cancel ends
        the job's future at once, while its task still holds the claim for a moment."""
        for _ in range(_CLAIM_WAITS):
            if not job.generation_id or not held_elsewhere(self.client.out_dir, job.generation_id):
                break
            await asyncio.sleep(0.05)
        self.show_pending()

    # -- messages from the view -------------------------------------------------------------------

    def receive(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """One message from the view: an edit, a click, an upload (bytes in ``buffers``)."""
        kind = content.get("kind")
        if kind == "key":
            key = str(content.get("key") or "").strip()
            if key:
                self.use_key(key)
        elif kind == "demo_mode":
            self.use_demo()
        elif kind == "set":
            self.request_controls.set(str(content.get("field")), content.get("value"))
        elif kind == "image_url":
            self.picker.use_url(str(content.get("url") or ""))
        elif kind == "demo_image":
            self.picker.use_demo()
        elif kind == "upload":
            self._uploaded(content, buffers)
        elif kind == "upload_refused":
            self.picker.refuse_upload(str(content.get("name") or "the file"), int(content.get("size") or 0))
        elif kind == "generate":
            self._clicked(bool(content.get("again")))
        elif kind == "keep":
            with self._lock:
                self._question = ""
            self._show_ready(self.request()[1])
        elif kind == "resume":
            self._resume_id(str(content.get("id")))
        elif kind == "resume_all":
            self.resume_all()
        elif kind == "settle":
            self._settle_row(content)
        elif kind == "history":
            self._send_history(content.get("page", 0))
        elif kind == "rerun":
            self._rerun(content.get("row"))
        else:
            super().receive(content, buffers)

    def _uploaded(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """One chunk of a file the view read (the view refuses files over the limit first);
        the image is checked once every chunk is in."""
        name = str(content.get("name") or "upload")
        upload, index, count = str(content.get("upload")), content.get("index", 0), content.get("count", 1)
        if not (isinstance(index, int) and isinstance(count, int) and 0 <= index < count <= 64):
            return
        with self._lock:
            parts = self._uploads.setdefault(upload, [None] * count)
            if len(parts) != count:
                return
            parts[index] = b"".join(buffers)
            if any(part is None for part in parts):
                return
            del self._uploads[upload]
        data = b"".join(part or b"" for part in parts)
        if len(data) > self.picker.limits.max_bytes:
            self.picker.refuse_upload(name, len(data))
        else:
            self.picker.use_upload(name, data)

    def _send_history(self, page: Any) -> None:
        try:
            number = int(page)
        except (TypeError, ValueError):
            number = 0
        message, buffers, items = history_page(
            self._journal_if_any(), number, self.row_list.videos, simulated=self.client.demo
        )
        self._history = items
        self.send(message, buffers)

    def _rerun(self, row: Any) -> None:
        item = self._history.get(row) if isinstance(row, int) else None
        request = item.request if item is not None else None
        if request is not None:
            self.load_request(request)
            self.send({"kind": "rerun", "row": row,
                       "text": "Loaded into the panel above: edit it, then click Generate."})

    # -- unfinished generations from earlier sessions -----------------------------------------

    def show_pending(self) -> None:
        """List generations the journal holds as unfinished (what :func:`survey` finds: resumable
        here with Resume buttons, running in another panel, made elsewhere), and the submissions
        whose outcome is unknown, with what to check and how to settle them. Called from a job's
        end (on the engine thread) the survey runs there and the lists are drawn when it is done."""
        journal = self._journal_if_any()  # None before it exists: showing must not create one
        if journal is None:
            self._survey = _NOTHING_UNFINISHED
            self.pending, self.uncertain = pending_state([]), []
            return
        client = self.client
        shown = {job.generation_id for job in self.jobs if job.generation_id and not job.done()}

        def draw(found: Survey) -> None:
            if self.client is client:  # not another key or demo mode meanwhile
                self._survey = found
                with self._lock:
                    resumed = frozenset(self._resumed)
                self.pending = pending_state(found.here, found.notes, found.running, resumed)
                self.uncertain = uncertain_state(lost.entry for lost in found.uncertain)

        if not in_engine_thread():
            draw(run_blocking(survey(journal, client, shown=shown)))
            return

        def drawn(done: concurrent.futures.Future[Survey]) -> None:
            if not done.cancelled() and done.exception() is None:
                draw(done.result())

        spawn(survey(journal, client, shown=shown)).add_done_callback(drawn)

    def _listed(self) -> list[JournalEntry]:
        return list(self._survey.here)

    def _resume_id(self, generation_id: str) -> Job | None:
        for entry in self._listed():
            if entry.generation_id == generation_id:
                return self._resume(entry)
        return None

    def _settle_row(self, content: dict[str, Any]) -> None:
        row, found = content.get("row"), content.get("generation_id")
        for lost in self._survey.uncertain:
            if lost.entry.row == row:
                if found is not None and not str(found).strip():
                    self.send({"kind": "settled", "row": row, "error": "Paste the generation id first."})
                    return
                problem = self._settle(lost.entry, None if found is None else str(found).strip())
                self.send({"kind": "settled", "row": row, "error": problem or ""})
                return

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
            return str(exc)
        if settled.needs_work and is_here(settled, self.client):
            self._resume(settled)
        self.show_pending()
        return None

    def _resume(self, entry: JournalEntry) -> Job | None:
        """Resume one listed generation in a row of its own (its request titles the row); None
        when a job of this process took it up since it was listed."""
        assert entry.generation_id is not None  # unfinished() lists only submitted entries
        with self._lock:
            if entry.generation_id in self._resumed:
                return None
            self._resumed.add(entry.generation_id)
        if entry.generation_id in live_generation_ids():
            self.show_pending()
            return None
        job = self.runner.resume(
            entry.generation_id, duration=HistoryItem(entry).duration, request=request_from_summary(entry.request)
        )
        self._follow(job)
        self._mark_resumed()
        return job

    def _mark_resumed(self) -> None:
        with self._lock:
            resumed = frozenset(self._resumed)
        found = self._survey
        self.pending = pending_state(found.here, found.notes, found.running, resumed)

    def resume_all(self) -> list[Job] | None:
        """What Resume all does: wait for and save every listed generation not resumed yet, one
        job and row each, as :func:`kling_notebook.resume` would (nothing is submitted). None
        when nothing is left to resume."""
        live = live_generation_ids()
        with self._lock:
            entries = [entry for entry in self._listed()
                       if entry.generation_id not in live and entry.generation_id not in self._resumed]
        return [job for entry in entries if (job := self._resume(entry)) is not None] or None

    # -- the journal --------------------------------------------------------------------------

    def _journal_if_any(self) -> Journal | None:
        """The client's journal, or None before it exists (showing the panel must not create one)."""
        client = self.client
        return client.journal if (client.out_dir / FILENAME).is_file() else None
