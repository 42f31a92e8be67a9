"""The gateway's service endpoints: keys, spend, balance, logs and the model catalogue.

``/v1/keys`` (management key), ``/v1/key`` (an API key's own limit and monthly usage),
``/v2/usage`` and ``/v2/usage/detail`` (spend in a window; another key's with ``key_prefix``
and a management key), ``/v2/billing`` (the balance), ``/v2/logs`` (``_logs``) and
``/v1/models`` (``_models``), each as its schema in ``service/`` describes. Spend is what was
charged (``_billing``): holds of running generations are not spend, but they count against a
key's limit, so a key cannot start more than its limit can pay for.

A key whose limit the next generation would pass is refused the way the gateway refuses a charge
it will not make: 403 (never worth retrying before the limit resets or is raised), with a message
that says which limit and when it resets.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any

from ._accounts import Account, ApiKey, ManagementKey, period_start
from ._billing import Ledger
from ._http import Request, Response
from ._logs import Logs
from ._models import Catalogue, etag_matches
from ._payloads import JSON, Refused, body_invalid, json_reply
from ._stats import LedgerEntry, Stats
from ._tracing import Call
from ._validation import Issue
from ._window import QueryInvalid, iso, window

__all__ = ["Service"]

_KEY_PATH = re.compile(r"/v1/keys/(?P<prefix>[^/]+)")
GROUPINGS = ("day", "model", "day,model")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone(request: Request) -> zoneinfo.ZoneInfo:
    """``tz``: a canonical IANA name, matched exactly (``UTC``, ``Europe/Berlin``)."""
    name = request.query_value("tz") or "UTC"
    if name != "UTC" and name not in _zones():
        raise QueryInvalid(
            [Issue("tz", "a canonical IANA time zone, e.g. Europe/Berlin", repr(name))]
        )
    return zoneinfo.ZoneInfo(name)


class Service:
    """Answers the service routes; lives on the emulator's loop."""

    def __init__(
        self,
        account: Account,
        ledger: Ledger,
        logs: Logs,
        catalogue: Catalogue,
        stats: Stats,
    ) -> None:
        self._account = account
        self._ledger = ledger
        self._logs = logs
        self._catalogue = catalogue
        self._stats = stats
        self._routes: dict[tuple[str, str], Callable[[Call], Response]] = {
            ("GET", "/v1/keys"): self._keys,
            ("GET", "/v1/key"): self._key,
            ("GET", "/v2/usage"): lambda call: self._usage(call, detail=False),
            ("GET", "/v2/usage/detail"): lambda call: self._usage(call, detail=True),
            ("GET", "/v2/billing"): self._billing,
            ("GET", "/v2/logs"): self._log_page,
            ("GET", "/v1/models"): self._models,
        }

    async def answer(self, call: Call, method: str, path: str) -> Response | None:
        """The reply to a service route, or None when ``path`` is not one."""
        route = self._routes.get((method, path))
        if route is not None:
            return route(call)
        if (method, path) == ("POST", "/v1/keys"):
            self._account.manager(call.request)
            created = self._account.create(await self._body(call))
            return json_reply(200, {"data": {**self._key_json(created), "key": created.key}})
        match = _KEY_PATH.fullmatch(path)
        if match is None or method not in ("PATCH", "PUT", "DELETE"):
            return None
        self._account.manager(call.request)
        prefix = match["prefix"]
        if method == "DELETE":
            self._account.delete(prefix)
            return json_reply(200, {"data": {"prefix": prefix, "deleted": True}})
        body = await self._body(call)
        updated = self._account.update(prefix, body, replace=method == "PUT")
        return json_reply(200, {"data": self._key_json(updated)})

    @staticmethod
    async def _body(call: Call) -> Any:
        raw = await call.request.read_body()
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise body_invalid([Issue("", "JSON object", "invalid JSON")]) from None

    def _monthly_usage(self, key: ApiKey) -> float:
        wall = self._ledger.clock.wall()
        return self._ledger.charged_by(key.prefix, period_start("month", wall))

    def _key_json(self, key: ApiKey) -> dict[str, Any]:
        return key.as_json(self._monthly_usage(key))

    def _keys(self, call: Call) -> Response:
        self._account.manager(call.request)
        return json_reply(
            200, {"data": [self._key_json(key) for key in self._account.keys.values()]}
        )

    def _key(self, call: Call) -> Response:
        return json_reply(200, {"data": self._key_json(self._account.api_key(call.request))})

    def _subject(self, request: Request) -> tuple[str, str | None]:
        """Whose requests a report covers (a prefix; "" for a management key's own, which
        makes none) and the ``key_prefix`` it was asked for."""
        principal = self._account.authenticate(request)
        wanted = request.query_value("key_prefix")
        if isinstance(principal, ManagementKey):
            if wanted is not None:
                self._account.find(wanted)
            return wanted or "", wanted
        if wanted not in (None, principal.prefix):
            raise Refused(403, "Reporting on another key needs a management key.")
        return principal.prefix, wanted

    def _log_page(self, call: Call) -> Response:
        prefix, _ = self._subject(call.request)
        self._logs.rate.check(prefix or "management", "GET /v2/logs")
        return json_reply(200, self._logs.page(call.request, prefix))

    def _usage(self, call: Call, *, detail: bool) -> Response:
        request = call.request
        prefix, wanted = self._subject(request)
        start, end = window(request, self._ledger.clock.wall())
        grouping = request.query_value("group_by")
        if grouping is not None and (not detail or grouping not in GROUPINGS):
            expected = " | ".join(GROUPINGS) if detail else "no group_by on /v2/usage"
            raise QueryInvalid([Issue("group_by", expected, repr(grouping))])
        zone = _zone(request) if detail else None
        entries = [
            e for e in self._stats.ledger if e.key_prefix == prefix and start <= e.wall <= end
        ]
        charges = [e for e in entries if e.event == "charge"]
        body: dict[str, Any] = {
            "api_key_prefix": wanted,
            "start": iso(start),
            "end": iso(end),
            "spend": _spend(charges),
            "currency": "USD",
            "requests": len(charges),
        }
        if detail:
            models = sorted({e.model for e in charges})
            body["models"] = sorted(
                (
                    {
                        "model": model,
                        "spend": _spend(e for e in charges if e.model == model),
                        "requests": sum(e.model == model for e in charges),
                    }  # fmt: skip
                    for model in models
                ),
                key=lambda entry: -entry["spend"],
            )
            if grouping is not None and zone is not None:
                body["groups"] = _groups(entries, grouping, zone)
        return json_reply(200, body)

    def _billing(self, call: Call) -> Response:
        self._account.authenticate(call.request)
        balance = round(self._ledger.balance - self._ledger.spent, 6)
        return json_reply(200, {"current_balance": balance, "currency": "USD"})

    def _models(self, call: Call) -> Response:
        """The catalogue with live prices; no key needed, as on the gateway."""
        body, etag = self._catalogue.listing(call.request)
        if etag_matches(call.request.headers.get("if-none-match"), etag):
            return Response(304, b"", {"ETag": etag})
        return Response(200, body, {**JSON, "ETag": etag})

    def check_spend(self, key: ApiKey, usd: float) -> None:
        """Refuse (403) a generation costing ``usd`` that would take ``key`` past its limit."""
        if key.limit is None:
            return
        retention, threshold = key.limit["retention"], float(key.limit["threshold"])
        since = period_start(retention, self._ledger.clock.wall())
        committed = self._ledger.charged_by(key.prefix, since) + self._ledger.held_by(key.prefix)
        if committed + usd > threshold + 1e-9:
            period = "in total" if retention == "no_reset" else f"per {retention}"
            resets = "" if retention == "no_reset" else " It resets at 00:00 UTC."
            raise Refused(
                403,
                f"API key limit reached: {key.prefix}... has committed ${committed:.2f} of its "
                f"${threshold:.2f} {period}, and this generation costs ${usd:.2f}.{resets}",
            )


def _spend(entries: Iterable[LedgerEntry]) -> float:
    return round(sum(e.usd for e in entries), 6)


def _groups(
    entries: list[LedgerEntry], grouping: str, zone: zoneinfo.ZoneInfo
) -> list[dict[str, Any]]:
    """Spend and request counts by day (in ``zone``), by model, or both."""

    def label(entry: LedgerEntry) -> tuple[str, ...]:
        day = datetime.fromtimestamp(entry.wall, zone).date().isoformat()
        return {"day": (day,), "model": (entry.model,), "day,model": (day, entry.model)}[grouping]

    names = grouping.split(",")
    groups: dict[tuple[str, ...], list[LedgerEntry]] = {}
    for entry in entries:
        groups.setdefault(label(entry), []).append(entry)
    result = []
    for values, members in sorted(groups.items()):
        counts = {
            event: sum(e.event == event for e in members) for event in ("hold", "charge", "release")
        }
        result.append(
            {
                **dict(zip(names, values, strict=True)),
                "spend": _spend(e for e in members if e.event == "charge"),
                "tokens": {"input": 0, "output": 0, "total": 0},
                "requests": {
                    "total": counts["hold"],
                    "charged": counts["charge"],
                    "succeeded": counts["charge"],
                    "failed": counts["release"],
                },
            }
        )
    return result
