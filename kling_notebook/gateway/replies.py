"""What the gateway's replies say, read as the real gateway sends them, not only as its schema says.

Beyond the schema (see the project's facts): ``video`` is an object or a list of objects; ``error``
is ``{name, message}``, a pydantic-style ``{detail: [{loc, msg, type, input}]}``, a string or null;
credits come as ``credits_used`` or ``tokens_used``; ``statusCode`` may be a string. Nothing in a
reply is trusted: a video URL that is not http(s) is no video URL, numbers that are not finite and
non-negative are no numbers, every text is made printable, capped and scrubbed of the key before
it reaches an error, a log line, the journal or a screen, and a JSON body has a size cap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..domain import errors
from ..domain.formatting import network_text
from ..domain.generation import Generation, canonical_status
from ..domain.retry import parse_retry_after

__all__ = ["MAX_JSON_BYTES", "generation_from", "is_http_url", "json_object", "read_json", "status_error"]

#: The largest JSON reply read from the API: a status body is a few hundred bytes.
MAX_JSON_BYTES = 1 << 20

_STATUS_ERRORS: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.InsufficientCreditsError,
    404: errors.NotFoundError,
    422: errors.BadRequestError,
    429: errors.RateLimitError,
    504: errors.GatewayTimeoutError,
}


def is_http_url(value: object) -> bool:
    """An absolute http(s) URL with a host: the only kind of video URL accepted from the gateway."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _amount(value: Any) -> float | None:
    """A count the gateway reports (credits, bytes): a finite number, not negative, not a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _video(value: Any) -> Mapping[str, Any]:
    """The first usable video of ``video`` (an object, or a list of them)."""
    candidates = value if isinstance(value, list) else [value]
    usable = [_mapping(item) for item in candidates if is_http_url(_mapping(item).get("url"))]
    return usable[0] if usable else {}


def _detail_text(detail: Iterable[Any], secrets: tuple[str, ...]) -> tuple[str | None, str]:
    """The field and the words of a pydantic-style ``detail`` list."""
    field: str | None = None
    words = []
    for item in detail:
        item = _mapping(item)
        location = [str(part) for part in item.get("loc") or () if not isinstance(part, int)]
        location = [part for part in location if part not in ("body", "query")]
        if field is None and location:
            field = ".".join(location)
        if item.get("msg"):
            words.append(network_text(item["msg"], secrets=secrets))
    return field, "; ".join(words)


def _error(value: Any, secrets: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``(name, message)`` of a reply's ``error``, whatever its shape."""
    if isinstance(value, Mapping):
        if isinstance(value.get("detail"), list):
            _field, words = _detail_text(value["detail"], secrets)
            return value.get("name") and network_text(value["name"], secrets=secrets), words or None
        name, message = value.get("name"), value.get("message") or value.get("detail")
        return (
            network_text(name, secrets=secrets) if name else None,
            network_text(message, secrets=secrets) if message else None,
        )
    if value:
        return None, network_text(value, secrets=secrets)
    return None, None


def generation_from(body: Mapping[str, Any], *, secrets: tuple[str, ...] = ()) -> Generation:
    """The generation a create or status reply describes (its ``id`` already checked as text)."""
    video = _video(body.get("video"))
    error_name, error_message = _error(body.get("error"), secrets)
    usage = _mapping(_mapping(body.get("meta")).get("usage"))
    credits = _amount(usage.get("credits_used", usage.get("tokens_used")))
    video_url = str(video["url"]).strip() if video else None
    size = _amount(video.get("file_size"))
    return Generation(
        id=str(body["id"]),
        status=canonical_status(body.get("status"), video_url, bool(error_name or error_message)),
        video_url=video_url,
        error_name=error_name,
        error_message=error_message,
        credits_used=credits,
        file_size=int(size) if size is not None and size == int(size) else None,
        duration=_amount(video.get("duration")) or _amount(body.get("duration")),
        raw=dict(body),
    )


def read_json(response: httpx.Response) -> Any:
    """The reply's JSON, refusing a body past :data:`MAX_JSON_BYTES` (it would fill memory)."""
    if len(response.content) > MAX_JSON_BYTES:
        raise errors.InvalidResponseError(
            f"HTTP {response.status_code} with a {len(response.content)}-byte body (at most {MAX_JSON_BYTES})"
        )
    try:
        return response.json()
    except ValueError as exc:  # includes bad UTF-8
        raise errors.InvalidResponseError(f"HTTP {response.status_code} with a body that is not JSON") from exc


def json_object(response: httpx.Response, path: str) -> dict[str, Any]:
    """A service route's JSON object body (capped like every reply), or InvalidResponseError."""
    body = read_json(response)
    if not isinstance(body, dict):
        raise errors.InvalidResponseError(f"{path}: a body that is not an object")
    return body


def _field_of(body: Mapping[str, Any], secrets: tuple[str, ...]) -> str | None:
    """The request field a 400 is about: in its ``errors`` list or a pydantic ``detail``."""
    for issue in body.get("errors") or ():
        path = _mapping(issue).get("path")
        if path:
            return network_text(path, secrets=secrets, limit=80)
    if isinstance(body.get("detail"), list):
        field, _words = _detail_text(body["detail"], secrets)
        return field and network_text(field, secrets=secrets, limit=80)
    return None


def status_error(response: httpx.Response, *, secrets: tuple[str, ...] = ()) -> errors.APIStatusError:
    """The typed error for an HTTP error reply: its message, the field a 400 names, its requestId;
    every text scrubbed of ``secrets`` (a proxy may echo the Authorization header)."""
    try:
        body: Any = read_json(response)
    except errors.InvalidResponseError:
        body = network_text(response.content[:2000].decode("utf-8", "replace"), secrets=secrets)
    details = _mapping(body)
    message: Any = details.get("message")
    if isinstance(message, list):
        message = "; ".join(map(str, message))
    if not message and isinstance(details.get("detail"), list):
        message = _detail_text(details["detail"], secrets)[1]
    elif not message and isinstance(details.get("error"), (str, Mapping)):
        message = _error(details["error"], secrets)[1]
    request_id = details.get("requestId")
    status = response.status_code
    cls = _STATUS_ERRORS.get(status) or (errors.ServerError if status >= 500 else errors.APIStatusError)
    if status == 403 and "limit" in str(message or "").lower():  # a key's own limit, not the balance
        cls = errors.KeyLimitError
    return cls(
        network_text(message, secrets=secrets) if message else "",
        status_code=status,
        request_id=network_text(request_id, secrets=secrets, limit=100) if request_id else None,
        body=_scrubbed(body, secrets),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        field=_field_of(details, secrets) if status in (400, 422) else None,
    )


def _scrubbed(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (a parsed body) with every string made safe to show and store."""
    if isinstance(value, Mapping):
        return {network_text(key, secrets=secrets, limit=100): _scrubbed(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, secrets) for item in value[:50]]
    if isinstance(value, str):
        return network_text(value, secrets=secrets)
    return value
