"""Every error kind: each HTTP status and transport failure maps to its typed error, all under
KlingError, with the gateway's message and requestId and a hint saying what to do."""

from __future__ import annotations

import httpx
import pytest
from fakes import GEN_ID, error_response

from kling_notebook import RetryPolicy, errors

ONE_TRY = RetryPolicy(max_attempts=1)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.InsufficientCreditsError),
        (404, errors.NotFoundError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (504, errors.GatewayTimeoutError),
    ],
)
async def test_http_status_maps_to_typed_error(gateway, fake_client, status, kind):
    gateway.get(error_response(status, message=f"gateway says {status}"))
    async with fake_client(retry=ONE_TRY) as client:
        with pytest.raises(kind) as caught:
            await client.get(GEN_ID)
    exc = caught.value
    assert type(exc) is kind
    assert isinstance(exc, errors.KlingError) and isinstance(exc, errors.APIStatusError)
    assert exc.status_code == status
    assert exc.request_id == f"req-{status}-abc"
    assert f"gateway says {status}" in str(exc)
    assert f"requestId req-{status}-abc" in str(exc)
    assert exc.hint and exc.hint in str(exc)


async def test_400_names_the_gateway_message_and_request_id(gateway, fake_client):
    gateway.get(error_response(400, message="Body validation error: Expected number, received string"))
    async with fake_client() as client:
        with pytest.raises(errors.BadRequestError) as caught:
            await client.get(GEN_ID)
    text = str(caught.value)
    assert "Body validation error" in text and "Expected number" in text
    assert "req-400-abc" in text
    assert "nothing was created" in text  # it names no field: none is guessed
    assert len(gateway.status_reads) == 1  # a 400 is never retried


async def test_400_with_a_list_of_messages_joins_them(gateway, fake_client):
    gateway.get(httpx.Response(400, json={"message": ["duration must be 5 or 10", "bad model"]}))
    async with fake_client() as client:
        with pytest.raises(errors.BadRequestError, match="duration must be 5 or 10; bad model"):
            await client.get(GEN_ID)


@pytest.mark.parametrize(
    ("status", "kind", "advice"),
    [
        (401, errors.AuthenticationError, "AIMLAPI_KEY"),
        (403, errors.InsufficientCreditsError, "top it up"),
        (404, errors.NotFoundError, "generation id"),
    ],
)
async def test_client_errors_are_never_retried_on_read(gateway, fake_client, clock, status, kind, advice):
    gateway.get(error_response(status))
    async with fake_client() as client:
        with pytest.raises(kind, match=advice):
            await client.get(GEN_ID)
    assert len(gateway.status_reads) == 1
    assert clock.sleeps == []


async def test_403_is_never_retried_anywhere(gateway, fake_client, jpeg):
    gateway.post(error_response(403, message="Insufficient credits")).get(error_response(403))
    async with fake_client() as client:
        with pytest.raises(errors.InsufficientCreditsError, match="never retried"):
            await client.submit(image=jpeg)
        with pytest.raises(errors.InsufficientCreditsError):
            await client.wait(GEN_ID)
    assert len(gateway.posts) == 1
    assert len(gateway.status_reads) == 1


async def test_error_body_that_is_not_json_still_gives_typed_error(gateway, fake_client):
    gateway.get(httpx.Response(502, text="<html>Bad Gateway</html>"))
    async with fake_client(retry=ONE_TRY) as client:
        with pytest.raises(errors.ServerError) as caught:
            await client.get(GEN_ID)
    assert caught.value.status_code == 502
    assert caught.value.request_id is None


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ConnectError, errors.APIConnectionError),
        (httpx.ReadError, errors.APIConnectionError),
        (httpx.RemoteProtocolError, errors.APIConnectionError),
        (httpx.ConnectTimeout, errors.APITimeoutError),
        (httpx.ReadTimeout, errors.APITimeoutError),
        (httpx.PoolTimeout, errors.APITimeoutError),
    ],
)
async def test_transport_errors_map_to_connection_errors(gateway, fake_client, failure, kind):
    gateway.get(failure)
    async with fake_client(retry=ONE_TRY) as client:
        with pytest.raises(kind) as caught:
            await client.get(GEN_ID)
    assert type(caught.value) is kind
    assert isinstance(caught.value, errors.KlingError)
    assert failure.__name__ in str(caught.value)
    assert caught.value.hint
    assert isinstance(caught.value.__cause__, failure)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"status": "queued"}),  # no id
        httpx.Response(200, json={"id": 123, "status": "queued"}),
    ],
)
async def test_malformed_json_is_invalid_response(gateway, fake_client, response):
    gateway.get(response)
    async with fake_client(retry=ONE_TRY) as client:
        with pytest.raises(errors.InvalidResponseError) as caught:
            await client.get(GEN_ID)
    assert isinstance(caught.value, errors.KlingError)
    assert "try again later" in str(caught.value)


def test_every_error_class_is_a_kling_error_with_a_hint():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.KlingError), name
    samples = [
        errors.ValidationError("prompt", "x" * 3000, "at most 2500 characters"),
        errors.GenerationFailedError(GEN_ID, "Err", "bad"),
        errors.MissingVideoError(GEN_ID),
        errors.WaitTimeoutError(GEN_ID, 900, "generating"),
        errors.SubmissionUncertainError("ReadTimeout after the request was sent"),
        errors.DownloadError(GEN_ID, "reset"),
        errors.BudgetExceededError(1.4, 0.5),
        errors.AuthenticationError("bad key", status_code=401),
        errors.APIConnectionError("down"),
        errors.APITimeoutError("slow"),
        errors.InvalidResponseError("garbage"),
    ]
    for exc in samples:
        assert exc.hint, type(exc).__name__
        assert str(exc).endswith(exc.hint)
        told = str(exc)[: -len(exc.hint)].rstrip()
        assert told[-1] in ".!?", (type(exc).__name__, told)  # the message ends before its hint


def test_a_message_ending_in_a_request_id_is_a_sentence_before_its_hint():
    exc = errors.NotFoundError("Generation 'nope' not found", status_code=404, request_id="r-1")
    assert str(exc) == f"HTTP 404: Generation 'nope' not found (requestId r-1). {exc.hint}"


def test_validation_error_shortens_huge_values():
    exc = errors.ValidationError("prompt", "x" * 100_000, "at most 2500 characters")
    assert len(str(exc)) < 300
    assert "(100000 characters)" in str(exc)  # the prompt's length, not its repr's
    assert exc.field == "prompt" and exc.limit == "at most 2500 characters"
    assert isinstance(exc, ValueError)


@pytest.mark.parametrize("provider", ["kling", "klingai"])
async def test_a_create_refused_for_the_native_provider_suggests_auto(gateway, fake_client, jpeg, provider):
    gateway.post(error_response(400, message="Model not available for this provider"))
    async with fake_client() as client:
        with pytest.raises(errors.BadRequestError) as caught:
            await client.submit(image=jpeg, provider=provider)
    assert f"provider={provider!r}" in str(caught.value) and "provider='auto'" in str(caught.value)
