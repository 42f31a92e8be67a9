"""A concurrency cap that backs off when the gateway refuses submits with 429.

Why the cap moves: the gateway answers 429 when an account runs too many generations and publishes
no numbers. A submit refused with 429 provably created nothing, so the cap halves, and it grows
again by one after every few successful submits (additive increase, multiplicative decrease, as
TCP does).
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["AdaptiveLimit", "RAISE_AFTER"]

#: Successful submits in a row after which a lowered cap grows by one.
RAISE_AFTER = 3


class AdaptiveLimit:
    """At most ``limit`` holders at once, served first come first served. ``limit`` halves on
    :meth:`backed_off` and grows by one after ``raise_after`` calls of :meth:`succeeded`, up to
    ``ceiling``. Lives on one event loop."""

    def __init__(self, ceiling: int, *, raise_after: int | None = None) -> None:
        raise_after = RAISE_AFTER if raise_after is None else raise_after
        if ceiling < 1 or raise_after < 1:
            raise ValueError("concurrency and raise_after must be at least 1")
        self.ceiling = ceiling
        self.limit = ceiling
        self.raise_after = raise_after
        self.in_flight = 0
        self.peak = 0
        self.limits: list[int] = [ceiling]
        self._streak = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted and cancelled in the same instant: hand it on
            else:
                self._waiters.remove(waiter)
            raise

    def occupy(self) -> None:
        """Take a slot now, even past the cap: a generation already running at the gateway holds
        one there whatever this cap says, so later submits must wait for it."""
        self._take()

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def backed_off(self) -> None:
        """The gateway refused a submit with 429: halve the cap."""
        self._streak = 0
        self._set(max(1, self.limit // 2))

    def succeeded(self) -> None:
        """A submit went through: every ``raise_after`` of them raise the cap by one."""
        self._streak += 1
        if self._streak >= self.raise_after and self.limit < self.ceiling:
            self._streak = 0
            self._set(self.limit + 1)

    def _set(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self.limits.append(limit)
            self._wake()

    def _take(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._take()
                waiter.set_result(None)
