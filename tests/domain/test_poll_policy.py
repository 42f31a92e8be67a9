"""PollPolicy: sparse before the documented window, dense inside it, gentle backoff after; it
notices completion at least 4x sooner than the seed's fixed 10 s loop (median) without sending
more status requests per job; time_scale divides every delay; server hints raise the next delay;
progress() is a monotonic estimate that never claims completion."""

from __future__ import annotations

import asyncio
import math
import statistics

import pytest
from fakes import GEN_ID, gen_body

from kling_notebook import PollPolicy

WINDOWS = {5: (300.0, 360.0), 10: (660.0, 840.0)}


def simulate(policy: PollPolicy, end: float, duration: int) -> tuple[float, int]:
    """(detection delay, status requests) for a job ending ``end`` s after submit, polled the
    way wait() polls: once at once, then after each next_delay()."""
    t, requests = 0.0, 0
    while True:
        requests += 1
        if t >= end:
            return t - end, requests
        t += policy.next_delay(t, duration)


def fixed_loop(end: float, every: float = 10.0) -> tuple[float, int]:
    """The seed: sleep 10 s, ask, repeat."""
    requests = math.ceil(end / every)
    return requests * every - end, requests


def ends_across_window(duration: int, count: int = 240) -> list[float]:
    start, end = WINDOWS[duration]
    return [start + (end - start) * (i + 0.5) / count for i in range(count)]


@pytest.mark.parametrize("duration", [5, 10])
def test_policy_beats_the_fixed_10s_loop(duration):
    policy = PollPolicy()
    ours = [simulate(policy, end, duration) for end in ends_across_window(duration)]
    seed = [fixed_loop(end) for end in ends_across_window(duration)]
    our_delay = statistics.median(d for d, _ in ours)
    seed_delay = statistics.median(d for d, _ in seed)
    assert seed_delay == pytest.approx(5, abs=0.5)
    assert our_delay <= seed_delay / 4
    assert statistics.mean(n for _, n in ours) <= statistics.mean(n for _, n in seed)
    assert max(d for d, _ in ours) <= policy.dense_interval + 1e-9


@pytest.mark.parametrize("duration", [5, 10])
def test_the_same_holds_through_wait_with_a_fake_clock(gateway, fake_client, clock, duration):
    """wait() against a job that completes at several times across the window."""
    start_of_job = clock.now()
    end_after = {"t": 0.0}

    def status(request):
        done = clock.now() - start_of_job >= end_after["t"]
        return gen_body("completed" if done else "generating")

    gateway.get(status)
    delays, requests = [], []
    client = fake_client(journal=False)
    for end in ends_across_window(duration, count=24):
        start_of_job = clock.now()
        end_after["t"] = end
        before = len(gateway.status_reads)

        async def run():
            return await client.wait(GEN_ID, duration=duration)

        asyncio.run(run())
        delays.append(clock.now() - start_of_job - end)
        requests.append(len(gateway.status_reads) - before)
    seeds = [fixed_loop(end) for end in ends_across_window(duration, count=24)]
    assert statistics.median(delays) <= statistics.median(d for d, _ in seeds) / 4
    assert statistics.mean(requests) <= statistics.mean(n for _, n in seeds)


@pytest.mark.parametrize("duration", [5, 10])
def test_sparse_before_dense_inside_backoff_after(duration):
    policy = PollPolicy()
    start, end = WINDOWS[duration]
    assert policy.window(duration) == (start, end)
    assert policy.next_delay(0, duration) == policy.first_check
    early = [policy.next_delay(t, duration) for t in range(int(policy.first_check), int(start - 80))]
    assert min(early) >= 10 * policy.dense_interval
    assert max(early) <= policy.sparse_interval
    grid = start - policy.lead  # dense polls fall on a dense_interval grid from here
    for t in [start + k * 0.37 for k in range(int((end - start) / 0.37))]:
        lands = t + policy.next_delay(t, duration) - grid
        assert lands / policy.dense_interval == pytest.approx(round(lands / policy.dense_interval))
        assert policy.dense_interval / 10 <= policy.next_delay(t, duration) <= 1.1 * policy.dense_interval
    after = [policy.next_delay(end + k * 30, duration) for k in range(0, 40)]
    assert after == sorted(after)
    assert after[0] < after[5] and after[-1] == policy.max_interval


@pytest.mark.parametrize("answer_time", [0.0, 0.3, 0.9])
def test_slow_answers_do_not_stretch_the_dense_period(answer_time):
    """Each poll starts after the previous answer; the grid keeps the polls 2 s apart anyway."""
    policy = PollPolicy()
    start, end = WINDOWS[5]
    t, sent = start, []
    while t < end:
        sent.append(t)
        t += answer_time
        t += policy.next_delay(t, 5)
    gaps = [b - a for a, b in zip(sent[1:-1], sent[2:], strict=True)]  # from the first grid poll on
    assert gaps == pytest.approx([policy.dense_interval] * len(gaps))


def test_sparse_phase_lands_dense_polling_before_the_window():
    """The last sparse sleep never jumps over the start of the window."""
    policy = PollPolicy()
    for duration in (5, 10):
        start, _ = policy.window(duration)
        t = 0.0
        while t < start - policy.lead:
            t += policy.next_delay(t, duration)
        assert t <= start


@pytest.mark.parametrize("scale", [2.0, 60.0, 500.0])
def test_time_scale_divides_every_delay(scale):
    plain = PollPolicy(min_real_interval=0)
    fast = PollPolicy(time_scale=scale, min_real_interval=0)
    for duration in (5, 10):
        for t in [0, 7, 15, 100, 290, 301, 500, 700, 900, 2000]:
            assert fast.next_delay(t / scale, duration) == pytest.approx(plain.next_delay(t, duration) / scale)
        assert fast.default_timeout(duration) == pytest.approx(plain.default_timeout(duration) / scale)
        for t in [100, 350, 700, 2000]:
            slow, quick = plain.progress(t, duration), fast.progress(t / scale, duration)
            assert quick.fraction == pytest.approx(slow.fraction)
            assert quick.eta == pytest.approx(slow.eta / scale)
            assert quick.overdue == slow.overdue


def test_min_real_interval_floors_a_very_fast_schedule():
    policy = PollPolicy(time_scale=10_000, min_real_interval=0.02)
    assert policy.next_delay(320 / 10_000, 5) == 0.02


def test_retry_after_raises_the_next_delay_but_never_lowers_it():
    policy = PollPolicy()
    assert policy.next_delay(320, 5, retry_after=45) == 45
    assert policy.next_delay(20, 5, retry_after=1) == policy.next_delay(20, 5)


@pytest.mark.parametrize("duration", [5, 10])
def test_progress_is_monotonic_below_one_and_overdue_after_the_window(duration):
    policy = PollPolicy()
    _, end = WINDOWS[duration]
    samples = [policy.progress(t / 4, duration) for t in range(0, int(end * 4 * 2))]
    fractions = [p.fraction for p in samples]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0
    assert all(f < 1 for f in fractions)
    etas = [p.eta for p in samples]
    assert etas == sorted(etas, reverse=True)
    assert all(p.overdue == (i / 4 > end) for i, p in enumerate(samples))
    assert policy.progress(end + 1, duration).eta == 0


def test_default_timeout_is_generous_for_the_duration():
    policy = PollPolicy()
    assert policy.default_timeout(5) == 900
    assert policy.default_timeout(10) == 1800
    assert policy.default_timeout(10) > WINDOWS[10][1] * 2
