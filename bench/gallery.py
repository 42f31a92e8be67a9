"""Benchmark: the history gallery over a 200-entry journal (``python -m bench.gallery``).

The issue asks that 200 entries load "without the notebook slowing down". Measured here: building
the gallery (first page), the first page's thumbnails cold (decoded) and warm (cached), paging
through every page, and, for comparison, all 200 cards on one page. Real MP4s come from the
emulator (a few clips, copied to 200 files, so every thumbnail is a real decode).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ENTRIES = 200
CLIPS = 4


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


async def _clips(folder: Path) -> list[Path]:
    from kling_notebook import AsyncKlingClient, PollPolicy
    from kling_notebook.emulator import Emulator

    image = folder / "input.jpg"
    Image.new("RGB", (480, 640), (120, 160, 200)).save(image)
    with Emulator(time_scale=600, video_width=320) as emulator:
        client = AsyncKlingClient(
            emulator.api_key,
            emulator.base_url,
            out_dir=folder / "clips",
            poll=PollPolicy(time_scale=600),
        )
        async with client:
            results = await asyncio.gather(
                *(
                    client.generate(image=image, prompt=f"clip {i}", timeout=120)
                    for i in range(CLIPS)
                )
            )
    return [result.path for result in results]


def _journal(folder: Path, clips: list[Path]) -> Path:
    from kling_notebook.store.journal import Journal

    out_dir = folder / "outputs"
    with Journal.in_dir(out_dir) as journal:
        for number in range(ENTRIES):
            video = out_dir / f"video-{number:03d}.mp4"
            shutil.copyfile(clips[number % len(clips)], video)
            row = journal.begin(
                {
                    "prompt": f"entry {number} <b>escaped</b>",
                    "duration": 5,
                    "image_url": "input.jpg",
                },
                endpoint="universal",
                base_url="http://127.0.0.1:1",
            )
            journal.submitted(
                row, f"{number:08x}-bench:kling-video/v2.1/master/image-to-video", "completed"
            )
            journal.update(
                f"{number:08x}-bench:kling-video/v2.1/master/image-to-video",
                "completed",
                credits_used=2100,
            )
            journal.downloaded(
                f"{number:08x}-bench:kling-video/v2.1/master/image-to-video", str(video)
            )
    return out_dir


def main() -> int:
    from kling_notebook.frontends.panel._history import HistoryGallery

    with tempfile.TemporaryDirectory(prefix="kling-bench-gallery-") as name:
        folder = Path(name)
        out_dir = _journal(folder, asyncio.run(_clips(folder)))
        gallery: HistoryGallery | None = None

        def build() -> None:
            nonlocal gallery
            gallery = HistoryGallery(out_dir)

        rows = [("build the gallery (page 1 of 9, 24 cards)", _timed(build))]
        assert gallery is not None
        rows.append(("page 1 thumbnails, cold (24 decodes)", _timed(gallery.wait_thumbnails)))

        def page_one_again() -> None:
            assert gallery is not None
            gallery.show_page(0)
            gallery.wait_thumbnails()

        rows.append(("page 1 again, cards and cached thumbnails", _timed(page_one_again)))

        def every_page() -> None:
            assert gallery is not None
            for page in range(1, 9):
                gallery.show_page(page)
                gallery.wait_thumbnails()

        rows.append(("pages 2-9 with their thumbnails, cold", _timed(every_page)))
        unpaged: list[HistoryGallery] = []
        rows.append(
            (
                "all 200 cards on one page (no paging)",
                _timed(lambda: unpaged.append(HistoryGallery(out_dir, page_size=ENTRIES))),
            )
        )
        unpaged[0].wait_thumbnails()  # before the folder is removed
    width = max(len(label) for label, _ in rows)
    print(
        f"History gallery over {ENTRIES} journal entries ({sys.platform}, Python {sys.version.split()[0]})"
    )
    for label, seconds in rows:
        print(f"  {label:<{width}}  {seconds * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
