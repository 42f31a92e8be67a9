"""An ``httpx.AsyncClient`` that caps in-flight requests before they reach the connection pool.

Why: when more requests wait than the pool has connections, httpcore rescans every connection for
every waiting request each time one is queued or finished, so a thousand concurrent jobs cost
quadratic CPU and stall the event loop for seconds (measured in ``bench/scale.py``). Waiting on a
semaphore instead keeps httpcore's queue empty, and keeping every connection alive avoids
reconnecting (a TLS handshake each time against the real gateway). Subclassing, not a custom
transport, keeps httpx's own transport and with it the proxy and certificate environment settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

__all__ = ["MAX_IN_FLIGHT", "GatedAsyncClient"]

#: Requests in flight per HTTP client (one per event loop); more wait their turn in order.
MAX_IN_FLIGHT = 32


class _ReleasingStream(httpx.AsyncByteStream):
    """A streamed body that gives its permit back when closed (a download holds it meanwhile)."""

    def __init__(self, stream: httpx.AsyncByteStream, gate: asyncio.Semaphore) -> None:
        self._stream = stream
        self._gate: asyncio.Semaphore | None = gate

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.release()


class GatedAsyncClient(httpx.AsyncClient):
    """At most :data:`MAX_IN_FLIGHT` requests between sending and closing their response."""

    def __init__(self, **options: Any) -> None:
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
        super().__init__(limits=limits, **options)
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def send(self, request: httpx.Request, *, stream: bool = False, **options: Any) -> httpx.Response:
        await self._gate.acquire()
        try:
            response = await super().send(request, stream=stream, **options)
        except BaseException:
            self._gate.release()
            raise
        if not stream or response.is_closed:  # the body is read, the connection back in the pool
            self._gate.release()
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, self._gate)
        return response
