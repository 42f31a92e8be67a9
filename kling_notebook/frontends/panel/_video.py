"""Saved videos, sent to the browser on request in chunks over the widget's comm.

A view inside a widget cannot count on a file route: JupyterLab rewrites relative paths only in
cell outputs, marimo, VS Code and Voila serve no kernel files by default. So the view asks for a
video by a token the kernel handed out (never by path: the browser's messages are not trusted)
and builds a ``blob:`` URL from the chunks; nothing of the video ever enters the widget state or
the saved notebook. Chunks stay well under the size at which a websocket message is dropped.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["VideoShelf", "CHUNK_BYTES"]

#: The size of one message of video bytes.
CHUNK_BYTES = 1024 * 1024

Send = Callable[[dict[str, Any], list[bytes]], None]


class VideoShelf:
    """Token -> saved video file, for the videos a view shows."""

    def __init__(self) -> None:
        self._files: dict[str, Path] = {}
        self._lock = threading.Lock()

    def add(self, path: Path) -> str:
        """A token for ``path`` (the same one each time for the same file)."""
        with self._lock:
            for token, known in self._files.items():
                if known == path:
                    return token
            token = secrets.token_urlsafe(8)
            self._files[token] = path
            return token

    def send(self, token: str, send: Send) -> None:
        """Send the file of ``token`` as ``{"kind": "video", token, index, count}`` messages
        with one buffer each; an unknown token or a missing file gets one message with ``error``."""
        with self._lock:
            path = self._files.get(str(token))
        try:
            data = path.read_bytes() if path is not None else None
        except OSError:
            data = None
        if not data:
            send({"kind": "video", "token": token, "error": "the video file is not there any more"}, [])
            return
        count = -(-len(data) // CHUNK_BYTES)
        for index in range(count):
            chunk = data[index * CHUNK_BYTES:(index + 1) * CHUNK_BYTES]
            send({"kind": "video", "token": token, "index": index, "count": count, "mime": "video/mp4"}, [chunk])
