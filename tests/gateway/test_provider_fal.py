"""A local image goes as a data URI whatever the provider (fal included) unless bare base64 is
asked for; ``provider`` on the legacy endpoint, whose published schema has no such field, is sent
with an IgnoredFieldWarning."""

from __future__ import annotations

import warnings

import pytest
from fakes import gen_body
from owned import schema

from kling_notebook import GenerationRequest
from kling_notebook.domain.request import IgnoredFieldWarning


@pytest.mark.parametrize(
    ("options", "data_uri"),
    [
        ({"provider": "fal"}, True),
        ({"provider": "FAL"}, True),
        ({"provider": "fal", "image_encoding": "raw"}, False),  # the user's choice wins
        ({"provider": "kling"}, True),
        ({"provider": "auto"}, True),
        ({}, True),
        ({"image_encoding": "data_uri"}, True),
        ({"image_encoding": "raw"}, False),
    ],
)
def test_a_local_image_is_a_data_uri_unless_raw_is_asked_for(jpeg, options, data_uri):
    value = GenerationRequest(image=jpeg, **options).prepare().api_value
    assert value.startswith("data:image/jpeg;base64,") is data_uri


async def test_a_fal_submit_posts_a_data_uri(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued"))
    async with fake_client() as client:
        await client.submit(image=jpeg, provider="fal")
    sent = gateway.post_json()
    assert sent["provider"] == "fal" and sent["image_url"].startswith("data:image/jpeg;base64,")


def test_the_legacy_schema_really_has_no_provider_field():
    legacy = schema("legacy-kling-endpoint.openapi.json")
    body = legacy["paths"]["/v2/generate/video/kling/generation"]["post"]["requestBody"]
    assert "provider" not in body["content"]["application/json"]["schema"]["properties"]


async def test_provider_on_the_legacy_endpoint_warns_and_is_still_sent(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued"))
    async with fake_client(endpoint="legacy") as client:
        with pytest.warns(IgnoredFieldWarning, match="provider.*legacy"):
            await client.submit(image=jpeg, provider="kling")
    assert gateway.post_json()["provider"] == "kling"


@pytest.mark.parametrize(("endpoint", "options"), [("universal", {"provider": "fal"}), ("legacy", {})])
async def test_no_warning_where_the_schema_lists_every_field_sent(gateway, fake_client, jpeg, endpoint, options):
    gateway.post(gen_body("queued"))
    async with fake_client(endpoint=endpoint) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error", IgnoredFieldWarning)
            await client.submit(image=jpeg, **options)
