"""Fault injection on demand: a small spec language, decided per event with a seeded RNG.

A spec is a comma-separated list of items (spaces are ignored; an empty spec injects nothing)::

    item     := rate | script | setting
    rate     := SCOPE ":" KIND "=" PROBABILITY     every event of SCOPE draws once
    script   := SCOPE "#" N ":" KIND               exactly the N-th event of SCOPE (1-based)
    setting  := "credits_after=" N                 create calls after the N-th creation get 403
              | "delay=" SECONDS                   how late a ``slow`` response comes (default 30)
              | "retry_after=" SECONDS             the 429's Retry-After header (default 1)
              | "byte_delay=" SECONDS              a ``trickle``'s pause per byte (default 0.05)
              | "seed=" N                          the RNG seed (default: the emulator's seed)

Scopes, what counts as one of their events, and their kinds:

``post``  every create request (either endpoint pair); ``get`` every status request:
    ``429`` (with Retry-After), ``500``, ``502``, ``503``, ``504``: that error, nothing created;
    ``reset_before``: TCP reset before the request body is read, nothing created;
    ``reset_after``: the request is fully processed (a valid create DOES create its generation),
    then the connection is reset without a response; ``slow``: processed, answered ``delay``
    seconds late; ``malformed``: processed, answered with its JSON cut in half.
``job``  every created generation: ``error`` (ends in status ``error``, refused by moderation);
    ``no_video`` (ends ``completed`` with ``video: null``).
``download``  every created generation's video (the CDN's misbehaviour). Unless said otherwise
    only its first download (GET) misbehaves; later ones, and HEAD, are served properly:
    ``fail_once``: answers 500.
    ``reset_once``: a TCP reset mid-body.
    ``no_length``: no Content-Length, the body delimited by the connection's close (a polite
    FIN) and cut short at half: it looks complete unless checked against ``video.file_size``.
    ``short_length``: a Content-Length of three quarters of the file (less than
    ``video.file_size``) and just that many bytes, on a keep-alive connection.
    ``long_body``: the whole file as announced, then 4 KiB more on the same connection (which
    then closes without saying so): a client reading to the close gets too many bytes, one
    reusing the connection reads garbage as its next response.
    ``changed``: reset mid-body, and from then on the object is a new version (another clip,
    captioned "v2": a new ETag, Last-Modified, size and bytes): resuming with
    ``Range`` and a matching ``If-Range`` gets the whole new version (200), without
    ``If-Range`` a 206 that would splice two files.
    ``redirect_loop``: every GET of the video answers 302 to a URL that redirects back, for
    good.
    ``stall``: the head (with Content-Length), then silence until the client gives up.
    ``trickle``: the head, then one byte every ``byte_delay`` seconds.
    Every video is served with ``ETag`` and ``Last-Modified``, honours ``If-Range`` (a validator
    that does not match gets the whole file, 200) and reports totals in ``Content-Range``.

Rates of one scope add up to at most 1; a script wins over the rates for its event. Scripts and
``credits_after`` count from the moment the spec is set. Request faults strike before auth and
validation, as a proxy in front of the gateway would.
Example: ``post:429=0.2,get:503=0.1,job:error=0.1,credits_after=3,post#1:reset_after``.
Every injected fault is counted (see ``Emulator.stats()["faults"]``) under ``"scope:kind"``, and
403s under ``"credits_after"``.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["SCOPES", "FaultInjector", "FaultSpec", "parse_faults"]

_REQUEST_KINDS = (
    "429",
    "500",
    "502",
    "503",
    "504",
    "reset_before",
    "reset_after",
    "slow",
    "malformed",
)
SCOPES: dict[str, tuple[str, ...]] = {
    "post": _REQUEST_KINDS,
    "get": _REQUEST_KINDS,
    "job": ("error", "no_video"),
    "download": (
        "fail_once",
        "reset_once",
        "no_length",
        "short_length",
        "long_body",
        "changed",
        "redirect_loop",
        "stall",
        "trickle",
    ),
}
_ITEM = re.compile(r"(?P<scope>[a-z]+)(?:#(?P<nth>\d+))?:(?P<kind>[a-z0-9_]+)(?:=(?P<rate>.+))?")


@dataclass(frozen=True)
class FaultSpec:
    """A parsed spec: per-scope rates, scripted events and settings."""

    rates: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    scripts: dict[tuple[str, int], str] = field(default_factory=dict)
    credits_after: int | None = None
    delay: float = 30.0
    retry_after: int = 1
    byte_delay: float = 0.05
    seed: int | None = None


def _number(text: str, what: str, cast: type[int] | type[float]) -> float:
    try:
        value = cast(text)
    except ValueError:
        raise ValueError(f"fault spec: {what} must be a number, got {text!r}") from None
    if value < 0:
        raise ValueError(f"fault spec: {what} must not be negative, got {text!r}")
    return value


def parse_faults(spec: str) -> FaultSpec:
    """Parse a spec (grammar in the module docstring); ValueError says what is wrong."""
    rates: dict[str, list[tuple[str, float]]] = {}
    scripts: dict[tuple[str, int], str] = {}
    settings: dict[str, float] = {}
    for raw in spec.replace(" ", "").split(","):
        if not raw:
            continue
        name, _, value = raw.partition("=")
        if name in ("credits_after", "seed", "retry_after"):
            settings[name] = _number(value, name, int)
            continue
        if name in ("delay", "byte_delay"):
            settings[name] = _number(value, name, float)
            continue
        match = _ITEM.fullmatch(raw)
        if match is None:
            raise ValueError(f"fault spec: cannot read {raw!r} (expected scope:kind=rate)")
        scope, kind, nth, rate = match["scope"], match["kind"], match["nth"], match["rate"]
        if scope not in SCOPES:
            raise ValueError(f"fault spec: unknown scope {scope!r} in {raw!r}; use {list(SCOPES)}")
        if kind not in SCOPES[scope]:
            raise ValueError(f"fault spec: {scope} has no kind {kind!r}; use {SCOPES[scope]}")
        if nth is not None:
            if rate is not None or int(nth) < 1:
                raise ValueError(f"fault spec: a script is scope#N:kind with N >= 1, got {raw!r}")
            scripts[(scope, int(nth))] = kind
            continue
        if rate is None:
            raise ValueError(f"fault spec: {raw!r} needs a rate, e.g. {raw}=0.1")
        probability = _number(rate, f"the rate of {scope}:{kind}", float)
        if probability > 1:
            raise ValueError(f"fault spec: the rate of {scope}:{kind} is above 1")
        rates.setdefault(scope, []).append((kind, probability))
    for scope, items in rates.items():
        if sum(p for _, p in items) > 1 + 1e-9:
            raise ValueError(f"fault spec: the rates of scope {scope!r} add up to more than 1")
    return FaultSpec(
        rates={scope: tuple(items) for scope, items in rates.items()},
        scripts=scripts,
        credits_after=None if "credits_after" not in settings else int(settings["credits_after"]),
        delay=settings.get("delay", 30.0),
        retry_after=int(settings.get("retry_after", 1)),
        byte_delay=settings.get("byte_delay", 0.05),
        seed=None if "seed" not in settings else int(settings["seed"]),
    )


class FaultInjector:
    """Decides, event by event, which fault (if any) a spec calls for. Not thread-safe by design:
    it lives on the emulator's event loop."""

    def __init__(self, spec: FaultSpec, seed: int | None) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed if spec.seed is not None else seed)
        self._events: Counter[str] = Counter()
        self._charged = 0

    def draw(self, scope: str) -> str | None:
        """Count one event of ``scope`` and return the fault kind it gets, or None."""
        self._events[scope] += 1
        scripted = self.spec.scripts.get((scope, self._events[scope]))
        if scripted is not None:
            return scripted
        rates = self.spec.rates.get(scope)
        if not rates:
            return None
        roll = self._rng.random()
        for kind, probability in rates:
            if roll < probability:
                return kind
            roll -= probability
        return None

    def charge(self) -> bool:
        """Spend the credits of one creation; False once ``credits_after`` creations are spent."""
        limit = self.spec.credits_after
        if limit is not None and self._charged >= limit:
            return False
        self._charged += 1
        return True
