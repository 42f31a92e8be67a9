"""A redirect from the API (say an http:// base URL sent on to https://) is a wrong base URL, not a
created job nor a passing fault: a ConfigurationError naming the Location, at once, never followed
(the key would go along), and the journal records that nothing was created."""

from __future__ import annotations

import httpx
import pytest
from fakes import API_HOST

from kling_notebook import Budget, errors
from kling_notebook.store.journal import NOT_SUBMITTED

MOVED = "https://api.test/v2/video/generations"


def redirect(status: int = 301) -> httpx.Response:
    return httpx.Response(status, headers={"location": MOVED})


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirected_create_is_a_configuration_error_and_nothing_was_created(
    gateway, fake_client, jpeg, status
):
    gateway.post(redirect(status))
    budget = Budget(usd=10)
    async with fake_client(budget=budget) as client:
        with pytest.raises(errors.ConfigurationError) as caught:
            await client.submit(image=jpeg)
        (entry,) = client.journal.entries()
        uncertain = client.journal.uncertain_entries()
    text = str(caught.value)
    assert MOVED in text and "base URL" in text and "nothing was created" in text
    assert not isinstance(caught.value, errors.SubmissionUncertainError)
    assert entry.status == NOT_SUBMITTED and uncertain == []
    assert budget.spent_usd == 0 and budget.reserved_usd == 0
    assert len(gateway.posts) == 1
    assert all(r.url.host == API_HOST for r in gateway.requests)  # never followed


async def test_a_redirected_status_read_ends_the_wait_at_once(gateway, fake_client, clock):
    gateway.get(redirect(302))
    async with fake_client() as client:
        start = clock.now()
        with pytest.raises(errors.ConfigurationError, match="base URL"):
            await client.wait("some-id")
    assert clock.now() == start and len(gateway.status_reads) == 1


async def test_get_is_not_retried_on_a_redirect(gateway, fake_client):
    gateway.get(redirect(308))
    async with fake_client() as client:
        with pytest.raises(errors.ConfigurationError, match=MOVED):
            await client.get("some-id")
    assert len(gateway.status_reads) == 1


async def test_a_3xx_without_location_is_still_no_created_job(gateway, fake_client, jpeg):
    gateway.post(httpx.Response(300, text="multiple choices"))
    async with fake_client() as client:
        with pytest.raises(errors.ConfigurationError, match="no Location header"):
            await client.submit(image=jpeg)
        (entry,) = client.journal.entries()
    assert entry.status == NOT_SUBMITTED
