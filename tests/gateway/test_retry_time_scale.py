"""The backoff while waiting runs on the poll policy's time scale (a sped-up emulator run is not
held up by real-time pauses), while a server's Retry-After is obeyed as given: its own clock."""

from __future__ import annotations

import random

import pytest
from fakes import GEN_ID, error_response, gen_body

from kling_notebook import PollPolicy, RetryPolicy

SLOW_BACKOFF = RetryPolicy(base_delay=8.0, max_delay=30.0)


def test_time_scale_divides_the_backoff_but_not_retry_after():
    for attempt in range(1, 8):
        real = SLOW_BACKOFF.delay(attempt, rng=random.Random(attempt))
        fast = SLOW_BACKOFF.delay(attempt, rng=random.Random(attempt), time_scale=60)
        assert fast == pytest.approx(real / 60)
    assert SLOW_BACKOFF.delay(1, retry_after=3.0, time_scale=60) >= 3.0
    assert SLOW_BACKOFF.delay(1, retry_after=500.0, time_scale=60) == SLOW_BACKOFF.max_retry_after


async def test_a_sped_up_wait_backs_off_on_the_scaled_clock(gateway, fake_client, clock):
    gateway.get(gen_body("generating"), *([503] * 6), gen_body("completed"))
    brisk = PollPolicy(time_scale=60, first_check=1, sparse_interval=1, dense_interval=1, max_interval=1)
    async with fake_client(retry=SLOW_BACKOFF, poll=brisk) as client:
        assert (await client.wait(GEN_ID)).is_completed
    assert len(clock.sleeps) == 7
    assert max(clock.sleeps) <= SLOW_BACKOFF.max_delay / 60  # unscaled, backoffs reach 30 s


async def test_a_sped_up_wait_still_obeys_retry_after(gateway, fake_client, clock):
    limited = error_response(429, **{"Retry-After": "3"})
    gateway.get(gen_body("generating"), limited, gen_body("completed"))
    async with fake_client(retry=SLOW_BACKOFF, poll=PollPolicy(time_scale=60)) as client:
        await client.wait(GEN_ID)
    assert clock.sleeps[1] >= 3.0
