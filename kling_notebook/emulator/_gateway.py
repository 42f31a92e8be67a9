"""The gateway's behaviour over HTTP: routes, auth, validation, generations, the CDN, faults.

Faults are decided when a request arrives, before auth and validation, as a proxy in front of the
gateway would cause them (see ``_faults`` for the spec). Every request is counted in the stats by
route and outcome once it has been answered (or reset).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ._faults import FaultInjector, FaultSpec, parse_faults
from ._http import ABORT, Abort, Request, Response, ranged
from ._jobs import JobStore
from ._payloads import GenerationSummary, error_body, generation_body, generation_summary
from ._stats import Stats
from ._studio import Studio
from ._validation import BodyInvalid, Flavor, Issue, validate

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
UNAUTHORIZED = "Invalid or missing API key: send the header 'Authorization: Bearer <key>'."
_JSON = {"Content-Type": "application/json; charset=utf-8"}
_VIDEO_PATH = re.compile(r"/cdn/(?P<token>[0-9a-f]+)/output\.mp4")

_Handler = Callable[[Request, Flavor], Awaitable[Response]]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(body).encode(), {**_JSON, **(headers or {})})


def _error(request: Request, status: int, message: str, **extra: Any) -> Response:
    return _json(status, error_body(status, message, request.path, **extra))


def _invalid(request: Request, message: str, issues: list[Issue]) -> Response:
    return _error(request, 400, message, errors=[issue.as_json() for issue in issues])


class Gateway:
    """Answers one request at a time on the emulator's loop; holds no lock because it needs none."""

    def __init__(
        self,
        *,
        api_key: str,
        store: JobStore,
        studio: Studio,
        stats: Stats,
        faults: FaultSpec,
        seed: int | None,
    ) -> None:
        self._api_key = api_key
        self._store = store
        self._studio = studio
        self._stats = stats
        self._seed = seed
        self.faults = FaultInjector(faults, seed)
        self.base_url = ""  # known once the server is bound

    def set_faults(self, spec: FaultSpec) -> None:
        """Switch to ``spec``; its scripts count events from now on."""
        self.faults = FaultInjector(spec, self._seed)

    async def handle(self, request: Request) -> Response | Abort:
        route, result = await self._dispatch(request)
        if isinstance(result, Abort) or result.cut_after is not None:
            self._stats.count_request(route, "reset")
        else:
            self._stats.count_request(route, str(result.status))
        return result

    async def _dispatch(self, request: Request) -> tuple[str, Response | Abort]:
        method, path = request.method, request.path.rstrip("/") or "/"
        flavor = ENDPOINTS.get(path)
        if flavor is not None and method in ("POST", "GET"):
            handler = self._create if method == "POST" else self._fetch
            result = await self._with_faults(method.lower(), request, flavor, handler)
            return f"{method} {path}", result
        if path.startswith("/cdn/") and method in ("GET", "HEAD"):
            return f"{method} /cdn", self._download(request)
        if path == "/_emulator/stats" and method == "GET":
            return f"{method} {path}", self._authorized(request, self._stats_response)
        if path == "/_emulator/generations" and method == "GET":
            return f"{method} {path}", self._authorized(request, lambda: _json(200, self.summaries()))
        if path == "/_emulator/faults" and method == "POST":
            body = await request.read_body()
            return f"{method} {path}", self._authorized(request, lambda: self._set_faults(body))
        return f"{method} *", _error(request, 404, f"Cannot {method} {path}")

    def _record(self, scope: str, kind: str) -> None:
        self._stats.faults[f"{scope}:{kind}"] += 1

    async def _with_faults(
        self, scope: str, request: Request, flavor: Flavor, handler: _Handler
    ) -> Response | Abort:
        """Run ``handler`` with whatever fault this request draws wrapped around it."""
        kind = self.faults.draw(scope)
        if kind is not None:
            self._record(scope, kind)
        if kind == "reset_before":
            return ABORT
        await request.read_body()
        if kind in _STATUS_FAULTS:
            retry = {"Retry-After": str(self.faults.spec.retry_after)} if kind == "429" else {}
            body = error_body(int(kind), _STATUS_FAULTS[kind], request.path)
            return _json(int(kind), body, retry)
        response = await handler(request, flavor)
        if kind == "reset_after":
            return ABORT
        if kind == "slow":
            await asyncio.sleep(self.faults.spec.delay)
        if kind == "malformed":
            response.body = response.body[: len(response.body) // 2]
        return response

    def _unauthorized(self, request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        given = key.strip().encode("utf-8", "replace")
        if scheme.lower() == "bearer" and hmac.compare_digest(given, self._api_key.encode()):
            return None
        return _error(request, 401, UNAUTHORIZED)

    def _authorized(self, request: Request, answer: Callable[[], Response]) -> Response:
        return self._unauthorized(request) or answer()

    async def _create(self, request: Request, flavor: Flavor) -> Response:
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        try:
            body = json.loads(await request.read_body())
        except ValueError:  # includes bad UTF-8
            not_json = Issue("", "JSON object", "invalid JSON")
            return _invalid(request, "Body validation error", [not_json])
        try:
            normalized = validate(body, flavor)
        except BodyInvalid as invalid:
            return _invalid(request, "Body validation error", invalid.issues)
        if not self.faults.charge():
            self._stats.faults["credits_after"] += 1
            return _error(request, 403, OUT_OF_CREDITS)
        job = self._store.create(flavor, normalized)
        job.fault = self.faults.draw("job")
        if job.fault is not None:
            self._record("job", job.fault)
        job.download_fault = self.faults.draw("download")  # counted when injected
        self._stats.created.append(job.id)
        self._studio.produce(job)
        status = job.status(self._store.clock.now())
        return _json(200, generation_body(job, flavor, status, self.base_url, created=True))

    async def _fetch(self, request: Request, flavor: Flavor) -> Response:
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        generation_id = request.query_value("generation_id")
        if not generation_id:
            missing = Issue("generation_id", "string", "undefined")
            return _invalid(request, "Query validation error", [missing])
        job = self._store.jobs.get(generation_id)
        if job is None:
            return _error(request, 404, f"Generation {generation_id!r} not found")
        status = job.status(self._store.clock.now())
        return _json(200, generation_body(job, flavor, status, self.base_url))

    def _download(self, request: Request) -> Response:
        """The CDN: public URLs (no key), byte ranges, and the ``download`` faults."""
        match = _VIDEO_PATH.fullmatch(request.path)
        job = self._store.by_token.get(match["token"]) if match else None
        video = job.outcome.video if job is not None and job.outcome is not None else None
        if job is None or video is None:
            return _error(request, 404, "Not found")
        response = ranged(video, request.headers.get("range"), {"Content-Type": "video/mp4"})
        if request.method == "HEAD":
            return response
        job.downloads += 1
        if job.downloads == 1 and job.download_fault is not None:
            self._record("download", job.download_fault)
            if job.download_fault == "fail_once":
                return _error(request, 500, "Internal server error")
            response.cut_after = len(response.body) // 2
            return response
        if response.status in (200, 206):
            self._stats.downloads["served"] += 1
            self._stats.downloads["bytes"] += len(response.body)
        return response

    def summaries(self) -> dict[str, GenerationSummary]:
        """Every generation created so far, by id, as the emulator sees it now."""
        now = self._store.clock.now()
        return {job_id: generation_summary(job, now, self.base_url) for job_id, job in self._store.jobs.items()}

    def _stats_response(self) -> Response:
        return _json(200, self._stats.snapshot())

    def _set_faults(self, body: bytes) -> Response:
        """Control endpoint for an emulator in another process: the body is a fault spec."""
        try:
            text = body.decode()
            self.set_faults(parse_faults(text))
        except ValueError as error:  # UnicodeDecodeError is a ValueError
            return _json(400, {"message": str(error)})
        return _json(200, {"faults": text})
