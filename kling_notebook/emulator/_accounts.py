"""One account's keys: API keys, which call models, and a management key, which manages them.

The emulator's ``api_key`` is the account's first API key; the management key (made in the
dashboard on the real gateway) creates, lists, updates and deletes more (``/v1/keys``, as
``service/keys-*.json`` describe), each a working API key at once. A key has a name, may be
disabled, may be limited to ``scopes`` (a key whose scopes leave out ``model:video`` cannot make
or read videos: 403) and may carry a spending ``limit``: ``{retention, threshold}`` in USD per
``day``, ``week``, ``month`` or ever (``no_reset``); periods start at 00:00 UTC (weeks on Monday,
months on the 1st) of the emulator's wall clock.

Keys of one kind cannot stand in for the other: a management key calling a model gets 401 (it is
not an API key), an API key calling ``/v1/keys`` gets 403.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ._http import Request
from ._jobs import Clock
from ._payloads import Refused, body_invalid
from ._validation import Issue
from ._window import iso

__all__ = [
    "RETENTIONS",
    "SCOPES",
    "Account",
    "ApiKey",
    "ManagementKey",
    "period_start",
]

SCOPES = ("model:chat", "model:responses", "model:image", "model:audio", "model:video",
          "model:embeddings", "model:speech", "model:ocr")  # fmt: skip
RETENTIONS = ("no_reset", "day", "week", "month")
PREFIX = 8  # a key's prefix: its first 8 characters
UNAUTHORIZED = "Invalid or missing API key: send the header 'Authorization: Bearer <key>'."
NOT_AN_API_KEY = "A management key cannot call models: use an API key."
NEEDS_MANAGEMENT = "This endpoint needs a management key."


def period_start(retention: str, wall: float) -> float:
    """When the current limit period began, at Unix time ``wall`` (0 for ``no_reset``)."""
    if retention == "no_reset":
        return 0.0
    now = datetime.fromtimestamp(wall, timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if retention == "week":
        midnight -= timedelta(days=now.weekday())
    elif retention == "month":
        midnight = midnight.replace(day=1)
    return midnight.timestamp()


@dataclass
class ApiKey:
    """An API key of the account."""

    key: str
    name: str | None
    created_at: float  # wall
    updated_at: float
    disabled: bool = False
    scopes: list[str] | None = None  # None: every scope
    limit: dict[str, Any] | None = None  # {retention, threshold}

    @property
    def prefix(self) -> str:
        return self.key[:PREFIX]

    def may(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def as_json(self, monthly_usage: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "disabled": self.disabled,
            "scopes": self.scopes,
            "limit": self.limit,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "monthly_usage": monthly_usage,
        }


@dataclass(frozen=True)
class ManagementKey:
    key: str = field(repr=False)


def _bearer(request: Request) -> bytes | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip().encode("utf-8", "replace") if scheme.lower() == "bearer" else None


class Account:
    """The keys, on the emulator's loop."""

    def __init__(self, clock: Clock, api_key: str, management_key: str) -> None:
        if api_key[:PREFIX] == management_key[:PREFIX]:
            raise ValueError("the API key and the management key must differ in their prefix")
        self._clock = clock
        self.management = ManagementKey(management_key)
        now = clock.wall()
        self.root = ApiKey(api_key, "default", now, now)
        self.keys: dict[str, ApiKey] = {self.root.prefix: self.root}  # by prefix, oldest first

    def authenticate(self, request: Request) -> ApiKey | ManagementKey:
        """Whoever the request's bearer key is, or 401."""
        given = _bearer(request)
        if given is not None:
            if hmac.compare_digest(given, self.management.key.encode()):
                return self.management
            key = self.keys.get(given[:PREFIX].decode("utf-8", "replace"))
            if key is not None and hmac.compare_digest(given, key.key.encode()):
                if key.disabled:
                    raise Refused(401, f"The API key {key.prefix}... is disabled.")
                return key
        raise Refused(401, UNAUTHORIZED)

    def api_key(self, request: Request, scope: str | None = None) -> ApiKey:
        """The request's API key (401 for none or a management key; 403 out of ``scope``)."""
        principal = self.authenticate(request)
        if isinstance(principal, ManagementKey):
            raise Refused(401, NOT_AN_API_KEY)
        if scope is not None and not principal.may(scope):
            raise Refused(403, f"The API key {principal.prefix}... has no scope {scope}.")
        return principal

    def manager(self, request: Request) -> ManagementKey:
        """The request's management key, or 401 (none) / 403 (an API key)."""
        principal = self.authenticate(request)
        if not isinstance(principal, ManagementKey):
            raise Refused(403, NEEDS_MANAGEMENT)
        return principal

    def find(self, prefix: str) -> ApiKey:
        key = self.keys.get(prefix)
        if key is None:
            raise Refused(404, f"No API key with prefix {prefix!r}")
        return key

    def create(self, body: Any) -> ApiKey:
        """A new API key from a ``POST /v1/keys`` body."""
        fields = _fields(body, ("name", "limit", "scopes"), nullable=("scopes",))
        key = "emu" + secrets.token_hex(16)
        while key[:PREFIX] in self.keys or key[:PREFIX] == self.management.key[:PREFIX]:
            key = "emu" + secrets.token_hex(16)
        now = self._clock.wall()
        created = ApiKey(
            key, fields.get("name"), now, now, False, fields.get("scopes"), fields.get("limit")
        )
        self.keys[created.prefix] = created
        return created

    def update(self, prefix: str, body: Any, *, replace: bool) -> ApiKey:
        """``PATCH`` (``replace`` False: the fields given change) or ``PUT`` (the body is the
        whole key: a field left out goes back to its default)."""
        key = self.find(prefix)
        nullable = ("name", "scopes", "limit") if replace else ("scopes",)
        fields = _fields(body, ("name", "disabled", "limit", "scopes"), nullable=nullable)
        if replace:
            fields = {"name": None, "disabled": False, "limit": None, "scopes": None, **fields}
        for name, value in fields.items():
            setattr(key, name, value)
        key.updated_at = self._clock.wall()
        return key

    def delete(self, prefix: str) -> None:
        del self.keys[self.find(prefix).prefix]


def _fields(body: Any, allowed: tuple[str, ...], nullable: tuple[str, ...]) -> dict[str, Any]:
    """Check a key body against the schemas (no other properties) and return its fields."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise body_invalid([Issue("", "object", type(body).__name__)])
    issues = [Issue(name, "no such property", "present") for name in body if name not in allowed]
    for name, value in body.items():
        if name not in allowed or (value is None and name in nullable):
            continue
        if name == "name" and not isinstance(value, str):
            issues.append(Issue("name", "string", repr(value)))
        elif name == "disabled" and not isinstance(value, bool):
            issues.append(Issue("disabled", "boolean", repr(value)))
        elif name == "scopes" and (
            not isinstance(value, list) or not all(scope in SCOPES for scope in value)
        ):
            issues.append(Issue("scopes", f"array of {' | '.join(SCOPES)}", repr(value)))
        elif name == "limit":
            issues += _limit_issues(value)
    if issues:
        raise body_invalid(issues)
    return dict(body)


def _limit_issues(limit: Any) -> list[Issue]:
    if not isinstance(limit, dict) or set(limit) - {"retention", "threshold"}:
        return [Issue("limit", "{retention, threshold}", repr(limit))]
    issues = []
    if limit.get("retention") not in RETENTIONS:
        issues.append(
            Issue("limit.retention", " | ".join(RETENTIONS), repr(limit.get("retention")))
        )
    threshold = limit.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold < 0:
        issues.append(Issue("limit.threshold", "a number of USD, at least 0", repr(threshold)))
    return issues
