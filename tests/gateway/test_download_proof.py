"""A download is complete only when it provably is, over real sockets to a misbehaving host.

Each test has the host break one rule of HTTP or of MP4 and checks that nothing broken takes the
video's name: sizes are checked against the gateway's ``video.file_size`` and the host's
Content-Length or Content-Range total, the MP4's top-level boxes must tile the file, a body past
what was announced (or past any video's size) is refused before it is written, a resume names
the object its bytes came from (``If-Range``) and starts over when that changed, and a host that
sends too little for too long is left and asked again.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import misbehaving_server, write_head

from kling_notebook import AsyncKlingClient, Generation, RetryPolicy, errors
from kling_notebook.gateway.download import DownloadPolicy
from kling_notebook.store.journal import Journal
from kling_notebook.store.partials import Validator, read_validator, write_validator

GEN_ID = "5e0c1f3a-77aa-4b1e-9c2d-3f4a5b6c7d8e:kling-video/v2.1/master/image-to-video"
QUICK = RetryPolicy(base_delay=0.01, max_delay=0.02)
#: A short minimum-progress window, so a stalled host is left within a second.
BRISK = DownloadPolicy(window=0.5, min_rate=4096)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(media: int, tag: bytes = b"a") -> bytes:
    """A whole MP4: ftyp, moov, then an mdat of ``media`` bytes (``tag`` makes versions differ)."""
    return (
        box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41")
        + box(b"moov", tag * 600)
        + box(b"mdat", bytes(range(256)) * (media // 256) + tag * (media % 256))
    )


VIDEO = mp4(200_000)
OTHER = mp4(200_000, b"b")  # another version of the same size


@dataclass
class Host:
    """A video host: each GET is answered by the next step of ``script`` (the last one repeats),
    a step being ``respond(request, host)``; records every request's headers."""

    script: list[Callable[[BaseHTTPRequestHandler, Host], None]]
    asked: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        self.asked.append({name.lower(): value for name, value in request.headers.items()})
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        step(request, self)

    @property
    def ranges(self) -> list[tuple[str | None, str | None]]:
        return [(asked.get("range"), asked.get("if-range")) for asked in self.asked]


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def whole(body: bytes = VIDEO, *, length: bool = True, cut: int | None = None, extra: bytes = b"",
          headers: dict[str, str] | None = None) -> Callable[[BaseHTTPRequestHandler, Host], None]:
    """200 with ``body`` (its first ``cut`` bytes), ``extra`` bytes after it, Content-Length
    unless ``length`` is off, the connection closed after."""

    def respond(request: BaseHTTPRequestHandler, host: Host) -> None:
        sent = {"Content-Type": "video/mp4", "ETag": etag(body), **(headers or {})}
        if length:
            sent["Content-Length"] = str(len(body))
        write_head(request, 200, sent)
        request.wfile.write(body[:cut] + extra)

    return respond


def ranged(body: bytes = VIDEO, *, total: int | None = None, headers: dict[str, str] | None = None
           ) -> Callable[[BaseHTTPRequestHandler, Host], None]:
    """206 with the rest of ``body`` from the asked offset (whatever If-Range says), its
    Content-Range total given as ``total`` when set, and ``headers`` (its ETag by default)."""

    def respond(request: BaseHTTPRequestHandler, host: Host) -> None:
        start = int(request.headers["Range"].removeprefix("bytes=").split("-")[0])
        rest = body[start:]
        write_head(request, 206, {
            "Content-Type": "video/mp4", **(headers or {"ETag": etag(body)}),
            "Content-Length": str(len(rest)),
            "Content-Range": f"bytes {start}-{len(body) - 1}/{total or len(body)}",
        })
        request.wfile.write(rest)

    return respond


def honest(body: bytes = VIDEO) -> Callable[[BaseHTTPRequestHandler, Host], None]:
    """A proper host: If-Range honoured (a stale validator gets the whole file)."""

    def respond(request: BaseHTTPRequestHandler, host: Host) -> None:
        if request.headers.get("Range") and request.headers.get("If-Range") == etag(body):
            ranged(body)(request, host)
        else:
            whole(body)(request, host)

    return respond


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Host, str]]]:
    """``serve(*steps)``: a host playing ``steps``, and its video URL."""
    with ExitStack() as stack:

        def start(*steps: Callable[[BaseHTTPRequestHandler, Host], None]) -> tuple[Host, str]:
            host = Host(list(steps))
            base = stack.enter_context(misbehaving_server(host))
            return host, f"{base}/cdn/abc/output.mp4"

        yield start


def client(tmp_path: Path, **options: object) -> AsyncKlingClient:
    settings: dict[str, object] = {"out_dir": tmp_path / "out", "retry": QUICK, **options}
    return AsyncKlingClient("key-0123456789", "http://127.0.0.1:9", **settings)  # type: ignore[arg-type]


def done(url: str, size: int | None = len(VIDEO)) -> Generation:
    return Generation(id=GEN_ID, status="completed", video_url=url, file_size=size)


def saved(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "out").glob("*.mp4"))


# -- sizes ----------------------------------------------------------------------------------------


async def test_a_close_delimited_body_cut_short_is_resumed_not_saved(serve, tmp_path):
    """No Content-Length, half the file, a polite close: short of ``file_size``, so resumed."""
    host, url = serve(whole(length=False, cut=len(VIDEO) // 2), honest())
    async with client(tmp_path) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert host.ranges == [(None, None), (f"bytes={len(VIDEO) // 2}-", etag(VIDEO))]


async def test_a_content_length_below_file_size_is_not_saved(serve, tmp_path):
    """The host announces and sends 3/4 of the file: its framing is consistent, the gateway's
    size is not met, so it is asked again (nothing kept of a body of the wrong size)."""
    short = VIDEO[: len(VIDEO) * 3 // 4]
    host, url = serve(whole(short), honest())
    async with client(tmp_path) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert host.ranges == [(None, None), (None, None)]


async def test_without_any_size_the_mp4_itself_shows_it_is_cut(serve, tmp_path):
    """No file_size, no Content-Length, cut inside the mdat box: the boxes do not add up."""
    host, url = serve(whole(length=False, cut=len(VIDEO) - 1000), honest())
    async with client(tmp_path) as kling:
        path = await kling.download(done(url, size=None), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert host.ranges[1] == (f"bytes={len(VIDEO) - 1000}-", etag(VIDEO))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (VIDEO + b"\0" * 100, "not an MP4"),  # boxes stop short of the file's end
        (box(b"ftyp", b"isom\0\0\x02\0") + box(b"mdat", b"\0" * 5000), "no moov"),
        (box(b"moov", b"\0" * 100) + box(b"ftyp", b"isom") + box(b"mdat", b"\0" * 5000), "not an MP4"),
        (VIDEO[:-1000], "ends inside"),  # announced as it is sent: a whole answer, not a video
    ],
    ids=["trailing bytes", "no moov", "ftyp not first", "cut inside mdat"],
)
async def test_a_body_that_is_no_whole_mp4_is_never_saved(serve, tmp_path, body, reason):
    host, url = serve(whole(body))
    async with client(tmp_path) as kling:
        with pytest.raises(errors.DownloadError, match=reason) as caught:
            await kling.download(done(url, size=None), tmp_path / "out" / "v.mp4")
        entry = kling.journal.get(GEN_ID)
    assert caught.value.generation_id == GEN_ID
    assert saved(tmp_path) == [] and not list((tmp_path / "out").glob("*.part*"))
    assert entry is not None and entry.path is None and entry.needs_work  # resume fetches it again
    assert len(host.asked) == 1


async def test_a_close_delimited_body_longer_than_file_size_is_refused_as_it_comes(serve, tmp_path):
    """More bytes than the gateway said: refused once past it, never written beyond it."""
    host, url = serve(whole(length=False, extra=b"\0" * 300_000))
    sizes: list[int] = []
    async with client(tmp_path, retry=RetryPolicy(max_attempts=2, base_delay=0.01)) as kling:
        with pytest.raises(errors.DownloadError, match="more than the"):
            await kling.download(done(url), tmp_path / "out" / "v.mp4", on_progress=lambda d, t: sizes.append(d))
    assert saved(tmp_path) == []
    assert max(sizes) <= len(VIDEO)
    assert len(host.asked) == 2


async def test_an_absurd_content_length_is_refused_before_a_byte_is_written(serve, tmp_path):
    host, url = serve(whole(headers={"Content-Length": str(50 << 30)}, length=False))
    async with client(tmp_path) as kling:
        with pytest.raises(errors.DownloadError, match="more than any video"):
            await kling.download(done(url, size=None), tmp_path / "out" / "v.mp4")
    assert len(host.asked) == 1 and saved(tmp_path) == []
    assert not list((tmp_path / "out").glob("*.part*"))


async def test_a_body_past_the_cap_is_refused_as_it_comes(serve, tmp_path):
    """No size anywhere, a body that never ends: refused at the policy's cap, not at a full disk."""
    endless = whole(VIDEO, length=False, extra=b"\0" * 400_000)
    host, url = serve(endless)
    capped = DownloadPolicy(max_bytes=300_000)
    async with client(tmp_path, download_policy=capped, retry=RetryPolicy(max_attempts=1)) as kling:
        with pytest.raises(errors.DownloadError, match=r"more than any video \(300000 bytes\)"):
            await kling.download(done(url, size=None), tmp_path / "out" / "v.mp4")
    assert saved(tmp_path) == []


# -- resuming never splices two files ---------------------------------------------------------------


async def test_a_resume_names_the_kept_bytes_object_with_if_range(serve, tmp_path):
    host, url = serve(whole(cut=len(VIDEO) // 3), honest())
    async with client(tmp_path) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert host.ranges == [(None, None), (f"bytes={len(VIDEO) // 3}-", etag(VIDEO))]


async def test_last_modified_names_the_object_when_there_is_no_strong_etag(serve, tmp_path):
    date = "Mon, 23 Nov 2026 19:30:00 GMT"
    weak = {"ETag": 'W/"weak"', "Last-Modified": date}
    host, url = serve(whole(cut=1000, headers=weak), ranged(headers=weak))
    async with client(tmp_path) as kling:
        await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert host.ranges[1] == ("bytes=1000-", date)


async def test_a_changed_object_restarts_from_byte_zero(serve, tmp_path):
    """The host replaced the video mid-download and honours If-Range: the whole new object."""
    host, url = serve(whole(cut=len(VIDEO) // 2), honest(OTHER))
    async with client(tmp_path) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == OTHER  # one file, not half of each
    assert host.ranges[1] == (f"bytes={len(VIDEO) // 2}-", etag(VIDEO))


@pytest.mark.parametrize("what", ["etag", "total"])
async def test_a_range_of_another_object_is_never_spliced(serve, tmp_path, what):
    """A host that ignores If-Range sends the rest of another object (another ETag, or another
    total in Content-Range): the kept bytes are dropped and the download starts over."""
    bigger = mp4(210_000, b"c")
    other = ranged(OTHER) if what == "etag" else ranged(VIDEO, total=len(bigger))
    host, url = serve(whole(cut=len(VIDEO) // 2), other, whole(VIDEO))
    async with client(tmp_path) as kling:
        path = await kling.download(done(url, size=None), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert host.ranges[2] == (None, None)


async def test_bytes_whose_object_is_not_known_are_not_continued(serve, tmp_path):
    """A host without ETag or Last-Modified: a Range could splice, so a fault restarts it."""
    bare = whole(cut=len(VIDEO) // 2, headers={"ETag": ""})
    host, url = serve(bare, whole(headers={"ETag": ""}))
    async with client(tmp_path) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO
    assert host.ranges == [(None, None), (None, None)]


async def test_a_broken_download_stays_resumable_across_processes(serve, tmp_path):
    """Given up for good: the journal keeps the id and the partial, and the partial's origin is
    on disk, so the next process (resume, ``wait ID``) continues it with If-Range."""
    host, url = serve(whole(length=False, cut=len(VIDEO) // 2), honest())
    target = tmp_path / "out" / "v.mp4"
    async with client(tmp_path, retry=RetryPolicy(max_attempts=1)) as kling:
        with pytest.raises(errors.DownloadError, match=f"got {len(VIDEO) // 2} of {len(VIDEO)}"):
            await kling.download(done(url), target)
    with Journal.in_dir(tmp_path / "out") as journal:
        entry = journal.get(GEN_ID)
    assert entry is not None and entry.needs_work and entry.partial is not None
    assert read_validator(Path(entry.partial)) is not None and saved(tmp_path) == []

    async with client(tmp_path) as again:  # a new process
        path = await again.download(done(url), target)
    assert path.read_bytes() == VIDEO
    assert host.ranges[-1] == (f"bytes={len(VIDEO) // 2}-", etag(VIDEO))


# -- a host that sends too little, too slowly --------------------------------------------------------


def stalling(after: int) -> Callable[[BaseHTTPRequestHandler, Host], None]:
    """The head and ``after`` bytes, then silence (until the client leaves)."""

    def respond(request: BaseHTTPRequestHandler, host: Host) -> None:
        write_head(request, 200, {"Content-Length": str(len(VIDEO)), "ETag": etag(VIDEO)})
        request.wfile.write(VIDEO[:after])
        request.wfile.flush()
        time.sleep(5)

    return respond


def trickling(pause: float) -> Callable[[BaseHTTPRequestHandler, Host], None]:
    """The head, then one byte every ``pause`` seconds."""

    def respond(request: BaseHTTPRequestHandler, host: Host) -> None:
        write_head(request, 200, {"Content-Length": str(len(VIDEO)), "ETag": etag(VIDEO)})
        for index in range(len(VIDEO)):
            request.wfile.write(VIDEO[index : index + 1])
            request.wfile.flush()
            time.sleep(pause)

    return respond


@pytest.mark.parametrize("misbehaviour", [stalling(5000), trickling(0.01)], ids=["stall", "trickle"])
async def test_a_host_that_sends_too_little_is_left_within_the_window(serve, tmp_path, misbehaviour):
    host, url = serve(misbehaviour, honest())
    started = time.monotonic()
    async with client(tmp_path, download_policy=BRISK) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert time.monotonic() - started < 3  # the read timeout is 60 s; the window is 0.5 s
    assert path.read_bytes() == VIDEO
    assert host.ranges[1][0] is not None  # the bytes that did come are kept


async def test_a_stall_on_every_try_ends_in_bounded_time(serve, tmp_path):
    host, url = serve(stalling(0))
    started = time.monotonic()
    async with client(tmp_path, download_policy=BRISK, retry=RetryPolicy(max_attempts=3, base_delay=0.01)) as kling:
        with pytest.raises(errors.DownloadError, match="sent nothing for 0.5 s"):
            await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert time.monotonic() - started < 3 * BRISK.window + 2
    assert len(host.asked) == 3


async def test_progress_is_throttled_and_ends_at_the_final_count(serve, tmp_path):
    """A body in 2000 small pieces over about a second: a handful of reports, the last the total."""

    def pieces(request: BaseHTTPRequestHandler, host: Host) -> None:
        write_head(request, 200, {"Content-Length": str(len(VIDEO)), "ETag": etag(VIDEO)})
        step = len(VIDEO) // 2000 + 1
        for start in range(0, len(VIDEO), step):
            request.wfile.write(VIDEO[start : start + step])
            request.wfile.flush()
            time.sleep(0.0005)

    host, url = serve(pieces)
    reports: list[tuple[int, int | None]] = []
    started = time.monotonic()
    async with client(tmp_path) as kling:
        await kling.download(done(url), tmp_path / "out" / "v.mp4", on_progress=lambda d, t: reports.append((d, t)))
    elapsed = time.monotonic() - started
    assert reports[-1] == (len(VIDEO), len(VIDEO))
    assert len(reports) <= elapsed / DownloadPolicy().progress_interval + 2, (len(reports), elapsed)
    assert [d for d, _ in reports] == sorted(d for d, _ in reports)


def kept(tmp_path: Path, body: bytes, upto: int) -> Path:
    """A partial of ``body``'s first ``upto`` bytes with its origin recorded, named by the journal
    as a stopped process leaves it."""
    partial = tmp_path / "out" / "v.mp4.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(body[:upto])
    write_validator(partial, Validator(etag=etag(body), total=len(body)))
    with Journal.in_dir(tmp_path / "out") as journal:
        journal.adopt(GEN_ID, "completed", endpoint="universal", base_url="http://127.0.0.1:9")
        journal.record_partial(GEN_ID, partial)
    return partial


async def test_a_partial_already_whole_is_saved_without_asking_again(serve, tmp_path):
    """The process stopped between the last byte and the rename: nothing left to fetch."""
    host, url = serve(honest())
    kept(tmp_path, VIDEO, len(VIDEO))
    async with client(tmp_path) as kling:
        path = await kling.download(done(url), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == VIDEO and host.asked == []


async def test_the_rest_of_a_changed_object_is_fetched_by_the_next_process(serve, tmp_path):
    """A download that had started over on a new version of the video (its size no longer the
    gateway's) stopped half-way: the next process continues that version, it is not refused."""
    newer = mp4(210_000, b"c")
    host, url = serve(honest(newer))
    kept(tmp_path, newer, len(newer) // 2)
    async with client(tmp_path) as kling:
        path = await kling.download(done(url, size=len(VIDEO)), tmp_path / "out" / "v.mp4")
    assert path.read_bytes() == newer
    assert host.ranges == [(f"bytes={len(newer) // 2}-", etag(newer))]
