"""The gateway's key routes: a management key's ``/v1/keys`` and a key's own spend.

A management key (made in the dashboard) creates, lists, updates and deletes API keys, each with
an optional spending limit in USD per day, week, month or ever (``service/keys-*.json``); it reads
any key's spend from ``/v2/usage?key_prefix=``. The management key comes only from the
environment (``AIMLAPI_MANAGEMENT_KEY``) or the caller, goes only into the Authorization header
of calls to the API host, and never into a repr, an error or a log. A create is sent once (a
retry could make a second key); reads and deletes retry transient faults.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ..domain import errors
from ..domain.retry import RetryPolicy, SystemClock
from .client import _connection_error, _is_transient
from .replies import json_object, status_error
from .settings import find_base_url
from .tls import tls_context

__all__ = [
    "MANAGEMENT_KEY_ENV_VAR",
    "PERIODS",
    "KeyLimit",
    "KeyRecord",
    "ManagementClient",
    "Period",
    "period_start",
    "require_management_key",
    "usage_params",
    "usage_window",
]

log = logging.getLogger("kling_notebook")

MANAGEMENT_KEY_ENV_VAR = "AIMLAPI_MANAGEMENT_KEY"
Period = Literal["day", "week", "month", "none"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "none")
#: The gateway's word for each period ("none": the limit never resets).
_PERIOD: dict[str, Period] = {"day": "day", "week": "week", "month": "month", "no_reset": "none"}
_RETENTION = {period: retention for retention, period in _PERIOD.items()}
#: The widest window ``/v2/usage`` answers for.
MAX_WINDOW = timedelta(days=92)


def require_management_key(explicit: str | None = None) -> str:
    key = (explicit or os.environ.get(MANAGEMENT_KEY_ENV_VAR) or "").strip()
    if not key:
        raise errors.ConfigurationError(
            f"No management key: set {MANAGEMENT_KEY_ENV_VAR}.",
            hint="Make one in the AI/ML API dashboard; it is read from the environment only, "
            "never from a command-line flag (flags end up in shell history).",
        )
    return key


def period_start(period: Period, now: datetime) -> datetime:
    """When the limit period holding ``now`` began: 00:00 UTC of the day, of Monday, of the
    1st (``none``: the start of time)."""
    midnight = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    if period == "month":
        return midnight.replace(day=1)
    if period == "day":
        return midnight
    return datetime.fromtimestamp(0, timezone.utc)


@dataclass(frozen=True)
class KeyLimit:
    """A spending limit: ``usd`` per ``period`` (``none``: in total, never reset)."""

    usd: float
    period: Period = "none"

    def __post_init__(self) -> None:
        if isinstance(self.usd, bool) or not isinstance(self.usd, (int, float)) or not 0 <= self.usd < float("inf"):
            raise errors.ValidationError("limit_usd", self.usd, "a number of dollars, 0 or more")
        if self.period not in PERIODS:
            raise errors.ValidationError("period", self.period, f"one of {', '.join(PERIODS)}")

    def to_json(self) -> dict[str, Any]:
        return {"retention": _RETENTION[self.period], "threshold": self.usd}

    @classmethod
    def from_json(cls, body: Any) -> KeyLimit | None:
        if not isinstance(body, dict) or body.get("retention") not in _PERIOD:
            return None
        threshold = body.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            return None
        return cls(float(threshold), _PERIOD[body["retention"]])

    def __str__(self) -> str:
        return f"${self.usd:.2f} " + ("in total" if self.period == "none" else f"per {self.period}")


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class KeyRecord:
    """One API key as the gateway describes it; ``key`` only right after it was created."""

    prefix: str
    name: str | None
    disabled: bool
    limit: KeyLimit | None
    scopes: tuple[str, ...] | None
    created_at: datetime | None
    monthly_usage: float
    key: str | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, body: Any) -> KeyRecord:
        if not isinstance(body, dict) or not isinstance(body.get("prefix"), str):
            raise errors.InvalidResponseError("a key without a prefix")
        usage = body.get("monthly_usage")
        scopes = body.get("scopes")
        return cls(
            prefix=body["prefix"],
            name=body["name"] if isinstance(body.get("name"), str) else None,
            disabled=body.get("disabled") is True,
            limit=KeyLimit.from_json(body.get("limit")),
            scopes=tuple(map(str, scopes)) if isinstance(scopes, list) else None,
            created_at=_when(body.get("created_at")),
            monthly_usage=float(usage) if isinstance(usage, (int, float)) and not isinstance(usage, bool) else 0.0,
            key=body["key"] if isinstance(body.get("key"), str) else None,
        )


def usage_window(record: KeyRecord, now: datetime) -> tuple[datetime, datetime]:
    """The window of ``record``'s current limit period, as ``/v2/usage`` takes it (no wider than
    92 days; a key without a reset is counted from its creation)."""
    period: Period = record.limit.period if record.limit else "month"
    start = period_start(period, now)
    if period == "none" and record.created_at is not None:
        start = record.created_at
    end = now + timedelta(minutes=1)  # a charge landing as we ask still counts
    return max(start, end - MAX_WINDOW), end


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def usage_params(window: tuple[datetime, datetime], prefix: str | None = None) -> dict[str, str]:
    params = {"start": _iso(window[0]), "end": _iso(window[1])}
    if prefix is not None:
        params["key_prefix"] = prefix
    return params


class ManagementClient:
    """The management routes. ``management_key``: else ``$AIMLAPI_MANAGEMENT_KEY``;
    ``base_url``: else AIMLAPI_BASE_URL / AIML_API_BASE, else the public API."""

    def __init__(
        self,
        management_key: str | None = None,
        base_url: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.__key = require_management_key(management_key)
        self.base_url = find_base_url(base_url)
        self.retry = retry or RetryPolicy()
        self._clock = SystemClock()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.__key}"},
            follow_redirects=False,
            timeout=timeout,
            transport=transport,
            verify=tls_context(),
        )

    def __repr__(self) -> str:  # never the key
        return f"ManagementClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ManagementClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, method: str, path: str, *, once: bool = False, **kwargs: Any) -> dict[str, Any]:
        """One call (``once``: never retried after it may have arrived), its JSON body."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                failure: errors.KlingError = _connection_error(exc)
            except httpx.TransportError as exc:
                if once:
                    raise errors.APIConnectionError(
                        f"{method} {path}: {type(exc).__name__} after it was sent; it may have "
                        "been done. List the keys before trying again."
                    ) from exc
                failure = _connection_error(exc)
            else:
                if 300 <= response.status_code < 400:
                    raise errors.ConfigurationError(
                        f"The gateway answered HTTP {response.status_code} to {method} {path}.",
                        hint="Fix the base URL (for example https:// instead of http://).",
                    )
                if response.status_code < 400:
                    return json_object(response, path)
                failure = status_error(response, secrets=(self.__key,))
                if once and response.status_code != 429:
                    raise failure
            if not _is_transient(failure) or attempt >= self.retry.max_attempts:
                raise failure
            await self._clock.sleep(self.retry.delay(attempt, getattr(failure, "retry_after", None)))

    async def create(self, name: str, limit: KeyLimit | None, scopes: tuple[str, ...] = ("model:video",)) -> KeyRecord:
        """A new API key (its secret is in the returned record's ``key``, this once)."""
        body: dict[str, Any] = {"name": name, "scopes": list(scopes)}
        if limit is not None:
            body["limit"] = limit.to_json()
        reply = await self._call("POST", "/v1/keys", once=True, json=body)
        record = KeyRecord.from_json(reply.get("data"))
        if record.key is None:
            raise errors.InvalidResponseError("the created key came back without its secret")
        return record

    async def keys(self) -> list[KeyRecord]:
        """Every API key of the account, oldest first."""
        reply = await self._call("GET", "/v1/keys")
        data = reply.get("data")
        return [KeyRecord.from_json(item) for item in data] if isinstance(data, list) else []

    async def update(self, prefix: str, **changes: Any) -> KeyRecord:
        """Change some fields of a key (``disabled=``, ``name=``, ``limit=`` a KeyLimit)."""
        if isinstance(changes.get("limit"), KeyLimit):
            changes["limit"] = changes["limit"].to_json()
        reply = await self._call("PATCH", f"/v1/keys/{quote(prefix, safe='')}", json=changes)
        return KeyRecord.from_json(reply.get("data"))

    async def delete(self, prefix: str) -> bool:
        """Delete a key; False when it was already gone."""
        try:
            await self._call("DELETE", f"/v1/keys/{quote(prefix, safe='')}")
        except errors.NotFoundError:
            return False
        return True

    async def spend(self, record: KeyRecord, now: datetime | None = None) -> tuple[float, int]:
        """What ``record`` spent in its current limit period: USD and charged requests."""
        window = usage_window(record, now or datetime.now(timezone.utc))
        reply = await self._call("GET", "/v2/usage", params=usage_params(window, record.prefix))
        return _spend(reply)


def _spend(reply: dict[str, Any]) -> tuple[float, int]:
    spend, requests = reply.get("spend"), reply.get("requests")
    usd = float(spend) if isinstance(spend, (int, float)) and not isinstance(spend, bool) else 0.0
    count = int(requests) if isinstance(requests, int) and not isinstance(requests, bool) else 0
    return usd, count
