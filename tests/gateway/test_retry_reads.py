"""Retry rules for status reads: 408/429/5xx, transport errors and bad JSON are retried with
exponential backoff and jitter, bounded by RetryPolicy; Retry-After (seconds or HTTP date) is
honoured but capped; and no transient error ends a wait() before its deadline."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import httpx
import pytest
from fakes import GEN_ID, error_response, gen_body

from kling_notebook import RetryPolicy, errors
from kling_notebook.domain.retry import RETRYABLE_STATUS, parse_retry_after


@pytest.mark.parametrize(
    "fault",
    [408, 429, 500, 502, 503, 504, httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError],
)
async def test_get_retries_transient_faults_then_succeeds(gateway, fake_client, clock, fault):
    gateway.get(fault, fault, gen_body("generating"))
    async with fake_client() as client:
        found = await client.get(GEN_ID)
    assert found.status == "generating"
    assert len(gateway.status_reads) == 3
    assert len(clock.sleeps) == 2


async def test_get_retries_malformed_json(gateway, fake_client):
    gateway.get(httpx.Response(200, text="{oops"), gen_body("queued"))
    async with fake_client() as client:
        assert (await client.get(GEN_ID)).status == "queued"
    assert len(gateway.status_reads) == 2


@pytest.mark.parametrize("attempts", [1, 3, 6])
async def test_get_retries_are_bounded_by_max_attempts(gateway, fake_client, clock, attempts):
    gateway.get(503)
    async with fake_client(retry=RetryPolicy(max_attempts=attempts)) as client:
        with pytest.raises(errors.ServerError):
            await client.get(GEN_ID)
    assert len(gateway.status_reads) == attempts
    assert len(clock.sleeps) == attempts - 1


async def test_backoff_is_exponential_with_jitter_and_capped(gateway, fake_client, clock):
    policy = RetryPolicy(max_attempts=9, base_delay=0.5, max_delay=8.0)
    gateway.get(503)
    async with fake_client(retry=policy) as client:
        with pytest.raises(errors.ServerError):
            await client.get(GEN_ID)
    assert len(clock.sleeps) == 8
    for attempt, slept in enumerate(clock.sleeps, start=1):
        assert 0 <= slept <= min(8.0, 0.5 * 2 ** (attempt - 1))


def test_backoff_ceiling_doubles_and_jitter_spreads_delays():
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    rng = random.Random(7)
    for attempt in range(1, 8):
        samples = [policy.delay(attempt, rng=rng) for _ in range(400)]
        ceiling = min(30.0, 2.0 ** (attempt - 1))
        assert max(samples) <= ceiling
        assert max(samples) > 0.9 * ceiling  # grows with the attempt...
        assert min(samples) < 0.1 * ceiling  # ...and is jittered across [0, ceiling]
        assert len(set(samples)) > 300


async def test_retry_after_seconds_is_honoured(gateway, fake_client, clock):
    gateway.get(error_response(429, **{"Retry-After": "17"}), gen_body("queued"))
    async with fake_client() as client:
        await client.get(GEN_ID)
    assert clock.sleeps == [17.0]


async def test_retry_after_http_date_is_honoured(gateway, fake_client, clock):
    when = formatdate(time.time() + 20, usegmt=True)
    gateway.get(error_response(503, **{"Retry-After": when}), gen_body("queued"))
    async with fake_client() as client:
        await client.get(GEN_ID)
    assert len(clock.sleeps) == 1
    assert 17 <= clock.sleeps[0] <= 20


async def test_absurd_retry_after_is_capped(gateway, fake_client, clock):
    gateway.get(error_response(429, **{"Retry-After": "86400"}), gen_body("queued"))
    async with fake_client(retry=RetryPolicy(max_retry_after=60)) as client:
        await client.get(GEN_ID)
    assert clock.sleeps == [60.0]


def test_parse_retry_after_forms():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert {408, 429, 500, 502, 503, 504} <= RETRYABLE_STATUS
    assert not {400, 401, 403, 404} & RETRYABLE_STATUS


async def test_twenty_consecutive_503s_never_end_the_wait(gateway, fake_client):
    gateway.get(*([503] * 20), gen_body("completed"))
    async with fake_client(retry=RetryPolicy(max_attempts=2)) as client:
        done = await client.wait(GEN_ID)
    assert done.is_completed
    assert len(gateway.status_reads) == 21


async def test_mixed_transient_faults_during_wait_are_ridden_out(gateway, fake_client):
    gateway.get(
        gen_body("queued"),
        httpx.ConnectError,
        httpx.ReadTimeout,
        error_response(429, **{"Retry-After": "3"}),
        httpx.Response(200, text="not json"),
        502,
        gen_body("generating"),
        gen_body("completed"),
    )
    async with fake_client(retry=RetryPolicy(max_attempts=1)) as client:
        assert (await client.wait(GEN_ID)).is_completed
    assert len(gateway.status_reads) == 8


async def test_transient_errors_until_deadline_end_in_wait_timeout(gateway, fake_client, clock):
    gateway.get(gen_body("generating"), 503)
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.WaitTimeoutError) as caught:
            await client.wait(GEN_ID, timeout=300)
    assert clock.now() - start >= 300
    assert caught.value.last_status == "generating"


async def test_wait_honours_retry_after_of_a_429(gateway, fake_client, clock):
    gateway.get(gen_body("generating"), error_response(429, **{"Retry-After": "40"}), gen_body("completed"))
    async with fake_client() as client:
        await client.wait(GEN_ID, timeout=5000)
    assert clock.sleeps[1] >= 40


async def test_non_transient_error_ends_the_wait_at_once(gateway, fake_client):
    gateway.get(gen_body("generating"), 401)
    async with fake_client() as client:
        with pytest.raises(errors.AuthenticationError):
            await client.wait(GEN_ID)
    assert len(gateway.status_reads) == 2
