"""Which process wrote something, and whether that process is still running.

The journal records who is submitting an attempt, so that nobody is ever told "the process
stopped while submitting" (and so may pay again) while the process that sends the POST is alive,
only held back by the gateway's 429s. A process is named by host, pid and start time: a pid alone
is reused by the system.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache

__all__ = ["this_process", "is_running"]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), else ""."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return fields[19] if len(fields) > 19 else ""


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname()


def this_process() -> str:
    """``host/pid/start`` of the running process."""
    pid = os.getpid()
    return f"{_host()}/{pid}/{_start_time(pid)}"


def is_running(token: str | None) -> bool | None:
    """Whether the process ``token`` names is still running; None when it cannot be known (no
    token, or another host)."""
    if not token:
        return None
    host, _, rest = token.partition("/")
    pid_text, _, start = rest.partition("/")
    if host != _host() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return not start or _start_time(pid) == start
