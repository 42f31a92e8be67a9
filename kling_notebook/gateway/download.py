"""Streaming a video from its host to a ``.part`` file, resumed with Range after a fault.

The host is a third party (a CDN): it gets no key, and what it sends is checked, not trusted. A
download is complete only when it provably is: its size agrees with the gateway's
``video.file_size`` (when given) and with the host's Content-Length or Content-Range total, and
the file is a whole MP4 (:mod:`kling_notebook.store.mp4`). A body larger than announced, or than
any video could be (:attr:`DownloadPolicy.max_bytes`), is refused before it fills the disk. A
resumed download names the object its kept bytes came from (``If-Range``) and starts over when the
host now serves another one, so two files are never spliced. A host that sends too little for too
long (stalled, or a byte at a time) is left and asked again, so a download ends in bounded time.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx

from ..domain import errors
from ..domain.retry import RETRYABLE_STATUS, Clock, RetryPolicy, parse_retry_after
from ..store.mp4 import NotAVideo, Truncated, require_mp4
from ..store.partials import Validator, read_validator, write_validator

__all__ = ["DownloadPolicy", "IDENTITY", "body_encodings", "fetch_video", "require_http_url"]

log = logging.getLogger("kling_notebook")

#: Asked on every download: the stored bytes, so written sizes and Range offsets count file bytes.
IDENTITY = {"Accept-Encoding": "identity"}
#: Encodings a host may still use that httpx decodes (a whole body only, never a Range slice).
_DECODABLE = frozenset({"gzip", "deflate"})
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
#: How many times in a row a refused (403) link is replaced by a fresh one from the gateway.
_MAX_REFRESHES = 2


@dataclass(frozen=True)
class DownloadPolicy:
    """What a video download must show to be going on, and how big a video may be.

    ``min_rate`` bytes per second, averaged over each ``window`` seconds of the body, or the
    attempt is given up and retried from where it stopped (a stalled host fails within
    ``window`` seconds, one sending a byte at a time too). ``max_bytes``: no video is larger (a
    10 s 1080p clip is about 32 MB), so a body announcing or sending more is refused. Progress is
    reported at most once per ``progress_interval`` seconds, and once at the end with the final
    count.
    """

    min_rate: float = 8 * 1024
    window: float = 30.0
    max_bytes: int = 1 << 30
    progress_interval: float = 0.25


class _Incomplete(Exception):
    """This attempt did not bring the whole video; asking again may (the kept bytes say where
    from)."""


class _Refused(Exception):
    """The host refused the link (403): a signed URL that expired; the gateway signs a new one."""


def body_encodings(response: httpx.Response) -> tuple[str, ...]:
    """The answer's content codings that must be decoded (identity left out).

    Raises :class:`NotAVideo` when they cannot be: an unknown coding, or an encoded Range slice,
    which cannot be decoded on its own.
    """
    codings = tuple(
        coding
        for coding in (value.strip().lower() for value in response.headers.get_list("content-encoding", True))
        if coding not in ("", "identity")
    )
    if codings and (response.status_code == 206 or not set(codings) <= _DECODABLE):
        raise NotAVideo(
            f"the video host sent the video encoded as {', '.join(codings)} although "
            "'Accept-Encoding: identity' was asked"
        )
    return codings


def require_http_url(generation_id: str, url: object) -> str:
    """``url`` when it is an http(s) URL with a host; a DownloadError otherwise (nothing fetched:
    another scheme could read local files or run script where a URL is shown)."""
    if isinstance(url, str):
        parts = urlsplit(url.strip())
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            return url.strip()
    kind = "a URL" if isinstance(url, str) else type(url).__name__
    raise errors.DownloadError(generation_id, f"the gateway's video URL is not an http(s) URL ({kind})")


class _Progress:
    """Progress for the caller: never backwards, at most one report per interval, the last
    count always reported."""

    def __init__(self, on_progress: Callable[[int, int | None], None] | None, interval: float) -> None:
        self._on_progress = on_progress
        self._interval = interval
        self._shown: tuple[int, int | None] | None = None
        self._at = float("-inf")

    def __call__(self, done: int, total: int | None) -> None:
        if self._on_progress is None or (self._shown is not None and done < self._shown[0]):
            return  # a restart from zero never moves the bar back
        now = time.monotonic()
        if now - self._at >= self._interval:
            self._show(done, total, now)

    def finish(self, done: int, total: int | None) -> None:
        if self._on_progress is not None and self._shown != (done, total):
            self._show(done, total, time.monotonic())

    def _show(self, done: int, total: int | None, now: float) -> None:
        assert self._on_progress is not None
        self._shown, self._at = (done, total), now
        self._on_progress(done, total)


class _Pace:
    """The minimum-rate rule over one body: every ``window`` seconds must bring
    ``min_rate * window`` bytes. Silence is caught by the socket's read timeout, which a download
    sets to the window (:func:`_read_timeout`), so no timer runs beside the reads."""

    def __init__(self, policy: DownloadPolicy) -> None:
        self._needed = policy.min_rate * policy.window
        self._policy = policy
        self._mark = time.monotonic()
        self._got = 0

    def count(self, received: int) -> None:
        """Count a chunk; raises :class:`_Incomplete` when its window brought too little."""
        self._got += received
        now = time.monotonic()
        if now - self._mark < self._policy.window:
            return
        if self._got < self._needed:
            raise _Incomplete(
                f"the video host sent {self._got} bytes in {now - self._mark:.0f} s, less than "
                f"{self._policy.min_rate:.0f} bytes a second"
            )
        self._mark, self._got = now, 0


def _read_timeout(http: httpx.AsyncClient, policy: DownloadPolicy) -> httpx.Timeout:
    """The client's timeouts, with no read waiting longer than the rule's window."""
    given = http.timeout
    read = policy.window if given.read is None else min(given.read, policy.window)
    return httpx.Timeout(connect=given.connect, read=read, write=given.write, pool=given.pool)


def _content_range(response: httpx.Response) -> tuple[int, int, int] | None:
    """(first, last, total) of a 206 answer's ``Content-Range``; None when it is missing or odd."""
    match = _CONTENT_RANGE.fullmatch((response.headers.get("content-range") or "").strip())
    if match is None:
        return None
    first, last, total = (int(group) for group in match.groups())
    return (first, last, total) if first <= last < total else None


def _origin(response: httpx.Response, total: int | None) -> Validator:
    return Validator(response.headers.get("etag"), response.headers.get("last-modified"), total)


@dataclass
class _Fetch:
    """One video's download into its partial, over as many attempts as it takes."""

    generation_id: str
    partial: Path
    policy: DownloadPolicy
    progress: _Progress
    #: The gateway's ``video.file_size``; it stops binding once the host's object changed.
    expected: int | None
    known: Validator | None = None  # where the partial's bytes come from

    def start_over(self) -> None:
        """Drop the kept bytes (and what was known of their origin)."""
        if self.partial.exists():
            os.truncate(self.partial, 0)
        write_validator(self.partial, None)
        self.known = None

    def object_changed(self) -> None:
        """The host serves another object than the kept bytes came from: never splice them."""
        log.warning(
            "the video of %s changed on its host since the download began; starting over",
            self.generation_id,
        )
        self.start_over()
        self.expected = None  # the gateway's size describes the object that is gone

    async def attempt(self, http: httpx.AsyncClient, url: str) -> int:
        """Bring the partial closer to the whole video; returns its size when it is whole."""
        have = self.partial.stat().st_size if self.partial.exists() else 0
        if have and (self.known is None or self.known.if_range is None):
            self.start_over()  # bytes of unknown origin are not continued
            have = 0
        if have and self.known is not None and self.known.total == have:
            return self._verify(have, have)  # all there (a process stopped before the rename)
        headers = dict(IDENTITY)
        if have and self.known is not None and self.known.if_range is not None:
            headers.update({"Range": f"bytes={have}-", "If-Range": self.known.if_range})
        try:
            async with http.stream(
                "GET", url, headers=headers, timeout=_read_timeout(http, self.policy)
            ) as response:
                start, total, encoded = self._check(response, have)
                with open(self.partial, "ab" if start else "wb") as out:
                    done = await self._write(response, encoded, out, start, total)
        except httpx.ReadTimeout as exc:
            raise _Incomplete(f"the video host sent nothing for {self.policy.window:g} s") from exc
        return self._verify(done, total)

    def _check(self, response: httpx.Response, have: int) -> tuple[int, int | None, bool]:
        """Where this answer's bytes go, how many the object has and whether the body must be
        decoded, checked before any byte is written."""
        status = response.status_code
        if status == 403:
            raise _Refused()
        if have and status == 416:  # the kept bytes are no prefix of this video
            self.start_over()
            raise _Incomplete("the kept part does not fit the video")
        if status >= 400:  # the file host, not the gateway: no gateway advice
            raise errors.APIStatusError(
                f"the video host answered {response.reason_phrase or 'an error'}",
                status_code=status,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status not in (200, 206) or (status == 206 and not have):
            raise NotAVideo(f"the video host answered HTTP {status} instead of the video")
        encoded = body_encodings(response)
        if status == 206:
            span = _content_range(response)
            now = _origin(response, span[2] if span else None)
            assert self.known is not None  # a Range is asked only for bytes of known origin
            if span is None or span[0] != have or span[1] != span[2] - 1:
                self.start_over()
                raise _Incomplete("the video host's range does not continue the kept bytes")
            if self.known.differs(now):
                self.object_changed()
                raise _Incomplete("the video changed on its host")
            if not self.known.same_object(now):
                self.start_over()
                raise _Incomplete("the video host's range names no validator of the kept bytes")
            total: int | None = span[2]
            start = have
        else:
            length = None if encoded else response.headers.get("content-length")
            total = int(length) if length is not None and length.isdigit() else None
            now = _origin(response, total)
            if have and self.known is not None and self.known.differs(now):
                self.object_changed()  # If-Range named the old object: this is the new one
            start = 0
        if total is not None and total > self.policy.max_bytes:
            raise NotAVideo(f"the video host announced {total} bytes, more than any video")
        if start:  # the rest of the object the kept bytes are from: its total was checked then
            return start, total, bool(encoded)
        if total is not None and self.expected is not None and total != self.expected:
            self.start_over()
            raise _Incomplete(f"the video host announced {total} bytes, the gateway {self.expected}")
        self.known = now
        write_validator(self.partial, now)  # before the first byte of this object
        return start, total, bool(encoded)

    async def _write(
        self, response: httpx.Response, encoded: bool, out: BinaryIO, start: int, total: int | None
    ) -> int:
        """Append the body to ``out`` (the partial), refusing bytes past what was announced."""
        if total is not None:
            limit, beyond = total, f"more than the {total} bytes it announced"
        elif self.expected is not None:
            limit, beyond = self.expected, f"more than the {self.expected} bytes the gateway announced"
        else:
            limit, beyond = self.policy.max_bytes, f"more than any video ({self.policy.max_bytes} bytes)"
        # Raw chunks as read (up to 256 KiB, see _wide_reads): re-cutting them only copies.
        chunks = response.aiter_bytes(1 << 16) if encoded else response.aiter_raw()
        done = start
        pace = _Pace(self.policy)
        async for chunk in chunks:
            pace.count(len(chunk))
            if done + len(chunk) > limit:
                self.start_over()
                raise _Incomplete(f"the video host sent {beyond}")
            out.write(chunk)
            out.flush()  # what progress reports is in the file, even if the process dies
            done += len(chunk)
            self.progress(done, total if total is not None else self.expected)
        return done

    def _verify(self, done: int, total: int | None) -> int:
        """``done`` when the partial is the whole video; otherwise why not."""
        size = total if total is not None else self.expected
        if size is not None and done != size:
            raise _Incomplete(f"got {done} of {size} bytes")
        try:
            require_mp4(self.partial)
        except Truncated as exc:
            if size is not None:  # the whole announced length came, and it is not a whole video
                raise NotAVideo(str(exc)) from exc
            raise _Incomplete(str(exc)) from exc  # the host said no length: the rest may come
        return done


async def fetch_video(
    http: httpx.AsyncClient,
    generation_id: str,
    url: str,
    partial: Path,
    *,
    retry: RetryPolicy,
    clock: Clock,
    policy: DownloadPolicy | None = None,
    expected_size: int | None = None,
    refresh: Callable[[], Awaitable[str]] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Fill ``partial`` with the video, retrying transient faults from where each stopped;
    returns its size. ``expected_size`` is the gateway's ``video.file_size``; ``refresh`` gives a
    fresh URL when the host refuses this one (403: an expired signed link)."""
    policy = policy or DownloadPolicy()
    fetch = _Fetch(
        generation_id,
        partial,
        policy,
        _Progress(on_progress, policy.progress_interval),
        expected_size if expected_size is None or expected_size > 0 else None,
        read_validator(partial) if partial.exists() and partial.stat().st_size else None,
    )
    url = require_http_url(generation_id, url)
    attempt = refreshed = 0
    while True:
        attempt += 1
        try:
            done = await fetch.attempt(http, url)
        except _Refused:
            fresh = url
            if refresh is not None and refreshed < _MAX_REFRESHES:
                fresh = require_http_url(generation_id, await refresh())
            if fresh == url:
                raise errors.DownloadError(
                    generation_id, "the video host refused the link (HTTP 403; it may have expired)"
                ) from None
            refreshed += 1
            url = fresh
            log.info("the video link of %s was refused; downloading from a fresh one", generation_id)
            continue
        except NotAVideo as exc:  # not retried; the journal still lists it as not downloaded
            partial.unlink(missing_ok=True)
            write_validator(partial, None)
            raise errors.DownloadError(generation_id, str(exc)) from exc
        except (httpx.TransportError, errors.APIStatusError, _Incomplete) as exc:
            status = getattr(exc, "status_code", None)
            if (status is not None and status not in RETRYABLE_STATUS) or attempt >= retry.max_attempts:
                reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                raise errors.DownloadError(generation_id, reason) from exc
            log.warning("download of %s interrupted (%s); resuming", generation_id, str(exc) or type(exc).__name__)
            await clock.sleep(retry.delay(attempt, getattr(exc, "retry_after", None)))
            continue
        except httpx.RequestError as exc:  # a redirect loop, an unsupported redirect target...
            raise errors.DownloadError(generation_id, _request_error(exc)) from exc
        fetch.progress.finish(done, done)
        return done


def _request_error(exc: httpx.RequestError) -> str:
    if isinstance(exc, httpx.TooManyRedirects):
        return "the video host redirects in a loop"
    return f"the video host could not be read ({type(exc).__name__})"

