"""When to ask for a generation's status next, and how far along it probably is.

Status reads are free, but a fixed 10 s loop is both wasteful (most of a 5-6 minute job nothing
can happen) and slow to notice the end (5 s late on average). The documented timings say when a
job ends (5 s video: 5-6 min; 10 s video: 11-14 min), so the schedule is sparse early and dense
across that window (on a fixed grid, however long each answer takes), then backs off gently for
jobs that run long. ``time_scale`` divides every time, so the same schedule runs against an
emulator whose clock is sped up.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PollPolicy", "EXPECTED_SECONDS", "Progress"]

#: Documented end-to-end generation time (seconds) by video duration.
EXPECTED_SECONDS: dict[int, tuple[float, float]] = {5: (300.0, 360.0), 10: (660.0, 840.0)}


@dataclass(frozen=True)
class Progress:
    """An estimate for the progress bar: fraction in [0, 0.99] until the job really ends."""

    fraction: float
    eta: float  # seconds left, 0 when "any moment now"
    overdue: bool  # past the documented window


@dataclass(frozen=True)
class PollPolicy:
    """The poll schedule. Times are in real (unscaled) seconds of the real service."""

    first_check: float = 15.0  # one early look catches instant failures (bad image, moderation)
    sparse_interval: float = 75.0  # before the expected window
    lead: float = 5.0  # start polling densely this long before the window opens
    dense_interval: float = 2.0  # across the expected window
    backoff: float = 1.3  # growth factor after the window
    max_interval: float = 30.0
    time_scale: float = 1.0  # >1 for an emulator running faster than real time
    min_real_interval: float = 0.02  # floor after scaling, so a fast emulator is not hammered

    def window(self, duration: int) -> tuple[float, float]:
        """The documented window (unscaled seconds) in which a job of this duration ends."""
        return EXPECTED_SECONDS.get(duration, EXPECTED_SECONDS[5 if duration <= 5 else 10])

    def default_timeout(self, duration: int) -> float:
        """A generous deadline in scaled seconds: 15 min for 5 s videos, 30 min for 10 s."""
        return (900.0 if duration <= 5 else 1800.0) / self.time_scale

    def next_delay(self, elapsed: float, duration: int, retry_after: float | None = None) -> float:
        """Seconds (scaled) to wait before the next status read, ``elapsed`` scaled seconds in."""
        t = elapsed * self.time_scale
        start, end = self.window(duration)
        dense_from = start - self.lead
        if t < self.first_check:
            delay = self.first_check - t
        elif t < dense_from:
            delay = min(self.sparse_interval, max(dense_from - t, self.dense_interval))
        elif t < end:
            delay = self._to_next_tick(t - dense_from)
        else:
            overdue = t - end
            delay = min(self.max_interval, self.dense_interval * self.backoff ** (overdue / 30.0))
        scaled = max(delay / self.time_scale, self.min_real_interval)
        if retry_after is not None:
            scaled = max(scaled, retry_after)
        return scaled

    def _to_next_tick(self, since_dense: float) -> float:
        """Time to the next point of a fixed ``dense_interval`` grid, so a slow answer delays one
        poll but does not push every later poll back (with a 0.5 s answer, sleeping a full
        interval after it would make the period 2.5 s and the average wait a quarter longer).
        A tick closer than a tenth of the interval is skipped: two polls never come back to back."""
        delay = self.dense_interval - since_dense % self.dense_interval
        return delay + self.dense_interval if delay < self.dense_interval / 10 else delay

    def progress(self, elapsed: float, duration: int) -> Progress:
        """Where a job probably is, ``elapsed`` scaled seconds after submission.

        The ETA is the expected time left if the end falls evenly across the window: it counts
        down to the middle of the window before it opens, then halves the time to its end.
        """
        t = elapsed * self.time_scale
        start, end = self.window(duration)
        middle = (start + end) / 2
        left = middle - t if t <= start else (end - t) / 2
        if t <= middle:
            return Progress(min(0.95 * t / middle, 0.95), left / self.time_scale, False)
        if t <= end:
            fraction = 0.95 + 0.04 * (t - middle) / (end - middle)
            return Progress(fraction, left / self.time_scale, False)
        return Progress(0.99, 0.0, True)
