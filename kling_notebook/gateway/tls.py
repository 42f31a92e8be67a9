"""One TLS context for every HTTP client the package opens.

Building a context loads the whole CA bundle, about 50 ms of CPU; a client per event loop, per
key check and per image probe would pay that each time. httpx builds it, so ``SSL_CERT_FILE``
and ``SSL_CERT_DIR`` are honoured as httpx honours them, as they are when the process first
needs one.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["tls_context"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The shared, verifying context (an ``SSLContext`` may serve many connections at once)."""
    return httpx.create_ssl_context()
