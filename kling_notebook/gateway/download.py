"""Streaming a video from its host to a ``.part`` file, resumed with Range after a fault.

The host is a third party (a CDN): it gets no key, and what it sends is checked, not trusted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import httpx

from ..domain import errors
from ..domain.retry import RETRYABLE_STATUS, Clock, RetryPolicy, parse_retry_after
from ..store.mp4 import NotAVideo, require_mp4

__all__ = ["IDENTITY", "body_encodings", "fetch_video"]

log = logging.getLogger("kling_notebook")

#: Asked on every download: the stored bytes, so written sizes and Range offsets count file bytes.
IDENTITY = {"Accept-Encoding": "identity"}
#: Encodings a host may still use that httpx decodes (a whole body only, never a Range slice).
_DECODABLE = frozenset({"gzip", "deflate"})


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


async def fetch_video(
    http: httpx.AsyncClient,
    generation_id: str,
    url: str,
    partial: Path,
    *,
    retry: RetryPolicy,
    clock: Clock,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Fill ``partial`` with the video, retrying transient faults from where each stopped;
    returns its size."""
    reported = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal reported
        if on_progress and done >= reported:  # a restart from zero never moves the bar back
            reported = done
            on_progress(done, total)

    attempt = 0
    while True:
        attempt += 1
        try:
            total = await _stream_to(http, url, partial, progress)
            require_mp4(partial)
            return total
        except NotAVideo as exc:  # not retried; the journal still lists it as not downloaded
            partial.unlink(missing_ok=True)
            raise errors.DownloadError(generation_id, str(exc)) from exc
        except (httpx.TransportError, errors.APIStatusError, errors.DownloadError) as exc:
            status = getattr(exc, "status_code", None)
            if (status is not None and status not in RETRYABLE_STATUS) or attempt >= retry.max_attempts:
                reason = getattr(exc, "reason", None) or getattr(exc, "message", None) or str(exc)
                raise errors.DownloadError(generation_id, reason or type(exc).__name__) from exc
            log.warning("download of %s interrupted (%s); resuming", generation_id, type(exc).__name__)
            await clock.sleep(retry.delay(attempt, getattr(exc, "retry_after", None)))

async def _stream_to(
    http: httpx.AsyncClient, url: str, partial: Path, on_progress: Callable[[int, int | None], None] | None
) -> int:
    """Append the rest of ``url`` to ``partial``; returns the final size."""
    have = partial.stat().st_size if partial.exists() else 0
    headers = {**IDENTITY, "Range": f"bytes={have}-"} if have else IDENTITY
    async with http.stream("GET", url, headers=headers) as response:
        if have and response.status_code == 416:  # the kept bytes are no prefix of this video
            os.truncate(partial, 0)
            raise errors.DownloadError("video", "the kept part does not fit the video")
        if response.status_code >= 400:  # the file host, not the gateway: no gateway advice
            raise errors.APIStatusError(
                f"the video host answered {response.reason_phrase or 'an error'}",
                status_code=response.status_code,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        encoded = body_encodings(response)
        if have and response.status_code != 206:
            have = 0  # the server ignored Range: start over
        length = None if encoded else response.headers.get("content-length")  # encoded size
        total = have + int(length) if length is not None else None
        # Raw chunks as read (up to 256 KiB, see _wide_reads): re-cutting them only copies.
        chunks = response.aiter_bytes(1 << 16) if encoded else response.aiter_raw()
        with open(partial, "ab" if have else "wb") as out:
            done = have
            async for chunk in chunks:
                out.write(chunk)
                out.flush()  # what progress reports is in the file, even if the process dies
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
    if total is not None and done != total:
        raise errors.DownloadError("video", f"got {done} of {total} bytes")
    return done
