"""``python -m bench._tls_files FOLDER CERT KEY``: ``http.server``'s file server, over TLS.

Video URLs from the gateway are HTTPS, and over TLS a client reads 16 KiB records, not whatever
the socket holds, so the download benchmark measures that path too. Prints ``port N`` when ready.
"""

from __future__ import annotations

import functools
import ssl
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main(folder: str, cert: str, key: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=folder))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
