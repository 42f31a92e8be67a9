"""Where finished videos go, what they are called, and the JSON sidecar written beside each one.

Everything written to disk passes through :func:`scrub`, so neither an API key nor the bytes of an
input image ever lands in a sidecar or the journal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_VAR",
    "DEFAULT_DIR_NAME",
    "find_out_dir",
    "video_filename",
    "sidecar_path",
    "write_sidecar",
    "read_sidecar",
    "scrub",
]

logger = logging.getLogger(__name__)

ENV_VAR = "KLING_NOTEBOOK_OUTPUTS"
DEFAULT_DIR_NAME = "kling_outputs"

# Key names (compared without case, "-" or "_") whose values are credentials: exact names, and
# fragments that mark one anywhere in a name ("X-API-Key", "client_secret").
_SECRET_KEYS = frozenset({"auth", "bearer", "token", "key"})
_SECRET_FRAGMENTS = ("apikey", "authorization", "accesstoken", "secret", "password")
# Free-text fields: never mistaken for base64 however long they are.
_TEXT_KEYS = frozenset({"prompt", "negative_prompt"})
_BASE64_MIN_CHARS = 256
_BASE64_RE = re.compile(r"[A-Za-z0-9+/=_-]+")
_SLUG_WORDS = 4
_SLUG_MAX_CHARS = 40
_ID_CHARS = 8


def find_out_dir(out_dir: str | os.PathLike[str] | None = None) -> Path:
    """The output folder: the argument, else ``$KLING_NOTEBOOK_OUTPUTS``, else ``./kling_outputs``.

    The result is absolute, so a later ``os.chdir`` (common in notebooks) cannot move it. The
    folder is not created here; whoever writes into it does that.
    """
    chosen: str | os.PathLike[str] = (
        out_dir if out_dir is not None else os.environ.get(ENV_VAR) or DEFAULT_DIR_NAME
    )
    return Path(chosen).expanduser().absolute()


def _slug(text: str | None) -> str:
    """The first few words of ``text`` as lowercase ASCII joined by ``-``; "video" if none."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:_SLUG_WORDS]
    slug = "-".join(words)[:_SLUG_MAX_CHARS].strip("-")
    return slug or "video"


def video_filename(generation_id: str, prompt: str | None, created: datetime) -> str:
    """A readable, sortable, collision-resistant file name such as
    ``20261123-193000_mona-lisa-puts-on_b906d239.mp4``.

    Only ``[a-z0-9-_.]`` survive, so a hostile prompt or id cannot escape the output folder. The
    time is formatted as given (pass local time for names that match the user's clock).
    """
    uuid_part = generation_id.split(":", 1)[0]
    short_id = re.sub(r"[^a-z0-9]", "", uuid_part.lower())[:_ID_CHARS] or "noid"
    return f"{created:%Y%m%d-%H%M%S}_{_slug(prompt)}_{short_id}.mp4"


def _is_secret_key(key: str) -> bool:
    name = re.sub(r"[-_\s]", "", key.lower())
    return name in _SECRET_KEYS or any(fragment in name for fragment in _SECRET_FRAGMENTS)


def _looks_like_image_data(key: str, value: str) -> bool:
    """A ``data:`` URI anywhere, or a long unbroken base64 run outside the free-text fields."""
    if value.startswith("data:"):
        return True
    return (
        key not in _TEXT_KEYS
        and len(value) >= _BASE64_MIN_CHARS
        and _BASE64_RE.fullmatch(value) is not None
    )


def _placeholder(value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
    return f"<base64 image, {len(value)} chars, sha256 {digest}>"


def _scrub_value(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return scrub(value)
    if isinstance(value, (list, tuple)):
        return [_scrub_value(key, item) for item in value]
    if isinstance(value, str):
        if key not in _TEXT_KEYS and value.lower().startswith("bearer "):  # "Bearer of ..." prompts
            raise ValueError(f"refusing to store a bearer credential (under {key!r})")
        if _looks_like_image_data(key, value):
            return _placeholder(value)
    return value


def scrub(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` that is safe to write to disk.

    Image bytes (base64 or ``data:`` URIs, at any depth) become a short placeholder with their size
    and hash. A credential is a bug in the caller, not something to tidy away silently, so any key
    named like ``api_key`` / ``authorization`` holding a value raises :class:`ValueError` (the
    message never includes the value).
    """
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if _is_secret_key(str(key)) and value not in (None, ""):
            raise ValueError(f"refusing to store a credential under {key!r}")
        clean[str(key)] = _scrub_value(str(key), value)
    return clean


def _json_default(value: Any) -> Any:
    """JSON for the few non-JSON types a sidecar naturally holds."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} to a sidecar")


def sidecar_path(video_path: Path) -> Path:
    """``video.mp4`` -> ``video.json``."""
    return Path(video_path).with_suffix(".json")


def write_sidecar(video_path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` (scrubbed) as JSON beside the video, atomically: a reader sees the old file
    or the new one, never half of one, and no temporary file is left behind on failure."""
    target = sidecar_path(video_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(scrub(data), indent=2, ensure_ascii=False, default=_json_default)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def read_sidecar(video_path: Path) -> dict[str, Any] | None:
    """The sidecar of ``video_path``, or None when it is missing or unreadable (logged), so one
    damaged file cannot break a history view of hundreds."""
    target = sidecar_path(video_path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable sidecar %s: %s", target, exc)
        return None
    return data if isinstance(data, dict) else None
