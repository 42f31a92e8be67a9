"""The CDN: where finished videos are served, what their URLs look like, and its faults.

Result URLs need no key, as on the real CDN. A video is served under two paths, the gateway's
``/cdn/<token>/output.mp4`` and a Kling-CDN-looking ``/bs2/upload-kling-api/<token>/output.mp4``;
the query string of a URL is ignored unless its generation's replies are signed, in which case it
must carry an unexpired, untampered signature (403 otherwise, as a signed-URL CDN answers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable

from ._http import Request, Response, ranged
from ._jobs import Clock, Job, JobStore
from ._payloads import error_body
from ._stats import Stats

__all__ = ["Cdn"]

_PATH = re.compile(r"/(?:cdn|bs2/upload-kling-api)/(?P<token>[0-9a-f]+)/output\.mp4")
_KLING_PATH = "/bs2/upload-kling-api"
_XML = {"Content-Type": "application/xml"}
_EXPIRED = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
_FORGED = b"<Error><Code>AccessDenied</Code><Message>Signature does not match</Message></Error>"


class Cdn:
    """Builds video URLs for status replies and serves them (on the emulator's loop)."""

    def __init__(
        self, store: JobStore, stats: Stats, clock: Clock, record: Callable[[str, str], None]
    ) -> None:
        self._store = store
        self._stats = stats
        self._clock = clock
        self._record = record  # counts an injected fault under scope:kind
        self._secret = secrets.token_bytes(32)

    def _signature(self, token: str, expires: str, nonce: str) -> str:
        message = f"{token}:{expires}:{nonce}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def url(self, job: Job, base_url: str, ttl: float) -> str:
        """The URL a status reply gives for ``job``'s video, in its reply shape."""
        shape = job.shape.url
        if shape == "url_query":
            cache_key = hashlib.sha256(job.token.encode()).hexdigest()[:24]
            pid = int(job.token[:8], 16) % 900000 + 100000
            return f"{base_url}/cdn/{job.token}/output.mp4?cacheKey={cache_key}&x-kcdn-pid={pid}"
        if shape == "url_signed":
            expires, nonce = str(int(self._clock.wall() + ttl)), secrets.token_hex(4)
            signature = self._signature(job.token, expires, nonce)
            query = f"x-expires={expires}&x-nonce={nonce}&x-signature={signature}"
            return f"{base_url}{_KLING_PATH}/{job.token}/output.mp4?{query}"
        if shape == "url_kling":
            return f"{base_url}{_KLING_PATH}/{job.token}/output.mp4"
        return f"{base_url}/cdn/{job.token}/output.mp4"

    def _denied(self, request: Request, job: Job) -> Response | None:
        """403 for a signed video asked for without a valid, unexpired signature."""
        if job.shape.url != "url_signed":
            return None
        expires = request.query_value("x-expires") or ""
        nonce = request.query_value("x-nonce") or ""
        given = request.query_value("x-signature") or ""
        if not hmac.compare_digest(given, self._signature(job.token, expires, nonce)):
            return Response(403, _FORGED, dict(_XML))
        if not expires.isdigit() or self._clock.wall() >= int(expires):
            return Response(403, _EXPIRED, dict(_XML))
        return None

    def serve(self, request: Request) -> Response:
        """A GET or HEAD of a video: byte ranges, and the ``download`` faults."""
        match = _PATH.fullmatch(request.path)
        job = self._store.by_token.get(match["token"]) if match else None
        video = job.outcome.video if job is not None and job.outcome is not None else None
        if job is None or video is None:
            return Response(404, *_json_error(404, "Not found", request.path))
        denied = self._denied(request, job)
        if denied is not None:
            return denied
        response = ranged(video, request.headers.get("range"), {"Content-Type": "video/mp4"})
        if request.method == "HEAD":
            return response
        job.downloads += 1
        if job.downloads == 1 and job.download_fault is not None:
            self._record("download", job.download_fault)
            if job.download_fault == "fail_once":
                return Response(500, *_json_error(500, "Internal server error", request.path))
            response.cut_after = len(response.body) // 2
            return response
        if response.status in (200, 206):
            self._stats.downloads["served"] += 1
            self._stats.downloads["bytes"] += len(response.body)
        return response


def _json_error(status: int, message: str, path: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(error_body(status, message, path)).encode()
    return body, {"Content-Type": "application/json; charset=utf-8"}
