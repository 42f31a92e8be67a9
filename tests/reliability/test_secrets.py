"""With a known key, nothing the project writes or shows contains it: logs at DEBUG (httpx and
httpcore included), reprs, the text of every error kind, CLI output, the journal (with its WAL),
sidecars and videos; and the key travels only in the Authorization header of API calls, never to
image hosts or the video CDN. (The saved notebook is in ``test_secrets_notebook.py``.)
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kling_notebook import (
    AsyncKlingClient,
    Budget,
    Generation,
    GenerationRequest,
    KlingClient,
    PollPolicy,
    RetryPolicy,
    errors,
)
from kling_notebook.frontends.cli import commands as cli
from kling_notebook.gateway import client as client_module
from kling_notebook.runtime.classroom import Classroom
from kling_notebook.runtime.jobs import Job
from kling_notebook.store.claims import claim
from kling_notebook.store.journal import Journal

from ._support import API_PATH, FAST_POLL, KEY, TIME_SCALE, Recorder

ONCE = RetryPolicy(max_attempts=1)


def files_under(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def assert_no_key(*texts: object) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else str(text).encode()
        assert KEY.encode() not in data, f"the key leaked into {str(text)[:300]!r}"


def error_texts(error: BaseException) -> list[str]:
    """Everything an error shows: message, repr, traceback with causes, attributes."""
    return [str(error), repr(error), "".join(traceback.format_exception(error)),
            repr(vars(error))]


async def test_key_only_in_the_authorization_header_of_api_calls(
    make_emulator: Any, make_client: Any, image_host: Any, tmp_path: Path
) -> None:
    url, image_requests = image_host
    emulator = make_emulator(faults="download#1:fail_once")
    recorder = Recorder()
    async with make_client(emulator, transport=recorder) as client:
        result = await client.generate(image=url, prompt="a cat")
        written_while_open = files_under(tmp_path / "outputs")  # the journal still open
    api = [r for r in recorder.requests if r.url.path == API_PATH]
    others = [r for r in recorder.requests if r.url.path != API_PATH]
    assert {r.method for r in api} == {"POST", "GET"}
    assert {r.url.path for r in others} >= {"/frame.jpg", urlsplit(result.generation.video_url or "").path}
    for request in api:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert_no_key(request.url, request.content,
                      [v for k, v in request.headers.items() if k != "authorization"])
    for request in others:
        assert "authorization" not in request.headers
        assert_no_key(request.url, request.content, request.headers)
    assert image_requests and all("Authorization" not in h for h in image_requests)
    assert_no_key(image_requests)
    assert {"journal.sqlite3", "attempts.jsonl"} <= {path.name for path in written_while_open}
    assert any(path.suffix == ".json" for path in written_while_open)  # the sidecar
    for path, data in {**written_while_open, **files_under(tmp_path / "outputs")}.items():
        assert_no_key(path, data)


async def test_debug_logs_over_a_faulty_generation(
    make_emulator: Any, make_client: Any, jpeg: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "kling_notebook", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    faults = ("post#1:429,get:503=0.2,get:malformed=0.2,get:reset_after=0.1,download#1:reset_once,"
              "job#2:error,retry_after=0")
    emulator = make_emulator(faults=faults)
    async with make_client(emulator) as client:
        await client.generate(image=jpeg, prompt="first")
        with pytest.raises(errors.GenerationFailedError):
            await client.generate(image=jpeg, prompt="second")
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in caplog.records]
    assert any(r.name.startswith("httpcore") and r.levelno == logging.DEBUG for r in caplog.records)
    assert any("status read failed" in line for line in lines)  # the faults were logged
    assert_no_key(*lines)


async def test_reprs(make_emulator: Any, make_client: Any, jpeg: bytes) -> None:
    emulator = make_emulator()
    client = make_client(emulator)
    request = GenerationRequest(image=jpeg, prompt="a cat")
    async with client:
        result = await client.generate(request)
    shown = [client, KlingClient(client=client), request, result, result.generation,
             Job(client.runner, request), client.journal]
    assert_no_key(*(repr(thing) for thing in shown), *(str(thing) for thing in shown))
    assert_no_key(result._repr_mimebundle_())


ErrorMaker = Callable[[Any, Any, bytes], Awaitable[Any]]


async def _with_faults(spec: str, call: str, make_emulator: Any, make_client: Any, jpeg: bytes,
                       **options: Any) -> Any:
    """Run ``client.<call>`` against an emulator with ``spec``; the error it raises is the point."""
    emulator = make_emulator(faults=spec)
    async with make_client(emulator, **options) as client:
        if call == "generate":
            return await client.generate(image=jpeg)
        generation = await client.submit(image=jpeg)
        return await getattr(client, call)(generation)


async def _wrong_key(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator(api_key="another-key"), api_key=KEY) as client:
        return await client.submit(image=jpeg)


async def _over_the_key_limit(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    emulator = make_emulator(api_key=KEY)
    async with Classroom(emulator.management_key, emulator.base_url) as teacher:
        (seat,) = (await teacher.create(1, 0.5, "day")).seats
    async with make_client(emulator, api_key=seat.key) as client:
        return await client.submit(image=jpeg)


async def _closed_port(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with AsyncKlingClient(KEY, "http://127.0.0.1:9", retry=ONCE, journal=False) as client:
        return await client.get("gen-1")


async def _unknown_id(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator()) as client:
        return await client.get("no-such-generation")


async def _empty_id(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator()) as client:
        return await client.get("")


async def _wait_too_short(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator(time_scale=1)) as client:
        return await client.wait(await client.submit(image=jpeg), timeout=0.05)


async def _bad_video_url(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    emulator = make_emulator()
    async with make_client(emulator, retry=ONCE) as client:
        gone = Generation(id="gen-1", status="completed", video_url=f"{emulator.base_url}/cdn/0/output.mp4")
        return await client.download(gone, "video.mp4")


async def _over_budget(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator(), budget=Budget(usd=0.5)) as client:
        return await client.submit(image=jpeg)


async def _key_as_base_url(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    return AsyncKlingClient("https://api.aimlapi.com", KEY)  # the arguments swapped


async def _bad_request(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator()) as client:
        return await client.submit(image=jpeg, duration=7)


async def _full_disk(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    """The journal cannot be written (as on a full disk): a StorageError before anything is sent."""
    async with make_client(make_emulator(), journal=Journal(Path.cwd() / "ro" / "journal.sqlite3", readonly=True)) as client:
        return await client.submit(image=jpeg)


async def _emptied_journal(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    (Path.cwd() / "journal.sqlite3").write_bytes(b"")
    return Journal.in_dir(Path.cwd())


async def _claimed_elsewhere(make_emulator: Any, make_client: Any, jpeg: bytes) -> Any:
    async with make_client(make_emulator()) as client:
        generation = await client.submit(image=jpeg)
        with claim(client.out_dir, generation.id):  # as another process's job holds it
            return await client.runner.resume(generation.id).wait()


def _faulty(spec: str, call: str, **options: Any) -> ErrorMaker:
    return functools.partial(_with_faults, spec, call, **options)


ERRORS: dict[type[errors.KlingError], ErrorMaker] = {
    errors.ValidationError: _bad_request,
    errors.ConfigurationError: _key_as_base_url,
    errors.BadRequestError: _empty_id,
    errors.AuthenticationError: _wrong_key,
    errors.InsufficientCreditsError: _faulty("credits_after=0", "generate"),
    errors.KeyLimitError: _over_the_key_limit,
    errors.NotFoundError: _unknown_id,
    errors.RateLimitError: _faulty("get:429=1,retry_after=0", "get", retry=ONCE),
    errors.ServerError: _faulty("get:500=1", "get", retry=ONCE),
    errors.GatewayTimeoutError: _faulty("get:504=1", "get", retry=ONCE),
    errors.APIConnectionError: _closed_port,
    errors.APITimeoutError: _faulty("get:slow=1,delay=1", "get", retry=ONCE, timeout=0.2),
    errors.InvalidResponseError: _faulty("get:malformed=1", "get", retry=ONCE),
    errors.GenerationFailedError: _faulty("job:error=1", "generate"),
    errors.MissingVideoError: _faulty("job:no_video=1", "generate"),
    errors.WaitTimeoutError: _wait_too_short,
    errors.SubmissionUncertainError: _faulty("post:reset_after=1", "generate"),
    errors.DownloadError: _bad_video_url,
    errors.BudgetExceededError: _over_budget,
    errors.StorageError: _full_disk,
    errors.JournalDamagedError: _emptied_journal,
    errors.BusyElsewhereError: _claimed_elsewhere,
}


def test_every_error_kind_is_covered() -> None:
    public = {getattr(errors, name) for name in errors.__all__} - {errors.KlingError,
                                                                   errors.APIStatusError}
    assert public <= set(ERRORS)


@pytest.mark.parametrize("kind", list(ERRORS), ids=lambda kind: kind.__name__)
async def test_error_texts(kind: type[errors.KlingError], make_emulator: Any, make_client: Any,
                           jpeg: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMLAPI_KEY", KEY)  # present in the environment, still never shown
    with pytest.raises(errors.KlingError) as caught:
        await ERRORS[kind](make_emulator, make_client, jpeg)
    assert type(caught.value) is kind
    assert_no_key(*error_texts(caught.value))


def test_cli_output(make_emulator: Any, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str], tmp_path: Path, jpeg: bytes) -> None:
    emulator = make_emulator()
    monkeypatch.setenv("AIMLAPI_KEY", KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", emulator.base_url)
    monkeypatch.setattr(client_module, "PollPolicy", functools.partial(PollPolicy, time_scale=TIME_SCALE))
    picture = tmp_path / "frame.jpg"
    picture.write_bytes(jpeg)
    out = ["--out", str(tmp_path / "cli")]
    assert cli.main(["generate", "--image", str(picture), "--prompt", "a cat", "--json", *out]) == 0
    generated = capsys.readouterr()
    generation_id = generated.out.split('"id": "')[1].split('"')[0]
    runs = [["status", generation_id, *out], ["wait", generation_id, *out], ["resume", *out],
            ["history", *out], ["status", "no-such-id", *out]]
    shown = [generated.out, generated.err]
    for argv in runs:
        code = cli.main(argv)
        printed = capsys.readouterr()
        shown += [printed.out, printed.err]
        failing = "no-such-id" in argv
        assert code == (10 if failing else 0), printed
        assert ("error:" in printed.err) is failing
    assert_no_key(*shown)
    for path, data in files_under(tmp_path / "cli").items():
        assert_no_key(path, data)


def test_sync_facade_in_a_script(make_emulator: Any, tmp_path: Path, jpeg: bytes) -> None:
    emulator = make_emulator()
    with KlingClient(KEY, emulator.base_url, out_dir=tmp_path / "sync", poll=FAST_POLL) as client:
        result = client.generate(image=jpeg)
        assert_no_key(repr(client), result, result.generation.raw)
    for path, data in files_under(tmp_path / "sync").items():
        assert_no_key(path, data)
