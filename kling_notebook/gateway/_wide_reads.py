"""Socket reads of 256 KiB instead of httpcore's 64 KiB: a plain-HTTP download costs less work.

Why: httpcore asks its network stream for at most 64 KiB per read, while asyncio's socket
transport receives up to 256 KiB at a time. Every 256 KiB that arrives is then cut into four
reads, four h11 events and four body chunks, and on loopback that per-chunk Python work, not the
network, sets the download speed (``bench/download.py``: about a quarter faster with wide reads).
Over TLS a read returns one 16 KiB record whatever is asked for, so HTTPS gains nothing and
loses nothing; the emulator, demo mode and local mirrors speak plain HTTP.

httpcore has a public hook for the socket layer (a network backend) but httpx does not pass one
through, so :func:`widen_reads` swaps the backend of the pools an ``httpx.AsyncClient`` already
built. That keeps httpx's own transports, with their proxy and certificate settings.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["READ_BYTES", "WideReadBackend", "widen_reads"]

#: asyncio's selector transport hands over at most this much per receive (``max_size``).
READ_BYTES = 256 * 1024


class _WideReadStream(httpcore.AsyncNetworkStream):
    """A network stream whose reads ask for at least :data:`READ_BYTES`."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max(max_bytes, READ_BYTES), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _WideReadStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class WideReadBackend(httpcore.AsyncNetworkBackend):
    """Wraps a network backend so every stream it opens reads widely."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self.backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _WideReadStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _WideReadStream(await self.backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self.backend.sleep(seconds)


def widen_reads(client: httpx.AsyncClient) -> int:
    """Give every httpcore pool of ``client`` (its transport and any proxy mounts) wide reads.

    Returns how many pools it changed. A transport that is not httpx's own (a test's
    ``MockTransport``) has no sockets and is left alone, as is any pool of an httpx version that
    stores its backend elsewhere: reads then stay at 64 KiB, slower but correct.
    """
    transports = [client._transport, *client._mounts.values()]  # private: see the module doc
    widened = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if pool is None or not isinstance(backend, httpcore.AsyncNetworkBackend):
            continue
        if not isinstance(backend, WideReadBackend):
            pool._network_backend = WideReadBackend(backend)
            widened += 1
    return widened
