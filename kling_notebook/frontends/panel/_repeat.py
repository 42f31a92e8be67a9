"""Notice a request that repeats the one just sent, so a second paid generation is never an accident.

Several generations may run from one panel on purpose, so a repeat is not refused: the panel asks
first when the same image, prompt and settings go out again within :data:`REPEAT_WINDOW_S` of the
last submit (a double-click, or a click while the first job's row is still scrolling in).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ...domain.request import GenerationRequest

__all__ = ["REPEAT_WINDOW_S", "RepeatGuard", "fingerprint"]

#: How long after a submit the identical request again needs a confirmation.
REPEAT_WINDOW_S = 60.0


def _image_key(image: object) -> str:
    """The image's identity: its bytes' digest when it is bytes, else its URL or path."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(image)).hexdigest()
    if isinstance(image, (str, Path)):
        return str(image).strip()
    return f"object:{id(image)}"


def fingerprint(request: GenerationRequest) -> str:
    """Equal for requests that would send the same image and settings (what would be paid for)."""
    body = request.to_payload(_image_key(request.image))
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class RepeatGuard:
    """Remembers the last request sent and when (thread-safe: clicks may come from any thread)."""

    def __init__(self, window: float = REPEAT_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[str, float] | None = None

    def seconds_since_same(self, request: GenerationRequest) -> float | None:
        """Seconds since this exact request was sent, when that was within the window; else None."""
        with self._lock:
            last = self._last
        if last is None or last[0] != fingerprint(request):
            return None
        ago = self._clock() - last[1]
        return ago if ago < self.window else None

    def sent(self, request: GenerationRequest) -> None:
        with self._lock:
            self._last = (fingerprint(request), self._clock())
