"""Producing clips: fetch the input, render it off the event loop, share identical renders.

Production starts when a job is created, so the clip is ready by the time the job's clock says
``completed``. Rendering runs in a small thread pool (PyAV and libswscale release the GIL), so
the loop keeps answering polls meanwhile. Renders are cached by what they depend on (the image
and end image hashes, duration, camera, audio, caption; the width is fixed per emulator): a
thousand identical jobs render once. The cache keeps every clip for the emulator's lifetime,
which is what serving their URLs needs anyway; a :class:`RenderCache` shared with other
emulators also brings the clips they finished.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import httpx

from ._jobs import Job, Outcome
from ._models import MODELS
from ._render import RenderUnavailable, render_clip
from ._renders import RenderCache
from ._source import ImageRejected, fetch_image
from ._stats import Stats
from ._validation import CameraControl

__all__ = ["Studio"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Clip:
    """What a render depends on (images by hash): the cache's key."""

    image: bytes
    end_image: bytes | None
    duration: int
    camera: CameraControl | None
    audio: bool
    caption: str | None
    max_image_bytes: int


class Studio:
    """Produces each job's :class:`Outcome`; lives on the emulator's event loop."""

    def __init__(
        self,
        stats: Stats,
        *,
        width: int,
        caption: str | None,
        workers: int | None,
        fetch_timeout: float,
        shared: RenderCache | None = None,
    ) -> None:
        self._stats = stats
        self._shared = shared
        self._width = width
        self._caption = caption
        self._fetch_timeout = fetch_timeout
        self._executor = ThreadPoolExecutor(
            max_workers=workers or min(2, os.cpu_count() or 1),
            thread_name_prefix="kling-emulator-render",
        )
        self._cache: dict[_Clip, asyncio.Future[bytes]] = {}
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def produce(self, job: Job) -> asyncio.Task[None]:
        """Start producing ``job``'s clip in the background; the task ends when it is done."""
        task = asyncio.get_running_loop().create_task(self._produce(job))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def drain(self) -> None:
        """Wait until every production started so far has ended."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def close(self) -> None:
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._fetch_timeout, follow_redirects=True, trust_env=False
            )
        return self._client

    async def _image(self, url: str, inline: bytes | None) -> bytes:
        return inline if inline is not None else await fetch_image(url, self._http())

    async def _produce(self, job: Job) -> None:
        request = job.request
        try:
            image = await self._image(request.image_url, request.image_bytes)
            end = None
            if request.end_image_url is not None:
                end = await self._image(request.end_image_url, request.end_image_bytes)
            clip = _Clip(
                image=hashlib.sha256(image).digest(),
                end_image=None if end is None else hashlib.sha256(end).digest(),
                duration=request.duration,
                camera=request.camera,
                audio=request.generate_audio,
                caption=self._caption,
                max_image_bytes=MODELS[request.model].max_image_bytes,
            )
            video = await self._render(clip, image, end)
            revision = None
            if job.download_fault == "changed":  # its CDN object is replaced by another clip
                caption = f"{self._caption or ''} v2".strip()
                revision = await self._render(replace(clip, caption=caption), image, end)
        except ImageRejected as error:
            job.outcome = Outcome(error_name="ImageError", error_message=str(error))
        except RenderUnavailable as error:
            job.outcome = Outcome(error_name="EmulatorError", error_message=str(error))
        except Exception as error:
            log.exception("emulator: rendering %s failed", job.id)
            job.outcome = Outcome(error_name="RenderError", error_message=f"render failed: {error}")
        else:
            job.outcome = Outcome(video=video, revision=revision)

    async def _render(self, clip: _Clip, image: bytes, end: bytes | None) -> bytes:
        future = self._cache.get(clip)
        if future is None:
            finished = None if self._shared is None else self._shared.get((clip, self._width))
            if finished is None:
                future = self._cache[clip] = self._start(clip, image, end)
                return await asyncio.shield(future)
            future = self._cache[clip] = asyncio.get_running_loop().create_future()
            future.set_result(finished)
        self._stats.renders["cache_hits"] += 1
        return await asyncio.shield(future)

    def _start(self, clip: _Clip, image: bytes, end: bytes | None) -> asyncio.Future[bytes]:
        render = functools.partial(
            render_clip,
            image,
            clip.duration,
            clip.camera,
            self._width,
            clip.caption,
            end_image=end,
            audio=clip.audio,
            max_image_bytes=clip.max_image_bytes,
        )
        try:
            submitted = self._executor.submit(render)
        except RuntimeError as error:  # the interpreter is exiting: no new render threads
            raise RenderUnavailable(f"the emulator is shutting down ({error})") from None
        future = asyncio.wrap_future(submitted)
        future.add_done_callback(functools.partial(self._count, clip))
        return future

    def _count(self, clip: _Clip, future: asyncio.Future[bytes]) -> None:
        failed = future.cancelled() or future.exception() is not None
        self._stats.renders["failed" if failed else "rendered"] += 1
        if not failed and self._shared is not None:
            self._shared.put((clip, self._width), future.result())
