"""The CDN: where finished videos are served, what their URLs look like, and its faults.

Videos carry ``ETag`` and ``Last-Modified``, are served whole or by one byte range (``If-Range``
honoured: a validator that does not match gets the whole object) and misbehave as their
``download`` fault says (``_cdn_faults``).

Result URLs need no key, as on the real CDN. A video is served under two paths, the gateway's
``/cdn/<token>/output.mp4`` and a Kling-CDN-looking ``/bs2/upload-kling-api/<token>/output.mp4``;
the query string of a URL is ignored unless its generation's replies are signed, in which case it
must carry an unexpired, untampered signature (403 otherwise, as a signed-URL CDN answers).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlencode

from ._cdn_faults import misbehave
from ._http import Request, Response, ranged
from ._jobs import Clock, Job, JobStore
from ._payloads import error_body, json_reply
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
        self._versions: dict[str, list[_Version]] = {}  # by video token

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

    def _version(self, job: Job, video: bytes) -> _Version:
        """The object now behind ``job``'s URL (a ``changed`` video has a second version)."""
        versions = self._versions.setdefault(job.token, [])
        if not versions:
            versions.append(_Version.of(video, self._clock.wall()))
        return versions[-1]

    def _change(self, job: Job) -> None:
        """Replace ``job``'s object by its second version (another clip, rendered up front)."""
        revision = job.outcome.revision if job.outcome is not None else None
        versions = self._versions[job.token]
        if revision is not None:
            modified = max(self._clock.wall(), versions[-1].modified + 1)  # dates are in seconds
            versions.append(_Version.of(revision, modified))

    def serve(self, request: Request, byte_delay: float) -> Response:
        """A GET or HEAD of a video: validators, byte ranges, and the ``download`` faults
        (a ``trickle`` sends a byte every ``byte_delay`` seconds)."""
        match = _PATH.fullmatch(request.path)
        job = self._store.by_token.get(match["token"]) if match else None
        video = job.outcome.video if job is not None and job.outcome is not None else None
        if job is None or video is None:
            return json_reply(404, error_body(404, "Not found", request.path))
        denied = self._denied(request, job)
        if denied is not None:
            return denied
        if request.method == "GET" and job.download_fault == "redirect_loop":
            return self._redirect(request, job)
        version = self._version(job, video)
        range_header = request.headers.get("range") if version.fits(request) else None
        response = ranged(version.body, range_header, version.headers())
        if request.method == "HEAD":
            return response
        job.downloads += 1
        kind = job.download_fault
        if job.downloads == 1 and kind is not None:
            self._record("download", kind)
            if kind == "fail_once":
                return json_reply(500, error_body(500, "Internal server error", request.path))
            if kind == "changed":
                self._change(job)
            return misbehave(kind, response, byte_delay)
        if response.status in (200, 206):
            self._stats.downloads["served"] += 1
            self._stats.downloads["bytes"] += len(response.body)
        return response

    def _redirect(self, request: Request, job: Job) -> Response:
        """A loop: the video's path redirects to itself with ``?loop=1``, which redirects back."""
        job.downloads += 1
        if job.downloads == 1:
            self._record("download", "redirect_loop")
        query = {name: values for name, values in request.query.items() if name != "loop"}
        if "loop" not in request.query:
            query["loop"] = ["1"]
        target = request.path + (f"?{urlencode(query, doseq=True)}" if query else "")
        return Response(302, b"", {"Location": target})


@dataclass(frozen=True)
class _Version:
    """One version of a video object and its validators."""

    body: bytes
    modified: float  # Unix seconds
    etag: str

    @classmethod
    def of(cls, body: bytes, modified: float) -> _Version:
        return cls(body, float(int(modified)), '"' + hashlib.sha256(body).hexdigest()[:32] + '"')

    @property
    def last_modified(self) -> str:
        return formatdate(self.modified, usegmt=True)

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "video/mp4", "ETag": self.etag, "Last-Modified": self.last_modified}

    def fits(self, request: Request) -> bool:
        """Whether a Range may be served: no ``If-Range``, or one naming this version (strong
        comparison for an ETag, an exact date for Last-Modified)."""
        validator = request.headers.get("if-range")
        return validator is None or validator.strip() in (self.etag, self.last_modified)
