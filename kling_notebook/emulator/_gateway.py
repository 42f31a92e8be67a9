"""The gateway's behaviour over HTTP: routes, auth, validation, generations, the CDN, faults.

Faults are decided when a request arrives, before auth and validation, as a proxy in front of the
gateway would cause them (see ``_faults`` for the spec). Every request is counted in the stats by
route and outcome once it has been answered (or reset). API calls (everything but the CDN and the
``/_emulator`` control routes) are traced as ``_tracing`` describes and logged as ``_logs``
describes. Handlers raise :class:`~._payloads.Refused` for an error answer; it is rendered in
one place, in the gateway's error shape.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable

from ._accounts import Account, ApiKey, ManagementKey
from ._billing import Ledger
from ._cdn import Cdn
from ._faults import FaultInjector, FaultSpec, parse_faults
from ._http import ABORT, Abort, Request, Response
from ._jobs import Job, JobStore
from ._logs import Logs
from ._models import Catalogue
from ._payloads import (
    GenerationSummary,
    Refused,
    body_invalid,
    error_body,
    generation_body,
    generation_summary,
    json_reply,
)
from ._registry import KEEP_DAYS, Registry
from ._replies import Replies, ReplyProfile, parse_replies
from ._service import Service
from ._stats import Stats, StatsSnapshot
from ._studio import Studio
from ._tracing import Call
from ._validation import BodyInvalid, Flavor, Issue, validate
from ._window import QueryInvalid

__all__ = ["ENDPOINTS", "Gateway"]

ENDPOINTS: dict[str, Flavor] = {
    "/v2/video/generations": "universal",
    "/v2/generate/video/kling/generation": "legacy",
}
_STATUS_FAULTS = {
    "429": "Too many requests: the rate or concurrency limit was reached. Retry later.",
    "500": "Internal server error",
    "502": "Bad gateway",
    "503": "Service unavailable",
    "504": "Generation timeout",
}
OUT_OF_CREDITS = (
    "You've run out of credits. Please top up your balance or update your payment method "
    "to continue."
)

_Handler = Callable[[Call, Flavor], Awaitable[Response]]


class Gateway:
    """Answers one request at a time on the emulator's loop; holds no lock because it needs none."""

    def __init__(
        self,
        *,
        account: Account,
        store: JobStore,
        studio: Studio,
        stats: Stats,
        faults: FaultSpec,
        replies: ReplyProfile,
        seed: int | None,
        logs_lag: float,
        catalogue: Catalogue,
        balance: float,
        registry: Registry | None,
        concurrency: int | None,
    ) -> None:
        if concurrency is not None and concurrency < 1:
            raise ValueError("concurrency must be at least 1 (or None: no limit)")
        self._account = account
        self._concurrency = concurrency
        stats.concurrency["limit"] = concurrency
        self._store = store
        self._studio = studio
        self._stats = stats
        self._seed = seed
        self.faults = FaultInjector(faults, seed)
        self.replies = Replies(replies, seed)
        self._cdn = Cdn(store, stats, store.clock, self._record)
        self._ledger = Ledger(store.clock, stats, balance)
        self._logs = Logs(store.clock, logs_lag, self._ledger.charged)
        self._catalogue = catalogue
        self._service = Service(account, self._ledger, self._logs, catalogue, stats)
        self._registry = registry
        # Control routes for an emulator in another process: each body is a spec.
        self._controls: dict[str, Callable[[bytes], Response]] = {
            "/_emulator/faults": self._set_faults,
            "/_emulator/replies": self._set_replies,
            "/_emulator/prices": self._set_price,
        }
        self.base_url = ""  # known once the server is bound

    def set_faults(self, spec: FaultSpec) -> None:
        """Switch to ``spec``; its scripts count events from now on."""
        self.faults = FaultInjector(spec, self._seed)

    def set_price(self, model: str, usd_per_second: float, audio: bool | None) -> None:
        self._catalogue.set_price(model, usd_per_second, audio)

    def set_replies(self, profile: ReplyProfile) -> None:
        """Switch to ``profile`` for generations created from now on."""
        self.replies = Replies(profile, self._seed)

    def _video_url(self, job: Job) -> str:
        return self._cdn.url(job, self.base_url, self.replies.profile.ttl)

    async def handle(self, request: Request) -> Response | Abort:
        route, result = await self._dispatch(request)
        if isinstance(result, Abort) or result.cut_after is not None:
            self._stats.count_request(route, "reset")
        else:
            self._stats.count_request(route, str(result.status))
        return result

    def snapshot(self) -> StatsSnapshot:
        """The stats, with every generation that has ended by now settled."""
        self._ledger.settle()
        return self._stats.snapshot()

    async def _dispatch(self, request: Request) -> tuple[str, Response | Abort]:
        self._ledger.settle()
        method, path = request.method, request.path.rstrip("/") or "/"
        if path.startswith(("/cdn/", "/bs2/")) and method in ("GET", "HEAD"):
            return f"{method} /cdn", self._cdn.serve(request, self.faults.spec.byte_delay)
        call = Call.of(request)
        route, result = await self._api(call, method, path)
        if isinstance(result, Response) and call.reached_gateway:
            call.trace(result)
        if call.reached_gateway:
            status = result.status if isinstance(result, Response) else None
            self._logs.record(call, status)
        return route, result

    async def _api(self, call: Call, method: str, path: str) -> tuple[str, Response | Abort]:
        """Route ``call``; a :class:`Refused` becomes an error reply."""
        route = f"{method} {path}"
        try:
            flavor = ENDPOINTS.get(path)
            if flavor is not None and method in ("POST", "GET"):
                handler = self._create if method == "POST" else self._fetch
                return route, await self._with_faults(method.lower(), call, flavor, handler)
            answer = await self._service.answer(call, method, path)
            if answer is not None:
                if path.startswith("/v1/keys/"):
                    route = f"{method} /v1/keys/*"  # one route, whatever the prefix
                return route, answer
            if path.startswith("/_emulator/"):
                return route, await self._control(call, method, path)
            route = f"{method} *"
            raise Refused(404, f"Cannot {method} {path}")
        except Refused as refused:
            return route, self._refusal(call, refused)

    def _refusal(self, call: Call, refused: Refused) -> Response:
        code = self.replies.status_code(refused.status)
        body = error_body(
            refused.status,
            refused.message,
            call.request.path,
            code,
            call.request_id,
            **refused.extra,
        )
        return json_reply(refused.status, body, refused.headers)

    async def _control(self, call: Call, method: str, path: str) -> Response:
        """The ``/_emulator`` routes (stats, generations, specs), for tests and benchmarks."""
        call.reached_gateway = False  # not part of the emulated gateway: neither traced nor logged
        principal = self._account.authenticate(call.request)
        if principal is not self._account.root and not isinstance(principal, ManagementKey):
            raise Refused(403, "The control routes take the emulator's api_key or management key.")
        if path == "/_emulator/stats" and method == "GET":
            return json_reply(200, self.snapshot())
        if path == "/_emulator/generations" and method == "GET":
            return json_reply(200, self.summaries())
        if path in self._controls and method == "POST":
            return self._controls[path](await call.request.read_body())
        raise Refused(404, f"Cannot {method} {path}")

    def _record(self, scope: str, kind: str) -> None:
        self._stats.faults[f"{scope}:{kind}"] += 1

    async def _with_faults(
        self, scope: str, call: Call, flavor: Flavor, handler: _Handler
    ) -> Response | Abort:
        """Run ``handler`` with whatever fault this request draws wrapped around it."""
        request = call.request
        kind = self.faults.draw(scope)
        if kind is not None:
            self._record(scope, kind)
        if kind == "reset_before":
            call.reached_gateway = False
            return ABORT
        await request.read_body()
        if kind in _STATUS_FAULTS:
            call.reached_gateway = False
            retry = {"Retry-After": str(self.faults.spec.retry_after)} if kind == "429" else None
            return self._refusal(call, Refused(int(kind), _STATUS_FAULTS[kind], retry))
        try:
            response = await handler(call, flavor)
        except Refused as refused:
            response = self._refusal(call, refused)
        if kind == "reset_after":
            return ABORT
        if kind == "slow":
            await asyncio.sleep(self.faults.spec.delay)
        if kind == "malformed":
            response.body = response.body[: len(response.body) // 2]
        return response

    def _authenticate(self, call: Call) -> ApiKey:
        """``call``'s API key, which must be allowed videos (401 or 403 otherwise)."""
        key = self._account.api_key(call.request, "model:video")
        call.key_prefix = key.prefix
        return key

    def _slot(self) -> None:
        """Refuse (429, nothing created) a create while the account runs its limit of
        generations; Retry-After says when the next one is due to end."""
        running = self._ledger.running()
        if self._concurrency is None or running < self._concurrency:
            return
        self._stats.concurrency["refused"] += 1
        due = self._ledger.next_end()
        wait = 1 if due is None else max(1, math.ceil(due - self._store.clock.now()))
        message = (
            f"Too many concurrent generations: {running} are running on this account, its limit "
            f"is {self._concurrency}. Retry when one ends."
        )
        raise Refused(429, message, {"Retry-After": str(wait)})

    async def _create(self, call: Call, flavor: Flavor) -> Response:
        key = self._authenticate(call)
        try:
            body = json.loads(await call.request.read_body())
        except ValueError:  # includes bad UTF-8
            raise body_invalid([Issue("", "JSON object", "invalid JSON")]) from None
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            call.model = body["model"]
        try:
            normalized = validate(body, flavor)
        except BodyInvalid as invalid:
            raise body_invalid(invalid.issues) from None
        if not self.faults.charge():
            self._stats.faults["credits_after"] += 1
            raise Refused(403, OUT_OF_CREDITS)
        spec = self._catalogue.spec(normalized.model)
        price = self._catalogue.price(spec.id, normalized.duration, normalized.generate_audio)
        self._service.check_spend(key, price[0])
        if self._ledger.available < price[0]:
            raise Refused(403, OUT_OF_CREDITS)
        self._slot()
        job = self._store.create(flavor, normalized, self.replies.shape(), spec, price)
        self._ledger.hold(job, call.key_prefix or "")
        job.client_request_id = call.client_request_id
        call.about(job)
        call.credits, call.usd = job.credits, job.usd  # the hold this create placed
        job.fault = self.faults.draw("job")
        if job.fault is not None:
            self._record("job", job.fault)
        job.download_fault = self.faults.draw("download")  # counted when injected
        self._stats.created.append(job.id)
        if self._registry is not None:
            self._registry.keep(job, self._store.clock.wall(), self._store.time_scale)
        production = self._studio.produce(job)
        production.add_done_callback(lambda _: self._ledger.outcome_known(job))
        if job.shape.create == "instant":
            await asyncio.shield(production)
        now = self._store.clock.now()
        return json_reply(
            200, generation_body(job, flavor, now, self._video_url(job), created=True)
        )

    async def _fetch(self, call: Call, flavor: Flavor) -> Response:
        self._authenticate(call)
        generation_id = call.request.query_value("generation_id")
        if not generation_id:
            raise QueryInvalid([Issue("generation_id", "string", "undefined")])
        job = self._store.jobs.get(generation_id) or self._rebuild(generation_id)
        if job is None:
            raise Refused(404, self._not_found(generation_id))
        call.about(job)
        now = self._store.clock.now()
        return json_reply(200, generation_body(job, flavor, now, self._video_url(job)))

    def _rebuild(self, generation_id: str) -> Job | None:
        """A generation another emulator sharing the registry made, rebuilt here."""
        job = self._registry.rebuild(generation_id, self._store) if self._registry else None
        if job is not None:
            self._studio.produce(job)
        return job

    def _not_found(self, generation_id: str) -> str:
        if self._registry is None:
            return (
                f"Generation {generation_id!r} not found: this emulator knows only the "
                "generations made through it, in this process"
            )
        return (
            f"Generation {generation_id!r} not found: not made here, and no record of it in "
            f"{self._registry.folder} (kept {KEEP_DAYS} days)"
        )

    def summaries(self) -> dict[str, GenerationSummary]:
        """Every generation created so far, by id, as the emulator sees it now."""
        now = self._store.clock.now()
        return {
            job_id: generation_summary(job, now, self._video_url(job))
            for job_id, job in self._store.jobs.items()
        }

    def _set_faults(self, body: bytes) -> Response:
        try:
            text = body.decode()
            self.set_faults(parse_faults(text))
        except ValueError as error:  # UnicodeDecodeError is a ValueError
            return json_reply(400, {"message": str(error)})
        return json_reply(200, {"faults": text})

    def _set_replies(self, body: bytes) -> Response:
        try:
            profile = parse_replies(body.decode())
        except ValueError as error:
            return json_reply(400, {"message": str(error)})
        self.set_replies(profile)
        return json_reply(200, {"replies": profile.text})

    def _set_price(self, body: bytes) -> Response:
        """``{"model": ..., "usd_per_second": ..., "generate_audio": optional}``: a live price."""
        try:
            change = json.loads(body)
            audio = change.get("generate_audio")
            if audio is not None and not isinstance(audio, bool):
                raise ValueError("generate_audio must be true, false or absent")
            self._catalogue.set_price(str(change["model"]), float(change["usd_per_second"]), audio)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            return json_reply(400, {"message": f"expected {{model, usd_per_second}}: {error}"})
        return json_reply(200, change)
