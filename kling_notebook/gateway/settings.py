"""Where the key and the base URL come from, and the two endpoint pairs of the gateway.

The key is looked up under the names the gateway's own SDK and docs use, so a key that works with
their examples works here unchanged. It is returned to the caller, never logged or stored.
"""

from __future__ import annotations

import os
from typing import Literal
from urllib.parse import urlsplit

from ..domain.errors import ConfigurationError

__all__ = [
    "KEY_ENV_VARS",
    "BASE_URL_ENV_VARS",
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "Endpoint",
    "find_api_key",
    "require_api_key",
    "find_base_url",
    "endpoint_path",
    "is_loopback",
]

KEY_ENV_VARS = ("AIMLAPI_KEY", "AIML_API_KEY", "AIMLAPI_API_KEY")
BASE_URL_ENV_VARS = ("AIMLAPI_BASE_URL", "AIML_API_BASE")
DEFAULT_BASE_URL = "https://api.aimlapi.com"

Endpoint = Literal["universal", "legacy"]
#: Both pairs take POST (create) and GET ?generation_id= (fetch) on the same path.
ENDPOINTS: dict[str, str] = {
    "universal": "/v2/video/generations",
    "legacy": "/v2/generate/video/kling/generation",
}


def find_api_key(explicit: str | None = None) -> str | None:
    """The explicit key, else the first non-empty one of KEY_ENV_VARS, else None.

    A blank explicit key (an empty widget field, an unset variable read as "") counts as none
    given, so the environment still supplies one.
    """
    for value in (explicit, *(os.environ.get(name) for name in KEY_ENV_VARS)):
        if value and value.strip():
            return value.strip()
    return None


def require_api_key(explicit: str | None = None) -> str:
    key = find_api_key(explicit)
    if key is None:
        raise ConfigurationError(
            "No API key: pass api_key=... or set one of " + ", ".join(KEY_ENV_VARS) + ".",
            hint="Without a key, kling_notebook.connect() and the panel run in demo mode "
            "(a local emulator, simulated videos, no credits used).",
        )
    return key


def find_base_url(explicit: str | None = None) -> str:
    for value in (explicit, *(os.environ.get(name) for name in BASE_URL_ENV_VARS)):
        if value and value.strip():
            url = value.strip().rstrip("/")
            # Both the SDK-style ".../v1" / ".../v2" bases and a bare host are accepted.
            for suffix in ("/v1", "/v2"):
                url = url.removesuffix(suffix)
            if not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"Base URL must start with http:// or https:// (got {_describe(url)}).")
            return url
    return DEFAULT_BASE_URL


def _describe(value: str) -> str:
    """What a bad base URL looked like, without echoing it: a key passed in its place (swapped
    arguments, a mixed-up variable) must not end up in an error message."""
    scheme, separator, _ = value.partition("://")
    if separator and scheme.isalnum():
        return f"a {scheme}:// URL"
    return f"{len(value)} characters without a scheme: write https://HOST, and pass the key as api_key"


def endpoint_path(endpoint: str) -> str:
    if endpoint not in ENDPOINTS:
        raise ConfigurationError(f"endpoint must be one of {', '.join(ENDPOINTS)} (got {endpoint!r}).")
    return ENDPOINTS[endpoint]


def is_loopback(base_url: str) -> bool:
    """Whether ``base_url`` points at this machine (a local emulator, which ends with its process)."""
    host = urlsplit(base_url).hostname or ""
    return host.startswith("127.") or host in ("localhost", "::1")
