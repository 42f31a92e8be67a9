"""Where the key and the base URL come from, and the two endpoint pairs of the gateway.

The key is looked up under the names the gateway's own SDK and docs use, so a key that works with
their examples works here unchanged. It is returned to the caller, never logged or stored.
"""

from __future__ import annotations

import os
from typing import Literal
from urllib.parse import urlsplit

from ..domain.errors import ConfigurationError
from .colab_secrets import colab_secret

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
    "check_transport_security",
    "ALLOW_HTTP_ENV_VAR",
]

KEY_ENV_VARS = ("AIMLAPI_KEY", "AIML_API_KEY", "AIMLAPI_API_KEY")
#: The base URL's names: ours first, then the gateway SDK's two (whose values end in ``/v1``).
BASE_URL_ENV_VARS = ("AIMLAPI_BASE_URL", "AIML_API_BASE", "AIMLAPI_API_BASE")
#: Set to 1 to allow an http:// base URL that is not this machine (the key then travels in clear).
ALLOW_HTTP_ENV_VAR = "KLING_NOTEBOOK_ALLOW_HTTP"
DEFAULT_BASE_URL = "https://api.aimlapi.com"

Endpoint = Literal["universal", "legacy"]
#: Both pairs take POST (create) and GET ?generation_id= (fetch) on the same path.
ENDPOINTS: dict[str, str] = {
    "universal": "/v2/video/generations",
    "legacy": "/v2/generate/video/kling/generation",
}


def find_api_key(explicit: str | None = None) -> str | None:
    """The explicit key, else the first non-empty one of KEY_ENV_VARS, else (on Colab) the first
    Colab secret of those names, else None.

    A blank explicit key (an empty widget field, an unset variable read as "") counts as none
    given, so the environment still supplies one.
    """
    for value in (explicit, *(os.environ.get(name) for name in KEY_ENV_VARS)):
        if value and value.strip():
            return value.strip()
    return colab_secret(KEY_ENV_VARS)


def require_api_key(explicit: str | None = None) -> str:
    """The key to use, checked before any request: it goes into an HTTP header, where a line
    break or a non-ASCII character would make the request fail (and leak the key into the error
    of the HTTP library) after nothing was sent. The message never shows the key."""
    key = find_api_key(explicit)
    if key is None:
        raise ConfigurationError(
            "No API key: set one of " + ", ".join(KEY_ENV_VARS)
            + " (on Colab, a secret of one of those names; or give api_key= in Python).",
            hint="Without a key, kling_notebook.connect() and the panel run in demo mode "
            "(a local emulator, simulated videos, no credits used).",
        )
    for position, char in enumerate(key, 1):
        if not "!" <= char <= "~":  # visible ASCII only
            what = "a line break" if char in "\r\n" else "a space" if char.isspace() else (
                "a control character" if char.isascii() else "a non-ASCII character"
            )
            raise ConfigurationError(
                f"The API key has {what} at character {position} of {len(key)}; nothing was sent.",
                hint="Copy the key again from the AI/ML API dashboard (keys are plain ASCII, without spaces).",
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


def check_transport_security(base_url: str, allow_http: bool = False) -> None:
    """Refuse an ``http://`` base URL that is not this machine: the key would cross the network
    in clear text. ``allow_http`` (or ``$KLING_NOTEBOOK_ALLOW_HTTP=1``) is the explicit opt-in."""
    if not base_url.startswith("http://") or is_loopback(base_url):
        return
    if allow_http or os.environ.get(ALLOW_HTTP_ENV_VAR, "").strip() in ("1", "true", "yes"):
        return
    raise ConfigurationError(
        f"The base URL http://{urlsplit(base_url).hostname} is plain http:// to another machine: "
        "the key would travel unencrypted.",
        hint="Use https://, or opt in with allow_http=True (or KLING_NOTEBOOK_ALLOW_HTTP=1) for a trusted network.",
    )
