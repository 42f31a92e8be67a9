"""The API key from Colab's secrets (the key icon in Colab's sidebar), when no variable holds one.

Colab keeps secrets out of the notebook; ``google.colab.userdata.get(NAME)`` returns one after the
user grants this notebook access. It is not thread-safe and may wait on that prompt, so it is
asked once per process, behind a lock, under the same names as the environment variables. A
missing secret, denied access or any other failure of Colab's call means "no key" (demo mode
stays available), never an error. Outside Colab (``google.colab`` not loaded) nothing is asked.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Sequence

__all__ = ["colab_secret", "forget"]

_lock = threading.Lock()
_asked = False
_found: str | None = None


def colab_secret(names: Sequence[str]) -> str | None:
    """The first non-blank secret under ``names`` (asked once; later calls return that answer)."""
    global _asked, _found
    if "google.colab" not in sys.modules:
        return None
    with _lock:
        if not _asked:
            _found = _read(names)
            _asked = True
        return _found


def _read(names: Sequence[str]) -> str | None:
    try:
        userdata = importlib.import_module("google.colab.userdata")
    except Exception:  # an old Colab without secrets
        return None
    for name in names:
        try:
            value = userdata.get(name)
        except Exception:  # SecretNotFoundError, NotebookAccessError (denied), a timeout
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def forget() -> None:
    """Ask Colab again next time (after the user added a secret or granted access)."""
    global _asked, _found
    with _lock:
        _asked, _found = False, None
