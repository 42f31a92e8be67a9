"""A real HTTP server on 127.0.0.1 for tests whose GET answers a function decides.

Tests of image fetching, downloads and pooled connections need real sockets, not a mock
transport; this is the one server they share. :func:`loopback_server` sends what the function
returns, framed properly; :func:`misbehaving_server` lets the function write the raw bytes
itself (no Content-Length, a body longer or shorter than announced, silence, a trickle).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Given the request, the status, extra headers and body to send (Content-Length is added).
Answer = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]
#: Given the request, writes the whole answer to ``request.wfile`` itself.
Respond = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def loopback_server(answer: Answer, *, keep_alive: bool = False) -> Iterator[str]:
    """Serve GETs with ``answer`` until the block ends; yields the base URL (no trailing slash).

    ``keep_alive`` speaks HTTP/1.1, so clients keep their connections in a pool.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_GET(self) -> None:
            status, headers, body = answer(self)
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as base_url:
        yield base_url


@contextmanager
def misbehaving_server(respond: Respond) -> Iterator[str]:
    """Serve GETs and HEADs with ``respond``, which writes the status line, headers and body as
    raw bytes (``write_head`` helps); the connection closes after each answer. Yields the base
    URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client left
                respond(self)

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as base_url:
        yield base_url


def write_head(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    """Write a status line and ``headers`` (nothing added) to ``request``'s connection."""
    lines = [f"HTTP/1.1 {status} {'OK' if status < 300 else 'Other'}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a silent answer must not hold up the end of the test
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
