"""A small asyncio HTTP/1.1 server: just enough of the protocol to stand in for the gateway.

Why not ``http.server``: it spends a thread per connection, and the emulator must hold a thousand
polling clients on two cores. Why not a web framework: no extra dependency, and the fault injector
needs control that frameworks hide: resetting a connection before or after the request body is
read, cutting a response body short, or sending a body its head misstates. The handler decides
when the body is read (:meth:`Request.read_body`) and may answer :data:`ABORT` instead of a
:class:`Response`, or a response that writes itself (``Response.raw``).

Supported: keep-alive, ``Content-Length`` bodies, ``Expect: 100-continue``, ``HEAD``, single byte
ranges (:func:`ranged`). Not supported: chunked request bodies (answered 501), pipelining beyond
one request at a time per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "ABORT",
    "Abort",
    "Handler",
    "HttpServer",
    "RawSender",
    "Request",
    "Response",
    "head_bytes",
    "ranged",
]

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024  # a 10 MB image in base64 is ~14 MB; leave room, refuse floods
IDLE_TIMEOUT = 120.0
LINGER = 2.0  # how long a refused client may keep sending before we close anyway
CUT_GRACE = 0.05  # lets a cut body's first bytes leave before the reset discards the send queue
#: Loop turns asyncio takes to hand an accepted socket to its protocol: the transport is made,
#: then connection_made runs, then the accepting task ends.
HANDOVER_TURNS = 3


class Abort:
    """Answer nothing: reset the TCP connection (what a crashed proxy looks like to a client)."""

    def __repr__(self) -> str:
        return "ABORT"


ABORT = Abort()


#: Writes a whole response (head included) itself; the connection is closed once it returns.
RawSender = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Response:
    """A complete response; ``cut_after`` sends only that many body bytes, then resets; ``raw``
    (for faults that break HTTP's framing) writes the response itself, then the connection
    closes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    raw: RawSender | None = None


@dataclass
class Request:
    """One parsed request head; the body is read only when the handler asks for it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    version: str
    _reader: asyncio.StreamReader
    _writer: asyncio.StreamWriter
    _body: bytes | None = None

    @property
    def content_length(self) -> int:
        return int(self.headers.get("content-length", "0") or 0)

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name`` (already percent-decoded)."""
        values = self.query.get(name)
        return values[0] if values else None

    async def read_body(self) -> bytes:
        """Read the body once (answering ``Expect: 100-continue`` first)."""
        if self._body is None:
            length = self.content_length
            if length and self.headers.get("expect", "").lower() == "100-continue":
                self._writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await self._writer.drain()
            self._body = await self._reader.readexactly(length) if length else b""
        return self._body


Handler = Callable[[Request], Awaitable["Response | Abort"]]


class _BadRequest(Exception):
    """The request head cannot be served; answered with ``status`` and the connection closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def ranged(body: bytes, range_header: str | None, headers: dict[str, str]) -> Response:
    """Serve ``body`` whole (200) or one byte range of it (206, or 416 if unsatisfiable).

    Several ranges in one header are answered with the whole body, which RFC 9110 allows.
    """
    size = len(body)
    headers = {**headers, "Accept-Ranges": "bytes"}
    match = _RANGE.fullmatch(range_header.strip()) if range_header else None
    if match is None or match.groups() == ("", ""):
        return Response(200, body, headers)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:  # a suffix: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        return Response(416, b"", {**headers, "Content-Range": f"bytes */{size}"})
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(206, body[start : end + 1], headers)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), not a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _parse_head(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise _BadRequest(400, "malformed request line") from None
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise _BadRequest(505, "HTTP version not supported")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise _BadRequest(400, "malformed header line")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "transfer-encoding" in headers:
        raise _BadRequest(501, "chunked request bodies are not supported; send Content-Length")
    try:
        length = int(headers.get("content-length", "0") or 0)
    except ValueError:
        raise _BadRequest(400, "invalid Content-Length") from None
    if length < 0 or length > MAX_BODY:
        raise _BadRequest(413, "request body too large")
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    return Request(method.upper(), parts.path or "/", query, headers, version, reader, writer)


def head_bytes(status: int, headers: dict[str, str]) -> bytes:
    """A response head exactly as given: no header added."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _encode_head(response: Response, keep_alive: bool) -> bytes:
    headers = {"Content-Length": str(len(response.body)), **response.headers}
    if not keep_alive:
        headers["Connection"] = "close"
    return head_bytes(response.status, headers)


class HttpServer:
    """Serves ``handler`` on ``host:port`` (0 = any free port) until :meth:`close`."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        # A deep backlog: a thousand clients may connect in the same instant.
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, backlog=4096, limit=MAX_HEAD
        )

    async def close(self) -> None:
        """End every connection and close every socket before returning, so the loop can close.

        Order matters: a connection accepted in the same instant is still being set up by asyncio
        for a few loop turns, and closing the listener under it fails inside asyncio and leaks its
        socket. So accepting stops first, those connections are handed over, and then the listener
        closes and every connection task is ended (including ones that never got to run).
        """
        server = self._server
        if server is None:
            return
        loop = asyncio.get_running_loop()
        for listener in server.sockets:
            with contextlib.suppress(NotImplementedError):  # proactor loops have no readers
                loop.remove_reader(listener.fileno())
        for _ in range(HANDOVER_TURNS):
            await asyncio.sleep(0)
        server.close()
        while self._connections:
            ending = dict(self._connections)
            for task in ending:
                task.cancel()
            await asyncio.gather(*ending, return_exceptions=True)
            for writer in ending.values():
                writer.transport.abort()  # nobody is left to read what is still buffered
        await server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets on this turn

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve a new connection on a task tracked from its creation (not from its first run).

        A plain function, not a coroutine: asyncio then attaches no callback of its own to the
        task, a callback that on Python 3.11 logs a traceback for every task ended by close().
        """
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._connections[task] = writer
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        writer = self._connections.pop(task)
        writer.close()
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("emulator connection failed", exc_info=error)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection is done."""
        try:
            head = await _read_head(reader, writer)
        except asyncio.LimitOverrunError:
            await self._refuse(reader, writer, _BadRequest(431, "request head too large"))
            return False
        except asyncio.IncompleteReadError:
            return False  # closed between requests: the normal end of a keep-alive connection
        try:
            request = _parse_head(head, reader, writer)
        except _BadRequest as error:
            await self._refuse(reader, writer, error)
            return False
        try:
            result = await self._handler(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            raise  # the client left mid-request: nothing to answer, nothing to log
        except Exception:
            log.exception("emulator handler failed on %s %s", request.method, request.path)
            result = Response(500, b"internal emulator error", {"Content-Type": "text/plain"})
        if isinstance(result, Abort):
            reset(writer)
            return False
        await request.read_body()  # unread body bytes would corrupt the next request
        if result.raw is not None:
            await result.raw(writer)
            await writer.drain()
            return False
        body = b"" if request.method == "HEAD" else result.body
        if result.cut_after is not None:
            writer.write(_encode_head(result, False) + body[: result.cut_after])
            await writer.drain()
            await asyncio.sleep(CUT_GRACE)
            reset(writer)
            return False
        writer.write(_encode_head(result, request.keep_alive) + body)
        await writer.drain()
        return request.keep_alive

    @staticmethod
    async def _refuse(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, error: _BadRequest
    ) -> None:
        """Answer and close gracefully: unread input at close would turn the FIN into a reset
        and could destroy the answer before the client reads it, so drain it first."""
        body = f"{error}\n".encode()
        response = Response(error.status, body, {"Content-Type": "text/plain"})
        writer.write(_encode_head(response, False) + body)
        await writer.drain()
        writer.write_eof()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_discard(reader), LINGER)


async def _read_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """The next request head; a connection idle for IDLE_TIMEOUT is closed (the read then ends
    as if the client had closed it).

    A timer, not ``asyncio.wait_for``: on Python 3.11 wait_for swallows a cancellation that lands
    as the head arrives, so close() would wait for that request to be served (30 s if slow).
    """
    idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, writer.transport.abort)
    try:
        return await reader.readuntil(b"\r\n\r\n")
    finally:
        idle.cancel()


async def _discard(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass
