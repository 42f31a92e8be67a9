"""Front ends that are not a Jupyter server (Voila standalone, marimo), started like one: a free
port, the harness's clean environment (no key: demo mode), their own process group, ready when
a route answers, stopped with their kernels afterwards."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from .harness import server_env, stop_server


@contextmanager
def app_server(
    command: Sequence[str], ready: str, cwd: Path, home: Path, env: dict[str, str] | None = None
) -> Iterator[None]:
    """Run ``command`` in ``cwd`` until the ``ready`` URL answers (any HTTP status: a route that
    needs no kernel, so checking starts none); stop it on exit."""
    log_path = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(command), cwd=cwd, env=server_env(home, env), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(ready, timeout=2)
                    break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{command[2]} did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.3)
            yield
        finally:
            stop_server(process)
