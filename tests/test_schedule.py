"""The suite's xdist scheduler, driven as xdist's controller drives it, with recording workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schedule import SHARED, LongestFirst

ROOT = Path(__file__).resolve().parents[1]


class Config:
    """What the scheduler reads of pytest's config: two workers."""

    def getvalue(self, name: str) -> Any:
        return {"tx": ["2*popen"]}[name]

    def getoption(self, name: str) -> Any:
        return {"maxschedchunk": None}[name]


class Worker:
    """A worker as the scheduler sees it: it records the test indexes it is sent."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.extend(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def started(collection: list[str]) -> tuple[LongestFirst, list[Worker]]:
    scheduler = LongestFirst(Config())  # type: ignore[arg-type]
    workers = [Worker("gw0"), Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    return scheduler, workers


def test_each_worker_starts_with_two_tests_and_takes_one_as_it_finishes_one() -> None:
    collection = [f"tests/test_a.py::test_{n}" for n in range(40)]
    scheduler, (first, second) = started(collection)
    assert (first.sent, second.sent) == ([0, 1], [2, 3])
    scheduler.mark_test_complete(first, 0, duration=30.0)  # type: ignore[arg-type]
    assert first.sent == [0, 1, 4]


def test_a_shared_modules_tests_go_to_one_worker_together() -> None:
    shared = sorted(SHARED)[0]
    collection = [f"{shared}::test_{n}" for n in range(5)] + [f"tests/test_a.py::test_{n}" for n in range(20)]
    _scheduler, (first, second) = started(collection)
    assert first.sent == [0, 1, 2, 3, 4]  # the whole module
    assert second.sent == [5, 6]  # then one test at a time, two to start


def test_the_shared_modules_exist() -> None:
    assert all((ROOT / module).is_file() for module in SHARED)
