"""The create POST is paid, so it is never sent twice when it may have arrived: read timeouts,
5xx, resets after sending and garbled 200s raise SubmissionUncertainError (journal: "uncertain").
It is retried only after a connect error or a 429, and a 4xx is journaled as not submitted.
Every test counts the POSTs the gateway saw."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest
from fakes import GEN_ID, MP4_HEAD, VIDEO_URL, error_response, gen_body

from kling_notebook import GenerationRequest, RetryPolicy, errors
from kling_notebook.store.journal import NOT_SUBMITTED, UNCERTAIN


def only_entry(client):
    entries = client.journal.entries()
    assert len(entries) == 1
    return entries[0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.RemoteProtocolError,
        httpx.ReadError,
        httpx.WriteError,
        500,
        502,
        503,
        504,
        408,
        httpx.Response(200, text="<html>oops</html>"),
        httpx.Response(200, json={"status": "queued"}),
    ],
    ids=lambda f: getattr(f, "__name__", None) or str(getattr(f, "status_code", f)),
)
async def test_no_second_post_when_it_may_have_arrived(gateway, fake_client, clock, jpeg, failure):
    gateway.post(failure, gen_body("queued"))
    request = GenerationRequest(image=jpeg, prompt="a cat turns its head")
    async with fake_client() as client:
        with pytest.raises(errors.SubmissionUncertainError) as caught:
            await client.submit(request)
        entry = only_entry(client)
    assert len(gateway.posts) == 1
    assert caught.value.request is request
    assert "pay twice" in str(caught.value)
    assert clock.sleeps == []
    assert entry.status == UNCERTAIN
    assert entry.generation_id is None
    assert entry.request["prompt"] == "a cat turns its head"


async def test_connect_error_is_retried_because_nothing_was_sent(gateway, fake_client, jpeg):
    gateway.post(httpx.ConnectError, httpx.ConnectTimeout, gen_body("queued"))
    async with fake_client() as client:
        generation = await client.submit(image=jpeg)
        entry = only_entry(client)
    assert generation.id == GEN_ID
    assert len(gateway.posts) == 3
    assert entry.status == "queued" and entry.generation_id == GEN_ID


async def test_connect_errors_exhausting_retries_are_not_submitted(gateway, fake_client, jpeg):
    gateway.post(httpx.ConnectError)
    async with fake_client(retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(errors.APIConnectionError) as caught:
            await client.submit(image=jpeg)
        entry = only_entry(client)
    assert "never reached the gateway. Nothing was created or charged." in str(caught.value)
    assert len(gateway.posts) == 3
    assert entry.status == NOT_SUBMITTED


async def test_429_is_retried_honouring_retry_after(gateway, fake_client, clock, jpeg):
    gateway.post(error_response(429, **{"Retry-After": "12"}), gen_body("queued"))
    async with fake_client() as client:
        generation = await client.submit(image=jpeg)
    assert generation.id == GEN_ID
    assert len(gateway.posts) == 2
    assert clock.sleeps == [12.0]
    assert gateway.post_json(0) == gateway.post_json(1)


async def test_429_forever_gives_rate_limit_error_not_submitted(gateway, fake_client, jpeg):
    gateway.post(429)
    async with fake_client(retry=RetryPolicy(max_attempts=4)) as client:
        with pytest.raises(errors.RateLimitError) as caught:
            await client.submit(image=jpeg)
        entry = only_entry(client)
    assert str(caught.value).endswith("Nothing was created or charged.")
    assert len(gateway.posts) == 4
    assert entry.status == NOT_SUBMITTED


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.InsufficientCreditsError),
        (404, errors.NotFoundError),
        (422, errors.BadRequestError),
    ],
)
async def test_4xx_is_not_retried_and_journaled_as_not_submitted(gateway, fake_client, jpeg, status, kind):
    gateway.post(status, gen_body("queued"))
    async with fake_client() as client:
        with pytest.raises(kind):
            await client.submit(image=jpeg)
        entry = only_entry(client)
    assert len(gateway.posts) == 1
    assert entry.status == NOT_SUBMITTED
    assert entry.generation_id is None


async def test_successful_submit_is_journaled_before_it_returns(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued"))
    async with fake_client() as client:
        generation = await client.submit(image=jpeg, prompt="waves", duration="10")
        entry = only_entry(client)
    assert generation.id == GEN_ID and generation.status == "queued"
    assert entry.generation_id == GEN_ID
    assert entry.request["duration"] == 10
    assert entry.request["prompt"] == "waves"
    assert entry.request["image_url"] == f"<{len(jpeg)} bytes>"
    assert base64.b64encode(jpeg).decode()[:40] not in str(entry.request)
    assert len(gateway.posts) == 1


async def test_cancel_during_the_post_is_uncertain(gateway, fake_client, jpeg):
    started = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(10)
        return httpx.Response(200, json=gen_body("queued"))

    client = fake_client(transport=httpx.MockTransport(slow))
    task = asyncio.create_task(client.submit(image=jpeg))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert only_entry(client).status == UNCERTAIN
    await client.aclose()


async def test_submit_accepts_request_and_keyword_changes(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued"))
    async with fake_client() as client:
        await client.submit(GenerationRequest(image=jpeg, prompt="one"), prompt="two")
    assert gateway.post_json()["prompt"] == "two"


async def test_submit_with_unknown_keyword_names_it_and_sends_nothing(fake_client, no_network, jpeg):
    async with fake_client(transport=no_network) as client:
        with pytest.raises(errors.ValidationError) as caught:
            await client.submit(image=jpeg, promt="typo")
    assert caught.value.field == "promt"


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
async def test_a_prompt_that_starts_with_bearer_is_not_mistaken_for_a_credential(
    gateway, fake_client, tmp_path, jpeg, field
):
    text = "Bearer of the ring walks into the mist"
    gateway.post(gen_body("queued")).get(gen_body("completed")).serve(VIDEO_URL, MP4_HEAD + b"v" * 100)
    async with fake_client() as client:
        result = await client.generate(image=jpeg, out_dir=tmp_path, **{field: text})
        entry = only_entry(client)
    assert gateway.post_json()[field] == text
    assert entry.request[field] == text
    assert result.sidecar is not None and text in result.sidecar.read_text()
