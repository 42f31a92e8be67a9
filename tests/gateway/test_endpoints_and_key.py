"""Wire format and secrets: ids with ':' and '/' travel as an encoded generation_id query parameter
on both endpoint pairs; the POST body has the documented shape; the key comes from the argument or
the three environment variables and never shows up in a repr, an error, a log record or a request
to any host but the API's."""

from __future__ import annotations

import base64
import logging
from urllib.parse import unquote_plus

import httpx
import pytest
from fakes import (
    API,
    API_HOST,
    GEN_ID,
    IMAGE_URL,
    KEY,
    LEGACY,
    MP4_HEAD,
    UNIVERSAL,
    VIDEO_URL,
    error_response,
    gen_body,
    image_bytes,
)

from kling_notebook import (
    AsyncKlingClient,
    Generation,
    GenerationRequest,
    IgnoredFieldWarning,
    KlingClient,
    RetryPolicy,
    errors,
)
from kling_notebook.domain.request import MODEL_ID
from kling_notebook.gateway.settings import DEFAULT_BASE_URL, find_base_url

ENV_KEYS = ("AIMLAPI_KEY", "AIML_API_KEY", "AIMLAPI_API_KEY")
ENV_BASES = ("AIMLAPI_BASE_URL", "AIML_API_BASE")


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_KEYS + ENV_BASES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- endpoints and ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "path"), [("universal", UNIVERSAL), ("legacy", LEGACY)])
async def test_both_endpoint_pairs_post_and_get_on_their_path(gateway, fake_client, jpeg, endpoint, path):
    gateway.post(gen_body("queued")).get(gen_body("completed"))
    async with fake_client(endpoint=endpoint) as client:
        generation = await client.submit(image=jpeg)
        await client.wait(generation)
    post, get = gateway.posts[0], gateway.status_reads[0]
    assert post.url.path == path and get.url.path == path
    assert post.url.host == get.url.host == API_HOST
    assert get.url.params["generation_id"] == GEN_ID
    assert post.headers["content-type"] == "application/json"


@pytest.mark.parametrize("endpoint", ["universal", "legacy"])
@pytest.mark.parametrize(
    "generation_id",
    [GEN_ID, "id with spaces & ampersand=+#?/..", "ünïcode:kling/x"],
)
async def test_id_is_an_encoded_query_parameter(gateway, fake_client, endpoint, generation_id):
    gateway.get(gen_body("generating", id=generation_id))
    async with fake_client(endpoint=endpoint) as client:
        await client.get(generation_id)
    request = gateway.status_reads[0]
    raw_path = request.url.raw_path.decode("ascii")
    path, _, query = raw_path.partition("?")
    assert path == (UNIVERSAL if endpoint == "universal" else LEGACY)  # the id is not in the path
    assert query.startswith("generation_id=")
    value = query.removeprefix("generation_id=")
    for char in ":/ &#?=":
        assert char not in value
    assert unquote_plus(value) == generation_id  # a '+' in the id travels as %2B
    assert request.url.params["generation_id"] == generation_id


def test_unknown_endpoint_is_a_configuration_error():
    with pytest.raises(errors.ConfigurationError, match="universal, legacy"):
        AsyncKlingClient(api_key=KEY, endpoint="v3")  # type: ignore[arg-type]


async def test_post_body_has_the_documented_shape(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued"))
    async with fake_client() as client:
        await client.submit(image=jpeg, duration="10")
    body = gateway.post_json()
    assert body == {
        "model": MODEL_ID,
        "image_url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
        "duration": 10,
    }
    assert isinstance(body["duration"], int)


async def test_post_body_carries_optional_fields_only_when_set(gateway, fake_client, jpeg):
    gateway.post(gen_body("queued")).serve(IMAGE_URL, image_bytes(), "image/jpeg")
    with pytest.warns(IgnoredFieldWarning, match="cfg_scale"):
        request = GenerationRequest(
            image=IMAGE_URL, prompt="slow dolly in", negative_prompt="blur", cfg_scale=0.7, provider="FAL"
        )
    async with fake_client() as client:
        await client.submit(request)
    body = gateway.post_json()
    assert body == {
        "model": MODEL_ID,
        "image_url": IMAGE_URL,
        "duration": 5,
        "prompt": "slow dolly in",
        "negative_prompt": "blur",
        "cfg_scale": 0.7,
        "provider": "fal",
    }


# -- where the key comes from ---------------------------------------------------------------------


def test_key_from_argument_wins(clean_env):
    clean_env.setenv("AIMLAPI_KEY", "from-env")
    client = AsyncKlingClient(api_key="from-arg")
    assert client._GatewayClient__key == "from-arg"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ENV_KEYS)
def test_key_from_each_environment_variable(clean_env, name):
    clean_env.setenv(name, f"key-{name}")
    client = AsyncKlingClient()
    assert client._GatewayClient__key == f"key-{name}"  # type: ignore[attr-defined]


def test_environment_variables_precedence(clean_env):
    clean_env.setenv("AIMLAPI_API_KEY", "third")
    assert AsyncKlingClient()._GatewayClient__key == "third"  # type: ignore[attr-defined]
    clean_env.setenv("AIML_API_KEY", "second")
    assert AsyncKlingClient()._GatewayClient__key == "second"  # type: ignore[attr-defined]
    clean_env.setenv("AIMLAPI_KEY", "first")
    assert AsyncKlingClient()._GatewayClient__key == "first"  # type: ignore[attr-defined]
    clean_env.setenv("AIMLAPI_KEY", "   ")  # blank does not count
    assert AsyncKlingClient()._GatewayClient__key == "second"  # type: ignore[attr-defined]


def test_missing_key_names_all_three_variables(clean_env):
    with pytest.raises(errors.ConfigurationError) as caught:
        AsyncKlingClient()
    for name in ENV_KEYS:
        assert name in str(caught.value)
    assert "api_key=" in str(caught.value)
    with pytest.raises(errors.ConfigurationError):
        KlingClient()


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_key_argument_is_no_key(clean_env, blank):
    """An empty widget field passed as api_key falls back to the environment like None does..."""
    clean_env.setenv("AIML_API_KEY", "env-key")
    assert AsyncKlingClient(api_key=blank)._GatewayClient__key == "env-key"  # type: ignore[attr-defined]
    clean_env.delenv("AIML_API_KEY")
    with pytest.raises(errors.ConfigurationError) as caught:  # ...and is the usual error without one
        AsyncKlingClient(api_key=blank)
    assert all(name in str(caught.value) for name in ENV_KEYS)


async def test_key_is_sent_as_bearer_header(gateway, fake_client):
    gateway.get(gen_body("queued"))
    async with fake_client() as client:
        await client.get(GEN_ID)
    assert gateway.status_reads[0].headers["authorization"] == f"Bearer {KEY}"


async def test_env_key_is_what_is_sent(clean_env, gateway, clock, tmp_path):
    clean_env.setenv("AIML_API_KEY", "env-key-123")
    gateway.get(gen_body("queued"))
    async with AsyncKlingClient(base_url=API, transport=gateway.transport, clock=clock, out_dir=tmp_path) as client:
        await client.get(GEN_ID)
    assert gateway.status_reads[0].headers["authorization"] == "Bearer env-key-123"


# -- base URL ---------------------------------------------------------------------------------------


def test_base_url_default_argument_and_environment(clean_env):
    assert find_base_url() == DEFAULT_BASE_URL == "https://api.aimlapi.com"
    assert AsyncKlingClient(api_key=KEY).base_url == "https://api.aimlapi.com"
    clean_env.setenv("AIML_API_BASE", "https://second.example/v1")
    assert AsyncKlingClient(api_key=KEY).base_url == "https://second.example"
    clean_env.setenv("AIMLAPI_BASE_URL", "https://first.example/")
    assert AsyncKlingClient(api_key=KEY).base_url == "https://first.example"
    assert AsyncKlingClient(api_key=KEY, base_url="http://127.0.0.1:8123").base_url == "http://127.0.0.1:8123"
    with pytest.raises(errors.ConfigurationError, match="http"):
        AsyncKlingClient(api_key=KEY, base_url="api.aimlapi.com")


async def test_requests_go_to_the_configured_base_url(clean_env, gateway, clock, tmp_path):
    clean_env.setenv("AIMLAPI_BASE_URL", API)
    gateway.get(gen_body("queued"))
    async with AsyncKlingClient(api_key=KEY, transport=gateway.transport, clock=clock, out_dir=tmp_path) as client:
        await client.get(GEN_ID)
    assert str(gateway.status_reads[0].url).startswith(f"{API}{UNIVERSAL}?generation_id=")


# -- the key never leaks --------------------------------------------------------------------------


def test_key_is_in_no_repr():
    client = AsyncKlingClient(api_key=KEY, base_url=API)
    assert KEY not in repr(client) and KEY not in str(client)
    sync = KlingClient(api_key=KEY, base_url=API)
    assert KEY not in repr(sync) and KEY not in str(sync)
    assert KEY not in repr(KlingClient(client=client))


async def test_key_is_in_no_error_and_no_log_record(gateway, fake_client, clock, caplog, tmp_path):
    """A full generate with failures of every kind along the way, logging at DEBUG."""
    caplog.set_level(logging.DEBUG)
    video = MP4_HEAD + bytes(range(256)) * 40
    gateway.serve(VIDEO_URL, video).serve(IMAGE_URL, image_bytes(), "image/jpeg")
    gateway.faults[VIDEO_URL] = [("cut", 1000), 503]
    gateway.post(httpx.ConnectError, error_response(429), gen_body("queued"))
    gateway.get(
        httpx.ReadTimeout,
        503,
        error_response(429, **{"Retry-After": "2"}),
        httpx.Response(200, text="garbage"),
        gen_body("rendering"),
        gen_body("generating"),
        gen_body("completed"),
    )
    raised: list[BaseException] = []
    async with fake_client() as client:
        result = await client.generate(image=IMAGE_URL, prompt="a lighthouse", out_dir=tmp_path / "out")
        for failing in (401, 403, 404, 400, 502, httpx.ConnectError):
            gateway.get(failing)
            try:
                await client.get(GEN_ID)
            except errors.KlingError as exc:
                raised.append(exc)
        gateway.post(httpx.ReadTimeout)
        try:
            await client.submit(image=IMAGE_URL)
        except errors.SubmissionUncertainError as exc:
            raised.append(exc)
    assert result.path.exists()
    assert len(raised) == 7
    for exc in raised:
        assert KEY not in str(exc) and KEY not in repr(exc)
        assert KEY not in repr(vars(exc))
    assert caplog.records, "expected log records at DEBUG"
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)
    for written in tmp_path.rglob("*"):
        if written.is_file():
            assert KEY.encode() not in written.read_bytes(), written


async def test_key_only_goes_to_the_api_host(gateway, fake_client, tmp_path):
    """The image probe and the video download (other hosts) carry no Authorization header."""
    gateway.serve(IMAGE_URL, image_bytes(), "image/jpeg").serve(VIDEO_URL, MP4_HEAD + b"video-bytes" * 100)
    gateway.post(gen_body("queued")).get(gen_body("completed"))
    async with fake_client() as client:
        await client.generate(image=IMAGE_URL, out_dir=tmp_path)
    hosts = {r.url.host for r in gateway.requests}
    assert hosts == {API_HOST, "images.test", "cdn.test"}
    for request in gateway.requests:
        if request.url.host == API_HOST:
            assert request.headers["authorization"] == f"Bearer {KEY}"
        else:
            assert "authorization" not in request.headers, request.url
            assert KEY not in str(request.headers)


async def test_a_video_url_on_the_api_host_still_gets_no_key(gateway, fake_client, tmp_path):
    same_host_video = f"{API}/files/out.mp4"
    gateway.serve(same_host_video, MP4_HEAD + b"v" * 10)
    async with fake_client() as client:
        await client.download(Generation(id=GEN_ID, status="completed", video_url=same_host_video), tmp_path / "v.mp4")
    download = [r for r in gateway.requests if r.url.path == "/files/out.mp4"]
    assert download and "authorization" not in download[0].headers


async def test_redirects_from_the_api_are_not_followed_with_the_key(gateway, fake_client):
    gateway.get(httpx.Response(302, headers={"location": "https://evil.test/steal"}))
    async with fake_client(retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(errors.KlingError):
            await client.get(GEN_ID)
    assert all(r.url.host == API_HOST for r in gateway.requests)
