"""The gateway's live prices: ``GET /v1/models?id=MODEL&include=pricing``, cached by its ETag.

The route needs no key, so it is read with the client that carries none. A price is USD per
second of video (``fixed``: one rate; ``variants``: one by ``generate_audio``); a ``variable``
price, another unit, an error or no answer leaves the model to the price table's fallback, so a
price that cannot be read never stops a generation. A rate read in the last ``max_age`` seconds
is used as is; an older one is revalidated with ``If-None-Match`` (a 304 costs no body).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..domain.models import MODELS, ModelRate
from ..domain.retry import Clock, SystemClock

__all__ = ["LivePrices", "parse_rate", "read_all_rates", "LIVE_LABEL", "DEMO_LABEL"]

log = logging.getLogger("kling_notebook")

LIVE_LABEL = "the gateway's price (GET /v1/models)"
DEMO_LABEL = "the demo emulator's price (simulated)"


def _per_second(unit: Any) -> float | None:
    """USD per second from a ``{unit, per, price}`` rate, or None for any other unit."""
    if not isinstance(unit, Mapping) or unit.get("unit") != "second":
        return None
    per: Any = unit.get("per", 1)
    price: Any = unit.get("price")
    if not (_is_number(per) and _is_number(price)) or per <= 0 or price < 0:
        return None
    return float(price) / float(per)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_rate(entry: Any, label: str = LIVE_LABEL) -> ModelRate | None:
    """A catalogue entry's pricing as a rate per second, or None when it cannot be quoted."""
    pricing = entry.get("pricing") if isinstance(entry, Mapping) else None
    if not isinstance(pricing, Mapping) or pricing.get("currency", "USD") != "USD":
        return None
    if pricing.get("kind") == "fixed":
        units = pricing.get("units") or []
        rates = [rate for rate in map(_per_second, units) if rate is not None]
        return ModelRate(rates[0], label=label) if rates else None
    if pricing.get("kind") == "variants" and pricing.get("dimensions") == ["generate_audio"]:
        by_audio = {
            variant.get("generate_audio"): _per_second(variant)
            for variant in pricing.get("variants") or []
            if isinstance(variant, Mapping)
        }
        silent, audio = by_audio.get(False), by_audio.get(True)
        if silent is None:
            return None
        return ModelRate(silent, audio, label=label)
    return None


@dataclass
class _Cached:
    etag: str | None
    rate: ModelRate | None
    read_at: float


class LivePrices:
    """Live rates of one gateway, per model, with a cache that revalidates by ETag."""

    def __init__(
        self,
        base_url: str,
        *,
        max_age: float = 600.0,
        clock: Clock | None = None,
        label: str = LIVE_LABEL,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_age = max_age
        self.label = label
        self._clock = clock or SystemClock()
        self._cache: dict[str, _Cached] = {}

    async def rate(self, http: httpx.AsyncClient, model: str) -> ModelRate | None:
        """``model``'s live rate, or None when the gateway does not quote one now."""
        cached = self._cache.get(model)
        now = self._clock.now()
        if cached is not None and now - cached.read_at < self.max_age:
            return cached.rate
        headers = {"If-None-Match": cached.etag} if cached and cached.etag else {}
        try:
            response = await http.get(
                f"{self.base_url}/v1/models",
                params={"id": model, "include": "pricing"},
                headers=headers,
            )
        except httpx.HTTPError as error:
            log.info("live price of %s not read (%s): using the price table", model, type(error).__name__)
            return cached.rate if cached else None
        if response.status_code == 304 and cached is not None:
            cached.read_at = now
            return cached.rate
        if response.status_code != 200:
            log.info("live price of %s not read (HTTP %s)", model, response.status_code)
            return cached.rate if cached else None
        try:
            data = response.json().get("data") or []
        except (ValueError, AttributeError):
            return cached.rate if cached else None
        entry = next((e for e in data if isinstance(e, Mapping) and e.get("id") == model), None)
        rate = parse_rate(entry, self.label) if entry is not None else None
        self._cache[model] = _Cached(response.headers.get("etag"), rate, now)
        return rate

    async def rates(self, http: httpx.AsyncClient, models: Iterable[str]) -> dict[str, ModelRate]:
        """The live rates of ``models`` that the gateway quotes (unknown ids are skipped)."""
        found: dict[str, ModelRate] = {}
        for model in dict.fromkeys(models):
            if model in MODELS:
                rate = await self.rate(http, model)
                if rate is not None:
                    found[model] = rate
        return found


async def read_all_rates(
    http: httpx.AsyncClient, base_url: str, label: str = LIVE_LABEL
) -> dict[str, ModelRate]:
    """Every family model's live rate in one ``GET /v1/models?include=pricing`` (for a listing);
    empty when the catalogue cannot be read, so the listing falls back to the built-in table."""
    try:
        response = await http.get(f"{base_url.rstrip('/')}/v1/models", params={"include": "pricing"})
        data = response.json().get("data") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        log.info("live prices not read (%s): using the built-in table", type(error).__name__)
        return {}
    found: dict[str, ModelRate] = {}
    for entry in data if isinstance(data, list) else []:
        model = entry.get("id") if isinstance(entry, Mapping) else None
        rate = parse_rate(entry, label) if model in MODELS else None
        if model is not None and rate is not None:
            found[model] = rate
    return found
