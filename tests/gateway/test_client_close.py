"""Closing a client closes the journal it opened itself (no sqlite connection left behind in a
long-lived kernel), keeps one the caller passed in open, and reopens its own when used again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from emulated import client_for

from kling_notebook import KlingClient
from kling_notebook.emulator import Emulator
from kling_notebook.store.journal import Journal

FDS = Path("/proc/self/fd")
pytestmark = pytest.mark.skipif(not FDS.is_dir(), reason="lists open files through /proc")


def open_in(folder: Path) -> set[str]:
    """The files under ``folder`` this process holds open (the journal and its WAL files)."""
    held = set()
    for fd in FDS.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing
            continue
        if target.startswith(f"{folder}{os.sep}"):
            held.add(Path(target).name)
    return held


async def test_aclose_closes_the_journal_it_opened(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    client = client_for(emulator, out_dir)
    async with client:
        await client.submit(image=image, prompt="first")
        assert "journal.sqlite3" in open_in(out_dir)
    assert open_in(out_dir) == set()

    async with client:  # used again: the journal opens again
        generation = await client.submit(image=image, prompt="second")
        assert client.journal is not None and client.journal.get(generation.id) is not None
    assert open_in(out_dir) == set()


async def test_a_journal_passed_in_stays_open(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    with Journal.in_dir(out_dir) as journal:
        async with client_for(emulator, out_dir, journal=journal) as client:
            generation = await client.submit(image=image, prompt="the caller's journal")
        assert [entry.generation_id for entry in journal.unfinished()] == [generation.id]
        assert "journal.sqlite3" in open_in(out_dir)
    assert open_in(out_dir) == set()


def test_the_blocking_client_closes_its_journal(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    with KlingClient(client=client_for(emulator, out_dir)) as client:
        client.submit(image=image, prompt="sync")
        assert "journal.sqlite3" in open_in(out_dir)
    assert open_in(out_dir) == set()
