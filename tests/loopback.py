"""A real HTTP server on 127.0.0.1 for tests whose GET answers a function decides.

Tests of image fetching, downloads and pooled connections need real sockets, not a mock
transport; this is the one server they share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Given the request, the status, extra headers and body to send (Content-Length is added).
Answer = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
