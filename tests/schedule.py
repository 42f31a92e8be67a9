"""How the pytest-xdist workers share the suite: longest first, one test at a time.

xdist's default hands each worker a quarter of its share in one consecutive block, so the long
tests the root conftest puts first all landed on one worker, which ran them one after the other
while the others finished early. Here each worker holds two tests and takes the next one as it
frees up (longest processing time first), except that the tests of a module in :data:`SHARED`
go to one worker together: they share a fixture too costly to build twice.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScheduling
from xdist.workermanage import WorkerController

#: Modules whose tests share one costly module-scoped fixture: a fresh venv, a Jupyter server.
SHARED = frozenset({
    "tests/binder/test_binder.py",
    "tests/browser/test_jupyterlab.py",
    "tests/browser/test_voila.py",
})


def module_of(nodeid: str) -> str:
    return nodeid.partition("::")[0]


class LongestFirst(LoadScheduling):
    """xdist's load scheduling with one test per hand-out, and a :data:`SHARED` module's tests
    handed out together (the root conftest keeps them next to one another)."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self.maxschedchunk = 1

    def _send_tests(self, node: WorkerController, num: int) -> None:
        assert self.collection is not None
        while num < len(self.pending):
            last, following = (module_of(self.collection[self.pending[index]]) for index in (num - 1, num))
            if last not in SHARED or following != last:
                break
            num += 1
        super()._send_tests(node, num)


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LongestFirst | None:
    """:class:`LongestFirst` for xdist's default distribution (``-n`` alone); the root conftest
    registers this module as a plugin when xdist is there."""
    return LongestFirst(config, log) if config.getvalue("dist") == "load" else None
