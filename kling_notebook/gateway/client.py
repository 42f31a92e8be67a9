"""The async client: submit, get, wait and download, against either endpoint pair of the gateway.

Rules that protect the user's money and results:

* The create POST is sent once. It is retried only when it provably never arrived (connect error,
  pool timeout) or was refused with 429; any other failure after the body may have been sent raises
  :class:`~kling_notebook.errors.SubmissionUncertainError` and the journal marks it "uncertain".
* The generation id is written to the journal before :meth:`GatewayClient.submit` returns.
* Status reads and downloads retry transient faults; a wait only ends at its deadline.
* The key goes only into the Authorization header of calls to the API host. Image URLs and video
  URLs are fetched by a second HTTP client that carries no key.
* One pair of ``httpx.AsyncClient`` per event loop, so one client object can be used from several
  ``asyncio.run`` calls, a notebook and a background thread without "Event loop is closed".
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import uuid
import warnings
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ..domain import errors
from ..domain.cost import DEFAULT_PRICES, Budget, CostEstimate, PriceTable, Reservation, reserve_all
from ..domain.generation import RUNNING_STATUSES, TERMINAL_STATUSES, Generation
from ..domain.images import ImageInfo, ImageLimits
from ..domain.polling import PollPolicy
from ..domain.request import (
    MODEL_ID,
    GenerationRequest,
    IgnoredFieldWarning,
    Prepared,
    request_from,
)
from ..domain.retry import RETRYABLE_STATUS, Clock, RetryPolicy, SystemClock, parse_retry_after
from ..store.history import HistoryItem
from ..store.journal import IdTaken, Journal
from ..store.outputs import find_out_dir, place
from ..store.partials import continued, partial_path, started, write_validator
from ._pool import GatedAsyncClient
from .download import DownloadPolicy, fetch_video, require_http_url
from .image_url import fetch_url_image
from .logs import LOGS_PATH, Sighting, pages_done, query, search_logs
from .prices import DEMO_LABEL, LIVE_LABEL, LivePrices
from .replies import MAX_JSON_BYTES, generation_from, json_object, read_json, status_error
from .settings import (
    Endpoint,
    check_transport_security,
    endpoint_path,
    find_base_url,
    require_api_key,
)
from .tls import tls_context

_Client = TypeVar("_Client", bound="GatewayClient")

__all__ = ["GatewayClient", "DEFAULT_TIMEOUT"]

log = logging.getLogger("kling_notebook")

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "kling_notebook/0.1"

#: Transport failures that prove the request never reached the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: What a create refused before anything was made adds to its hint: the user's first worry.
_NOTHING_CREATED = "Nothing was created or charged."

def _refuse_redirect(response: httpx.Response) -> None:
    """Raise for a redirect from the API: it means a wrong base URL, so it is never followed (the
    key would go along), never retried, and no job was created by it."""
    if not 300 <= response.status_code < 400:
        return
    location = response.headers.get("location") or "nowhere (no Location header)"
    raise errors.ConfigurationError(
        f"The gateway answered HTTP {response.status_code} redirecting to {location}; "
        "nothing was created.",
        hint="Fix the base URL (for example https:// instead of http://) and try again.",
    )


def _is_id(value: object) -> bool:
    """A generation id we can keep, show and put in a (quoted) command: opaque, but printable text
    (no control characters or terminal escapes) and not a novel (the shapes seen have 21-70)."""
    return isinstance(value, str) and 0 < len(value) <= 256 and value.isprintable() and value.strip() == value


def _reply(response: httpx.Response, asked: str | None = None) -> dict[str, Any]:
    """A generation reply's JSON: an object with a text ``id`` (the one ``asked`` for, when a
    status read asked for one: another generation's answer is never taken for ours)."""
    body = read_json(response)
    if not isinstance(body, dict) or not _is_id(body.get("id")):
        raise errors.InvalidResponseError(f"HTTP {response.status_code} without a usable generation id")
    if asked is not None and body["id"] != asked:
        raise errors.InvalidResponseError(f"HTTP {response.status_code} about another generation than the one asked for")
    return body


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, errors.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS
    return isinstance(exc, (errors.APIConnectionError, errors.InvalidResponseError))


def _connection_error(exc: httpx.TransportError) -> errors.APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return errors.APITimeoutError(f"Timed out talking to the gateway ({type(exc).__name__}).")
    return errors.APIConnectionError(f"Could not talk to the gateway ({type(exc).__name__}).")


def _news(generation: Generation) -> tuple[Any, ...]:
    """What a poll may change in the journal row of ``generation``."""
    return (generation.status, generation.credits_used, generation.video_url, generation.error_message)


@dataclass
class _Transports:
    """The two HTTP clients bound to one event loop: one with the key, one without."""

    api: httpx.AsyncClient
    plain: httpx.AsyncClient


@dataclass
class _Submitted:
    """What this client remembers of its own submissions (for wait() given a bare id, and the
    actual credits a later poll reports)."""

    duration: int
    started: float
    reservations: list[Reservation] = field(default_factory=list, repr=False)


class GatewayClient:
    """The gateway's HTTP calls: check, submit (paid, journaled), get, wait and download.

    ``api_key``: else AIMLAPI_KEY / AIML_API_KEY / AIMLAPI_API_KEY. ``base_url``: else
    AIMLAPI_BASE_URL / AIML_API_BASE, else https://api.aimlapi.com. ``endpoint``: "universal"
    (``/v2/video/generations``) or "legacy" (``/v2/generate/video/kling/generation``).
    ``journal``: True (a journal in ``out_dir``), False, or a :class:`Journal`.
    ``budget``: an optional :class:`Budget` every submit reserves from (refused past it);
    ``prices``: the table behind the estimate journalled with every submit; ``live_prices``:
    read the gateway's live price of each model (``GET /v1/models``, no key) and let it win over
    the table, which stays the fallback; ``concurrency``: how many generations run at once (see
    the runtime's job runner); ``allow_http``: send the key to a plain http:// base URL that is
    not this machine (refused otherwise); ``download_policy``: the minimum rate a video download
    must keep and the largest video accepted.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        endpoint: Endpoint = "universal",
        *,
        out_dir: str | os.PathLike[str] | None = None,
        journal: bool | Journal = True,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        check_url_images: bool = True,
        image_limits: ImageLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        demo: bool = False,
        budget: Budget | None = None,
        prices: PriceTable = DEFAULT_PRICES,
        concurrency: int = 4,
        allow_http: bool = False,
        live_prices: bool = False,
        download_policy: DownloadPolicy | None = None,
    ) -> None:
        self.__key = require_api_key(api_key)
        self.base_url = find_base_url(base_url)
        check_transport_security(self.base_url, allow_http)
        self.endpoint: Endpoint = endpoint
        self.path = endpoint_path(endpoint)
        self.out_dir = find_out_dir(out_dir)
        self.poll = poll or PollPolicy()
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.check_url_images = check_url_images
        self.image_limits = image_limits
        #: True when talking to the local emulator (simulated videos, no credits used).
        self.demo = demo
        self.budget = budget
        self.prices = prices
        self._live_prices = (
            LivePrices(self.base_url, clock=clock, label=DEMO_LABEL if demo else LIVE_LABEL)
            if live_prices
            else None
        )
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        #: How many generations of this account run at once from submit to saved file (the
        #: runtime's job runner holds the rest locally, unsent).
        self.concurrency = concurrency
        #: What a video download must show to be going on, and the largest video accepted.
        self.download_policy = download_policy or DownloadPolicy()
        self._transport = transport
        self._clock: Clock = clock or SystemClock()
        self._journal_setting = journal
        self._journal: Journal | None = journal if isinstance(journal, Journal) else None
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Transports] = (
            weakref.WeakKeyDictionary()
        )
        self._submitted: dict[str, _Submitted] = {}
        #: What was last journalled per generation (status, credits, video URL, error).
        self._recorded: dict[str, tuple[Any, ...]] = {}

    @property
    def _secrets(self) -> tuple[str, ...]:
        """What must be scrubbed from every text that came from the network: the key."""
        return (self.__key,)

    def __repr__(self) -> str:  # never the key
        mode = ", demo=True" if self.demo else ""
        return f"{type(self).__name__}(base_url={self.base_url!r}, endpoint={self.endpoint!r}{mode})"

    @property
    def mode_label(self) -> str:
        """What the user should be told about where generations go (and whether they cost)."""
        if self.demo:
            return "demo mode: simulated videos, no credits used"
        return f"live: {self.base_url} ({self.endpoint} endpoint), generations use credits"

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def journal(self) -> Journal | None:
        """The journal this client records to (opened on first use), or None when disabled."""
        if self._journal is None and self._journal_setting is True:
            self._journal = Journal.in_dir(self.out_dir)
        return self._journal

    @property
    def clock(self) -> Clock:
        return self._clock

    def _clients(self) -> _Transports:
        loop = asyncio.get_running_loop()
        pair = self._per_loop.get(loop)
        if pair is None:
            common: dict[str, Any] = {
                "timeout": self.timeout, "transport": self._transport, "verify": tls_context()
            }
            api = GatedAsyncClient(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {self.__key}", "User-Agent": USER_AGENT},
                follow_redirects=False,
                **common,
            )
            plain = GatedAsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=True, **common)
            from ._wide_reads import widen_reads

            widen_reads(plain)  # it carries the videos
            pair = self._per_loop[loop] = _Transports(api, plain)
        return pair

    async def aclose(self) -> None:
        """Close this loop's HTTP clients, and hand other loops' clients back to their own loops.
        A journal this client opened itself is closed too (reopened if the client is used again);
        one passed in belongs to the caller and stays open."""
        current = asyncio.get_running_loop()
        pairs = list(self._per_loop.items())
        self._per_loop.clear()
        for loop, pair in pairs:
            if loop is current:
                await _close(pair)
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(_close(pair), loop)
        if self._journal is not None and self._journal_setting is True:
            self._journal.close()
            self._journal = None

    async def __aenter__(self: _Client) -> _Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call whose body is read only up to :data:`MAX_JSON_BYTES` (decoded): a huge
        or endless answer costs a megabyte of memory, not the kernel."""
        api = self._clients().api
        request = api.build_request(method, path, **kwargs)
        streamed = await api.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in streamed.aiter_bytes():
                body += chunk
                if len(body) > MAX_JSON_BYTES:
                    raise errors.InvalidResponseError(
                        f"HTTP {streamed.status_code} with a body of more than {MAX_JSON_BYTES} bytes"
                    )
        finally:
            await streamed.aclose()
        kept = [(name, value) for name, value in streamed.headers.raw
                if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")]
        return httpx.Response(streamed.status_code, headers=kept, content=bytes(body), request=request)

    async def _send(self, method: str, path: str | None = None, **kwargs: Any) -> httpx.Response:
        """One HTTP call to the endpoint path (or ``path``); maps transport failures and error
        statuses."""
        try:
            response = await self._request(method, path or self.path, **kwargs)
        except httpx.TransportError as exc:
            raise _connection_error(exc) from exc
        _refuse_redirect(response)
        if response.status_code >= 400:
            raise status_error(response, secrets=self._secrets)
        return response

    # -- prices and service reads ----------------------------------------------------------

    async def price_table(self, models: Iterable[str] = ()) -> PriceTable:
        """The price table in force for ``models``: the client's, with the gateway's live
        prices over it when this client reads them (``live_prices=True``)."""
        if self._live_prices is None:
            return self.prices
        return self.prices.with_rates(await self._live_prices.rates(self._clients().plain, models))

    async def estimate(self, request: GenerationRequest, count: int = 1) -> CostEstimate:
        """What ``request`` is expected to cost, following its model (and audio), labelled with
        where the price comes from. Sends nothing paid."""
        table = await self.price_table([request.model])
        return table.estimate_request(request, count)

    async def service_get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """A free read of one of the gateway's service routes (``/v1/key``, ``/v2/usage``) with
        this client's key; transient faults are retried (bounded)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._clients().api.get(path, params=params)
            except httpx.TransportError as exc:
                failure: errors.KlingError = _connection_error(exc)
            else:
                _refuse_redirect(response)
                if response.status_code < 400:
                    return json_object(response, path)
                failure = status_error(response, secrets=self._secrets)
            if not _is_transient(failure) or attempt >= self.retry.max_attempts:
                raise failure
            await self._clock.sleep(self.retry.delay(attempt, getattr(failure, "retry_after", None)))

    # -- create -----------------------------------------------------------------------------

    async def check(
        self, request: GenerationRequest | None = None, /, *, probed: ImageInfo | None = None, **fields: Any
    ) -> Prepared:
        """Everything that can be checked before paying, done once; :meth:`submit` takes the result.

        The request's own rules ran when it was built; here the image is read and encoded (a
        local one) or fetched and probed (a URL, unless ``check_url_images`` is off, or ``probed``
        is what the caller's own probe of that URL found), and the price is estimated.
        """
        request = request_from(request, fields)
        for note in request.endpoint_notes(self.endpoint):
            warnings.warn(note, IgnoredFieldWarning, stacklevel=2)
        limits = self.image_limits or request.image_limits
        limited = request.with_changes(image_limits=limits)
        encoded = limited.prepare()
        info = encoded.info
        if encoded.is_url and self.check_url_images:
            if probed is None:
                info = await fetch_url_image(encoded.api_value, self._clients().plain, limits)
            else:
                probed.check(limits)
                info = probed
        end = limited.prepare_end_image()
        end_info = end.info if end else None
        if end is not None and end.is_url and self.check_url_images:
            try:
                end_info = await fetch_url_image(end.api_value, self._clients().plain, limits)
            except errors.ValidationError as error:
                raise errors.ValidationError("end_image", error.given, error.limit) from error
        return Prepared(
            request=request,
            payload=request.to_payload(encoded.api_value, end.api_value if end else None),
            estimate=await self.estimate(request),
            image=info,
            end_image=end_info,
        )

    async def submit(
        self,
        request: GenerationRequest | Prepared | None = None,
        /,
        *,
        budget: Budget | None = None,
        **fields: Any,
    ) -> Generation:
        """Create a generation (this is the call that costs money) and return it with its id.

        Takes what :meth:`check` returned, or a :class:`GenerationRequest` (or its fields as
        keywords), which is checked first. The estimate is reserved from the client's budget and
        from ``budget`` (a batch's), and refused before anything is sent when it does not fit.
        The id is in the journal before this returns.
        """
        if isinstance(request, Prepared):
            if fields:
                raise TypeError("a checked request cannot be changed: change it before check()")
            prepared = request
        else:
            prepared = await self.check(request, **fields)
        # Refused: nothing sent. Demo generations cost nothing, so they take nothing from a budget.
        budgets = [] if self.demo else [b for b in (self.budget, budget) if b is not None]
        reservations = reserve_all(budgets, prepared.estimate)
        journal = self.journal
        row: int | None = None
        # Sent with the POST and kept in the journal first: the gateway's logs find the attempt by
        # it when the answer is lost (see kling_notebook.runtime.settle).
        client_request_id = f"kn-{uuid.uuid4().hex}"
        if journal is not None:
            summary = prepared.request.summary()
            estimate = dataclasses.asdict(prepared.estimate)
            try:
                row = await journal.run(
                    lambda: journal.begin(
                        summary,
                        endpoint=self.endpoint,
                        base_url=self.base_url,
                        estimate=estimate,
                        client_request_id=client_request_id,
                        demo=self.demo,
                    ),
                    undo=lambda begun: journal.not_submitted(begun, "cancelled before it was sent"),
                )
            except BaseException:
                for reservation in reservations:
                    reservation.release()
                raise
        recorded = False

        async def record_outcome(uncertain: bool, reason: str) -> None:
            """The POST ended without a generation id: it may have created one, or provably not."""
            nonlocal recorded
            if recorded:
                return
            recorded = True
            for reservation in reservations:
                reservation.close(paid=uncertain)
            if journal is not None and row is not None:
                mark = journal.uncertain if uncertain else journal.not_submitted
                await journal.run(lambda: mark(row, reason))

        try:
            body = await self._post_once(prepared, client_request_id, record_outcome)
        except errors.SubmissionUncertainError as exc:
            await record_outcome(True, exc.reason)
            if row is None:
                raise
            raise errors.SubmissionUncertainError(exc.reason, exc.request, row=row) from exc.__cause__
        except BaseException as exc:
            # Everything _post_once lets through unrecorded provably created nothing.
            await record_outcome(False, type(exc).__name__)
            raise
        generation = generation_from(body, secrets=self._secrets)
        for reservation in reservations:
            reservation.commit(generation.credits_used)
        if journal is not None and row is not None:
            try:
                await journal.run(lambda: journal.submitted(row, generation.id, generation.status))
                self._recorded[generation.id] = (generation.status, None, None, None)
            except IdTaken as taken:  # the gateway says this is a generation the journal has
                log.warning("the gateway answered with %s", taken)
                await journal.run(functools.partial(journal.duplicate, row, taken))
            except Exception:  # the generation exists and is paid: never lose its id to a disk error
                log.exception("could not journal %s: note this id to recover the video", generation.id)
        self._submitted[generation.id] = _Submitted(prepared.request.duration, self._clock.now(), reservations)
        log.info("submitted %s (%s s video)", generation.id, prepared.request.duration)
        return generation

    async def _post_once(
        self, prepared: Prepared, client_request_id: str, record_outcome: Callable[[bool, str], Awaitable[None]]
    ) -> dict[str, Any]:
        """POST, retrying only what provably created nothing; anything else is uncertain."""
        attempt = 0
        headers = {"X-Client-Request-Id": client_request_id}
        while True:
            attempt += 1
            try:
                response = await self._request("POST", self.path, json=prepared.payload, headers=headers)
            except _NEVER_SENT as exc:
                if attempt >= self.retry.max_attempts:
                    error = _connection_error(exc)
                    error.hint = f"{error.hint} The request never reached the gateway. {_NOTHING_CREATED}"
                    raise error from exc
                await self._clock.sleep(self.retry.delay(attempt))
                continue
            except httpx.TransportError as exc:
                raise errors.SubmissionUncertainError(
                    f"{type(exc).__name__} after the request was sent", prepared.request
                ) from exc
            except asyncio.CancelledError:
                await record_outcome(True, "cancelled while the request was in flight")
                raise
            _refuse_redirect(response)
            if response.status_code == 429 and attempt < self.retry.max_attempts:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                await self._clock.sleep(self.retry.delay(attempt, retry_after))
                continue
            if response.status_code >= 500 or response.status_code in (408,):
                detail = status_error(response, secrets=self._secrets).detail
                raise errors.SubmissionUncertainError(
                    f"HTTP {response.status_code} from the gateway" + (f": {detail}" if detail else ""),
                    prepared.request,
                )
            if response.status_code >= 400:
                raise self._refusal(response, prepared.request)
            try:
                return _reply(response)
            except errors.InvalidResponseError as exc:
                inference_id = response.headers.get("x-inference-id", "").strip()
                if _is_id(inference_id):
                    # The body was lost on the way, its header was not: for an async generation the
                    # gateway's inference id is the generation id.
                    log.warning("create answer unreadable (%s); its x-inference-id names the generation", exc.message)
                    return {"id": inference_id, "status": "queued"}
                raise errors.SubmissionUncertainError(exc.message, prepared.request) from exc

    def _refusal(self, response: httpx.Response, request: GenerationRequest) -> errors.APIStatusError:
        """The typed error of a refused create, saying when the chosen provider is the likely
        cause: Kling's native API no longer lists some models the gateway still serves."""
        error = status_error(response, secrets=self._secrets)
        if response.status_code == 429:  # a rate or concurrency refusal comes before anything is made
            error.hint = f"{error.hint} {_NOTHING_CREATED}"
        if request.provider in ("kling", "klingai") and response.status_code in (400, 404, 422):
            error.hint = (
                f"{error.hint} provider={request.provider!r} may not serve {request.model} any more (it is "
                "missing from Kling's current capability map): try provider='auto' (the default), which "
                "can use the fal mirror."
            ).strip()
        return error

    # -- read -------------------------------------------------------------------------------

    async def sightings(self, attempts: dict[str, datetime], model: str = MODEL_ID) -> dict[str, Sighting]:
        """What the gateway's usage logs say of each attempt (client request id -> when it was
        sent): whether it made a generation and its id. A free read; raises the usual typed
        errors when the logs cannot be read (no access with this key, unreachable)."""
        if not attempts:
            return {}
        start = min(attempts.values()) - timedelta(minutes=1)
        end = datetime.now(timezone.utc) + timedelta(minutes=1)
        rows: list[Any] = []
        page = 0
        while True:
            response = await self._send("GET", LOGS_PATH, params=query(start, end, model, page))
            body = read_json(response)
            data = body.get("data") if isinstance(body, dict) else None
            rows += data if isinstance(data, list) else []
            if pages_done(body, page):
                return search_logs(rows, attempts)
            page += 1

    async def _get_once(self, generation_id: str) -> tuple[Generation, float | None]:
        response = await self._send("GET", params={"generation_id": generation_id})
        generation = generation_from(_reply(response, asked=generation_id), secrets=self._secrets)
        # A hint on a success only spaces the next poll: capped like any other Retry-After.
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return generation, None if retry_after is None else min(retry_after, self.retry.max_retry_after)

    async def get(self, generation: Generation | str) -> Generation:
        """The current state of a generation: a free read that writes nothing anywhere (not even a
        journal); transient faults are retried (bounded)."""
        generation_id = generation.id if isinstance(generation, Generation) else generation
        attempt = 0
        while True:
            attempt += 1
            try:
                found, _ = await self._get_once(generation_id)
                return found
            except errors.KlingError as exc:
                if not _is_transient(exc) or attempt >= self.retry.max_attempts:
                    raise
                await self._clock.sleep(self.retry.delay(attempt, getattr(exc, "retry_after", None)))

    async def _record(self, generation: Generation) -> None:
        """Keep the journal current, at most one write per poll and none when nothing is new (this
        client remembers what it recorded); an id created elsewhere is adopted so resume can
        finish it."""
        mine = self._submitted.get(generation.id)
        if mine and generation.credits_used is not None:
            for reservation in mine.reservations:  # the actual credits replace the estimate
                reservation.commit(generation.credits_used)
        journal = self.journal
        news = _news(generation)
        if journal is None or self._recorded.get(generation.id) == news:
            return
        await journal.run(
            lambda: journal.update(
                generation.id,
                generation.status,
                credits_used=generation.credits_used,
                video_url=generation.video_url,
                error=generation.error_message,
                endpoint=self.endpoint,
                base_url=self.base_url,
            )
        )
        self._recorded[generation.id] = news

    async def origin(self, generation_id: str, duration: int | None = None) -> tuple[float, int]:
        """When a generation was submitted (on this client's clock) and its video length.

        Both drive the poll schedule and the progress estimate. This client remembers its own
        submissions; any other id (resume, ``wait ID``) takes them from the journal's created_at
        and stored request, so a 10 s video picked up 8 minutes in is polled on the 10 s schedule
        from minute 8, not from zero on the 5 s one. A given ``duration`` wins; an id nobody
        journalled starts now, as a 5 s video.
        """
        mine = self._submitted.get(generation_id)
        if mine is not None:
            return mine.started, duration or mine.duration
        now = self._clock.now()
        journal = self.journal
        entry = await journal.run(lambda: journal.get(generation_id)) if journal else None
        if entry is None:
            return now, duration or 5
        return now - entry.age, duration or HistoryItem(entry).duration or 5

    async def wait(
        self,
        generation: Generation | str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        on_update: Callable[[Generation], None] | None = None,
        duration: int | None = None,
    ) -> Generation:
        """Poll until the generation completes; returns it with its video URL.

        Raises GenerationFailedError (status "error"/"failed", or an error and no video),
        MissingVideoError (completed without a URL) or WaitTimeoutError (deadline passed; the id
        stays valid). Transient errors never end the wait before the deadline; their backoff
        runs on the poll policy's ``time_scale``. The default deadline, counted from now, is
        15 min for 5 s videos, 30 for 10 s (see :meth:`origin`).
        """
        generation_id = generation.id if isinstance(generation, Generation) else generation
        if isinstance(generation, Generation) and generation.status in TERMINAL_STATUSES:
            # A create answer can already say completed (with its video): nothing to poll for.
            await self._record(generation)
            if on_update:
                on_update(generation)
            return self._ended(generation)
        since, duration = await self.origin(generation_id, duration)
        poll = poll or self.poll
        started = self._clock.now()
        deadline = started + (timeout if timeout is not None else poll.default_timeout(duration))
        last_status: str | None = None
        failures = 0
        warned: set[str] = set()
        while True:
            retry_after: float | None = None
            try:
                found, retry_after = await self._get_once(generation_id)
            except errors.KlingError as exc:
                if not _is_transient(exc):
                    raise
                failures += 1
                log.warning("status read failed (%s); still waiting for %s", exc.message, generation_id)
                retry_after = max(
                    self.retry.delay(
                        min(failures, 8), getattr(exc, "retry_after", None), time_scale=poll.time_scale
                    ),
                    poll.next_delay(self._clock.now() - since, duration),
                )
            else:
                failures = 0
                last_status = found.status
                await self._record(found)
                if on_update:
                    on_update(found)
                if found.status in TERMINAL_STATUSES:
                    return self._ended(found)
                if found.status not in RUNNING_STATUSES and found.status not in warned:
                    warned.add(found.status)
                    log.warning("unknown status %r for %s: treated as running", found.status, generation_id)
            now = self._clock.now()
            if now >= deadline:
                raise errors.WaitTimeoutError(generation_id, now - started, last_status)
            delay = poll.next_delay(now - since, duration, retry_after)
            await self._clock.sleep(min(delay, deadline - now))

    def _ended(self, generation: Generation) -> Generation:
        """A generation that has ended: returned when it has its video, else its typed error. A
        failed one is not billed (the gateway releases its hold), so its reservations are
        refunded."""
        if generation.is_failed:
            mine = self._submitted.get(generation.id)
            for reservation in mine.reservations if mine else ():
                reservation.refund()
            raise errors.GenerationFailedError(generation.id, generation.error_name, generation.error_message)
        if not generation.video_url:
            raise errors.MissingVideoError(generation.id)
        return generation

    # -- download ---------------------------------------------------------------------------

    async def download(
        self,
        generation: Generation,
        path: str | os.PathLike[str],
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Stream the video to ``path`` (via ``path.part``, resumed with Range after a fault).

        The file appears under its final name only when it is provably whole (see
        :mod:`~kling_notebook.gateway.download`), and never in place of a file of another
        generation: when ``path`` holds one, the video is saved beside it under a numbered name,
        which is returned. The journal names the ``.part`` meanwhile, so when this process dies or
        gives up, the next download of the generation continues those bytes (see
        :mod:`kling_notebook.store.partials`). A link the host refuses (an expired signed URL) is
        replaced by a fresh one from a status read.
        """
        if not generation.video_url:
            raise errors.MissingVideoError(generation.id)
        url = require_http_url(generation.id, generation.video_url)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = partial_path(target)
        journal = self.journal
        entry = None
        if journal:
            await self._record(generation)  # adopts a generation this journal has not seen yet
            entry = await journal.run(lambda: journal.get(generation.id))
        earlier = Path(entry.partial) if entry and entry.partial else None

        async def fresh_url() -> str:
            found = await self.get(generation.id)
            if found.video_url and found.video_url != url:
                await self._record(found)
            return found.video_url or url

        if earlier is not None and (kept := continued(earlier)) is not None:
            partial, held = earlier, kept
        else:
            if journal:  # named before it exists: a kill from here on leaves nothing unknown
                await journal.run(lambda: journal.record_partial(generation.id, partial))
            try:
                held = started(generation.id, partial)
            except errors.DownloadError:  # a live download holds that name: it stays its own
                if journal:
                    await journal.run(lambda: journal.record_partial(generation.id, earlier))
                raise
        try:
            total = await fetch_video(
                self._clients().plain, generation.id, url, partial,
                retry=self.retry, clock=self._clock, policy=self.download_policy,
                expected_size=generation.file_size, refresh=fresh_url, on_progress=on_progress,
            )
            mine = {Path(entry.path)} if entry and entry.path else set()
            target = place(partial, target, generation.id, mine)
            write_validator(partial, None)  # the bytes it described have their final name
        finally:
            os.close(held)
        if journal:
            await journal.run(lambda: journal.downloaded(generation.id, str(target)))
        log.info("saved %s (%d bytes)", target, total)
        return target


async def _close(pair: _Transports) -> None:
    await pair.api.aclose()
    await pair.plain.aclose()
