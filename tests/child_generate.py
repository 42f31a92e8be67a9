"""Run by the kill tests in a child process: submit generations and follow them, reporting each
step as a JSON line on stdout, until the parent kills this process with SIGKILL.

Everything comes from the environment (the key never on the command line): the key, base URL and
output folder under their usual names, plus CHILD_IMAGE, CHILD_DURATIONS ("5,10"),
CHILD_TIME_SCALE and CHILD_THROTTLE (bytes per second for video downloads; 0 = full speed).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from kling_notebook import AsyncKlingClient, GenerationRequest, JobEvent, PollPolicy

PIECE = 4096


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class _SlowBody(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, rate: float) -> None:
        self.inner = inner
        self.rate = rate

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            for start in range(0, len(chunk), PIECE):
                yield chunk[start : start + PIECE]
                await asyncio.sleep(PIECE / self.rate)

    async def aclose(self) -> None:
        await self.inner.aclose()


class VideoBodies(httpx.AsyncBaseTransport):
    """Real HTTP, with video bodies (the emulator's /cdn/ path) passed through ``wrap`` (slowed
    down here, broken off in the partial download tests)."""

    def __init__(self, wrap: Callable[[httpx.AsyncByteStream], httpx.AsyncByteStream]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.wrap = wrap

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.startswith("/cdn/"):
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=self.wrap(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def reporter(index: int) -> Any:
    seen: set[str] = set()

    def on_event(event: JobEvent) -> None:
        if event.generation_id is None:
            return
        if event.phase == "downloading" and event.bytes_done:
            say(index=index, step="downloading", id=event.generation_id, bytes=event.bytes_done)
        elif event.phase in ("queued", "generating"):
            step = "polled" if "submitted" in seen else "submitted"
            seen.add(step)
            say(index=index, step=step, id=event.generation_id, status=event.status)

    return on_event


async def main() -> None:
    rate = float(os.environ.get("CHILD_THROTTLE", "0"))
    client = AsyncKlingClient(
        poll=PollPolicy(time_scale=float(os.environ["CHILD_TIME_SCALE"])),
        transport=VideoBodies(lambda body: _SlowBody(body, rate)) if rate else None,
    )
    durations = [int(value) for value in os.environ["CHILD_DURATIONS"].split(",")]
    requests = [
        GenerationRequest(image=os.environ["CHILD_IMAGE"], prompt=f"kill test {i}", duration=d)
        for i, d in enumerate(durations)
    ]
    await asyncio.gather(*(client.generate(r, on_event=reporter(i)) for i, r in enumerate(requests)))
    say(step="all-done")


if __name__ == "__main__":
    asyncio.run(main())
