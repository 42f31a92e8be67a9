"""Backoff for transient faults, and the clock it sleeps on (replaceable in tests).

Which calls may be retried is decided by the client (a create POST almost never); this module only
says how long to wait: exponential backoff with full jitter, never less than the server's
``Retry-After`` (seconds or an HTTP date), and bounded so a wait cannot run away.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol

__all__ = ["RetryPolicy", "Clock", "SystemClock", "parse_retry_after", "RETRYABLE_STATUS"]

#: Statuses worth asking again for a read: timeout, rate limit, server trouble.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Monotonic time and asyncio.sleep."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to back off on transient faults."""

    max_attempts: int = 6  # total tries of one call, the first included
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a server hint longer than this is capped, not obeyed blindly

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        rng: random.Random | None = None,
        *,
        time_scale: float = 1.0,
    ) -> float:
        """Seconds before try number ``attempt + 1`` (``attempt`` counts from 1).

        ``time_scale`` divides the backoff the way :class:`~kling_notebook.domain.polling.PollPolicy`
        divides the poll schedule, so a run against a sped-up emulator is not held up by
        real-time pauses. A server's ``Retry-After`` is not scaled: it is said on the server's own
        clock (an emulator running fast already asks for less), so it is obeyed as given, capped
        at ``max_retry_after``.
        """
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) / time_scale
        jittered = (rng or random).uniform(0, ceiling)
        if retry_after is not None:
            return max(jittered, min(retry_after, self.max_retry_after))
        return jittered
