"""Price estimates shown before every submit, and a budget that refuses to submit past a limit.

The gateway publishes no credits-per-video figure, so the default table holds v2.1 master's
published fal.ai mirror price in dollars and leaves credits unknown unless the user sets
``credits_per_second`` (v2.1 master) or ``credits_per_usd`` (every model). Other models are priced
per second of video: by ``rates`` (the gateway's live prices land there, see
:mod:`kling_notebook.gateway.prices`), else by the catalogue's built-in figures. Every figure is
labelled with where it comes from.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from .errors import BudgetExceededError, ConfigurationError
from .models import DEFAULT_MODEL, ModelRate, get_model

__all__ = [
    "PriceTable",
    "Priced",
    "CostEstimate",
    "Budget",
    "Reservation",
    "reserve_all",
    "DEFAULT_PRICES",
    "cost_notice",
    "credits_text",
]

# Float sums such as 1.4 + 1.4 + ... must not refuse a budget set to their exact total.
_EPSILON = 1e-9


def _money(value: float) -> float:
    """Round away float noise (5 * 0.28 == 1.4000000000000001) without hiding real fractions."""
    return round(value, 6)


@dataclass(frozen=True)
class CostEstimate:
    """What a number of videos is expected to cost; ``credits`` is None when unknown."""

    count: int
    duration_seconds_total: int
    usd: float
    credits: float | None
    label: str

    def __str__(self) -> str:
        """E.g. "about $2.80 for 2 videos (10 s in all)": the seconds are the total, so two 5 s
        videos never read like two of 10 s."""
        videos = "1 video" if self.count == 1 else f"{self.count} videos"
        seconds = f"{self.duration_seconds_total} s" + ("" if self.count == 1 else " in all")
        credits = f" (~{self.credits:g} credits)" if self.credits is not None else ""
        return f"about ${self.usd:.2f}{credits} for {videos} ({seconds}) \u2014 {self.label}"

    def __add__(self, other: CostEstimate) -> CostEstimate:
        """The estimate of both together (a sweep over several durations)."""
        credits = (
            None
            if self.credits is None or other.credits is None
            else _money(self.credits + other.credits)
        )
        return CostEstimate(
            count=self.count + other.count,
            duration_seconds_total=self.duration_seconds_total + other.duration_seconds_total,
            usd=_money(self.usd + other.usd),
            credits=credits,
            label=self.label if self.label == other.label else f"{self.label}; {other.label}",
        )


class Priced(Protocol):
    """What a price depends on (a :class:`~kling_notebook.domain.request.GenerationRequest`)."""

    @property
    def model(self) -> str: ...

    @property
    def duration(self) -> int: ...

    @property
    def generate_audio(self) -> bool | None: ...


@dataclass(frozen=True)
class PriceTable:
    """Prices per video; override any field to match your account's real prices.

    The first five fields price v2.1 master (the default model); ``rates`` prices any model per
    second of video, v2.1 master included when it is listed there (the gateway's live prices
    are); a model in neither is priced by its built-in catalogue rate."""

    usd_base: float = 1.40
    base_seconds: int = 5
    usd_per_extra_second: float = 0.28
    credits_per_second: float | None = None
    label: str = "estimate from the published fal.ai mirror price"
    rates: Mapping[str, ModelRate] = field(default_factory=dict, hash=False)
    #: Credits per USD, for a credits figure on every model (None: unknown).
    credits_per_usd: float | None = None

    def estimate(
        self, duration: int, count: int = 1, *, model: str | None = None, audio: bool = False
    ) -> CostEstimate:
        """The cost of ``count`` videos of ``duration`` seconds each by ``model`` (v2.1 master
        when None; for v2.1 master's table, shorter than the base duration still costs the base
        price), with audio or not."""
        if duration <= 0 or count < 0:
            raise ValueError(f"duration must be > 0 and count >= 0 (got {duration}, {count})")
        seconds = duration * count
        chosen = model or DEFAULT_MODEL
        if chosen == DEFAULT_MODEL and chosen not in self.rates:
            extra = max(0, duration - self.base_seconds)
            per_video = self.usd_base + extra * self.usd_per_extra_second
            label = self.label
        else:
            rate = self.rates.get(chosen) or get_model(chosen).rate
            per_video = rate.per_second(audio) * duration
            label = rate.label
        usd = _money(per_video * count)
        if self.credits_per_usd is not None:
            credits: float | None = self.credits_per_usd * usd
        elif self.credits_per_second is not None and chosen == DEFAULT_MODEL:
            credits = self.credits_per_second * seconds
        else:
            credits = None
        return CostEstimate(
            count=count,
            duration_seconds_total=seconds,
            usd=usd,
            credits=None if credits is None else _money(credits),
            label=label,
        )

    def estimate_request(self, request: Priced, count: int = 1) -> CostEstimate:
        """The cost of ``request`` (its model, duration and audio: on unless turned off, as the
        gateway's default is, where the model takes it)."""
        audio = get_model(request.model).audio and request.generate_audio is not False
        return self.estimate(request.duration, count, model=request.model, audio=audio)

    def with_rates(self, rates: Mapping[str, ModelRate]) -> PriceTable:
        """This table with ``rates`` in force over its own (the gateway's live prices)."""
        return replace(self, rates={**self.rates, **rates}) if rates else self


DEFAULT_PRICES = PriceTable()


def cost_notice(estimate: CostEstimate, *, demo: bool, charged_when: str) -> str:
    """What a front end says before the paid step, in one wording for all of them (the panel's):
    ``charged_when`` names the step, e.g. "when you click Generate"."""
    if demo:
        return f"Estimated cost: nothing in demo mode. With a key: {estimate}."
    return f"Estimated cost: {estimate}. Charged {charged_when}."


def credits_text(credits: float, *, simulated: bool = False) -> str:
    """Credits as a person reads them. The demo emulator reports credits like the gateway does;
    they are labelled so nobody takes them for money spent."""
    return f"{credits:g} (simulated: demo mode, nothing charged)" if simulated else f"{credits:g}"


class Reservation:
    """Money set aside for one submit.

    ``release()`` when the request provably never reached the gateway; ``commit()`` once it was
    submitted, or when the outcome is uncertain (it may have been paid). ``commit`` may be called
    again later with the actual ``credits_used`` to replace the estimated credits.
    """

    def __init__(self, budget: Budget, estimate: CostEstimate) -> None:
        self._budget = budget
        self.estimate = estimate
        self.state = "reserved"  # then "committed" or "released"; "refunded" after a failure
        self.actual_credits: float | None = None

    def commit(self, actual_credits: float | None = None) -> None:
        self._budget._commit(self, actual_credits)

    def release(self) -> None:
        self._budget._release(self)

    def refund(self) -> None:
        """The generation failed: the gateway bills nothing for it, so it stops counting."""
        self._budget._refund(self)

    def close(self, *, paid: bool) -> None:
        """The POST ended without an id: commit when it may have created a generation (``paid``),
        else release."""
        if paid:
            self.commit()
        else:
            self.release()

    @property
    def credits_charged(self) -> float:
        """Credits this reservation counts against the budget: actual when known, else estimated."""
        if self.actual_credits is not None:
            return self.actual_credits
        return self.estimate.credits or 0.0


class Budget:
    """An optional spending cap (in USD and/or credits) shared by the threads of a session or
    batch; a ``None`` limit means unlimited. Reserving is atomic, so concurrent submits can
    never overspend it together."""

    def __init__(self, usd: float | None = None, credits: float | None = None) -> None:
        if (usd is not None and usd < 0) or (credits is not None and credits < 0):
            raise ValueError("a budget cannot be negative")
        self.usd = usd
        self.credits = credits
        self._lock = threading.Lock()
        self._reserved_usd = 0.0
        self._spent_usd = 0.0
        self._reserved_credits = 0.0
        self._spent_credits = 0.0

    def check(self, estimate: CostEstimate) -> None:
        """Raise :class:`BudgetExceededError` if ``estimate`` does not fit now (reserves nothing:
        a batch checks its whole total before sending its first request)."""
        with self._lock:
            self._check(estimate)

    def reserve(self, estimate: CostEstimate) -> Reservation:
        """Set ``estimate`` aside, or raise :class:`BudgetExceededError` (nothing is sent)."""
        with self._lock:
            self._check(estimate)
            self._reserved_usd += estimate.usd
            self._reserved_credits += estimate.credits or 0.0
            return Reservation(self, estimate)

    def _check(self, estimate: CostEstimate) -> None:
        if self.credits is not None and estimate.credits is None:
            raise ConfigurationError(
                "A credits budget needs a credits estimate.",
                hint="Set PriceTable(credits_per_second=...) or use a dollar budget.",
            )
        remaining_usd = self._remaining(self.usd, self._spent_usd + self._reserved_usd)
        if remaining_usd is not None and estimate.usd > remaining_usd + _EPSILON:
            raise BudgetExceededError(estimate.usd, remaining_usd, "USD")
        credits = estimate.credits or 0.0
        remaining_credits = self._remaining(
            self.credits, self._spent_credits + self._reserved_credits
        )
        if remaining_credits is not None and credits > remaining_credits + _EPSILON:
            raise BudgetExceededError(credits, remaining_credits, "credits")

    def _commit(self, reservation: Reservation, actual_credits: float | None) -> None:
        with self._lock:
            if reservation.state == "released":
                raise RuntimeError("a released reservation cannot be committed")
            if reservation.state == "refunded":  # failed: later figures of it cost nothing
                return
            if reservation.state == "reserved":
                self._reserved_usd -= reservation.estimate.usd
                self._reserved_credits -= reservation.estimate.credits or 0.0
                self._spent_usd += reservation.estimate.usd
                self._spent_credits += reservation.credits_charged
                reservation.state = "committed"
            if actual_credits is not None:
                self._spent_credits += actual_credits - reservation.credits_charged
                reservation.actual_credits = actual_credits

    def _refund(self, reservation: Reservation) -> None:
        with self._lock:
            if reservation.state == "committed":
                self._spent_usd -= reservation.estimate.usd
                self._spent_credits -= reservation.credits_charged
            if reservation.state in ("committed", "reserved"):
                if reservation.state == "reserved":
                    self._reserved_usd -= reservation.estimate.usd
                    self._reserved_credits -= reservation.estimate.credits or 0.0
                reservation.state = "refunded"

    def _release(self, reservation: Reservation) -> None:
        with self._lock:
            if reservation.state == "committed":
                raise RuntimeError("a committed reservation was paid for and cannot be released")
            if reservation.state == "reserved":
                self._reserved_usd -= reservation.estimate.usd
                self._reserved_credits -= reservation.estimate.credits or 0.0
                reservation.state = "released"

    @staticmethod
    def _remaining(limit: float | None, used: float) -> float | None:
        return None if limit is None else _money(max(0.0, limit - used))

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return _money(self._spent_usd)

    @property
    def reserved_usd(self) -> float:
        with self._lock:
            return _money(self._reserved_usd)

    @property
    def remaining_usd(self) -> float | None:
        with self._lock:
            return self._remaining(self.usd, self._spent_usd + self._reserved_usd)

    @property
    def spent_credits(self) -> float:
        with self._lock:
            return _money(self._spent_credits)

    @property
    def remaining_credits(self) -> float | None:
        with self._lock:
            return self._remaining(self.credits, self._spent_credits + self._reserved_credits)

    def __repr__(self) -> str:
        return (
            f"Budget(usd={self.usd}, credits={self.credits}, spent_usd={self.spent_usd}, "
            f"reserved_usd={self.reserved_usd})"
        )


def reserve_all(budgets: list[Budget], estimate: CostEstimate) -> list[Reservation]:
    """Reserve ``estimate`` from every budget in force, or from none: when one refuses, those
    already made are released and its :class:`BudgetExceededError` is raised (nothing is sent)."""
    made: list[Reservation] = []
    try:
        for budget in budgets:
            made.append(budget.reserve(estimate))
    except BaseException:
        for reservation in made:
            reservation.release()
        raise
    return made
