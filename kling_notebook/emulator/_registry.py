"""Generations that outlive their process: a folder shared by the emulators of one user.

A demo id printed by one process (a notebook kernel, ``kling-notebook generate --demo``) must work
in the next one (``kling-notebook resume``, a restarted kernel), whose demo emulator is another
server on another port. An emulator with a registry writes, for every generation it creates, a
small record: the id, the model, the wall time it was created and its timeline (queued for, ended
after: already divided by the time scale, which is recorded too), the reply shape, its fate, and
what the clip is rendered from; an inline input image is kept once by its SHA-256 (an http(s)
``image_url`` is fetched again from its URL). An emulator asked for an id it does not know looks
for the record and rebuilds the generation on the same timeline (by wall time), so it reports the
same status and renders the same video (with its own width and caption, which the demo emulators
share).

Records are signed with an HMAC under a fixed demo secret: a made-up or damaged id stays 404. The
secret is public; it guards against mistakes, not against someone able to write the folder, which
is why the folder is per user, private (0700) and refused if someone else owns it. Files older
than :data:`KEEP_DAYS` days are removed when a registry opens.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ._jobs import Job, JobStore
from ._replies import ReplyShape
from ._validation import CameraControl, GenerationRequest

__all__ = ["KEEP_DAYS", "Registry", "demo_folder"]

DEMO_SECRET = b"kling_notebook demo registry, v1"
KEEP_DAYS = 7
_FORMAT = 2


def demo_folder() -> Path:
    """The demo emulators' registry: under the system temp folder, one per user."""
    user = str(os.getuid()) if hasattr(os, "getuid") else getpass.getuser()
    return Path(tempfile.gettempdir()) / f"kling-notebook-demo-{user}"


def _signature(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(DEMO_SECRET, text, hashlib.sha256).hexdigest()


class Registry:
    """Writes and reads the records and images in ``folder``."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._records = self.folder / "generations"
        self._images = self.folder / "images"
        for path in (self.folder, self._records, self._images):
            path.mkdir(mode=0o700, exist_ok=True)
        if hasattr(os, "getuid") and self.folder.stat().st_uid != os.getuid():
            raise PermissionError(f"{self.folder} belongs to another user; not using it")
        self._prune()

    def _prune(self) -> None:
        cutoff = time.time() - KEEP_DAYS * 86400
        for folder in (self._records, self._images):
            for path in folder.iterdir():
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()

    def _record_path(self, generation_id: str) -> Path:
        return self._records / (hashlib.sha256(generation_id.encode()).hexdigest()[:32] + ".json")

    def _keep_image(self, image: bytes | None) -> str | None:
        if image is None:
            return None
        digest = hashlib.sha256(image).hexdigest()
        path = self._images / digest
        if path.exists():
            os.utime(path)
        else:
            _write(path, image)
        return digest

    def _image(self, digest: str | None) -> bytes | None:
        if digest is None:
            return None
        image = (self._images / digest).read_bytes()
        if hashlib.sha256(image).hexdigest() != digest:
            raise ValueError("damaged image")
        return image

    def keep(self, job: Job, created_wall: float, time_scale: float) -> None:
        """Record ``job`` (just created, at wall time ``created_wall``)."""
        request = job.request
        record = {
            "format": _FORMAT,
            "id": job.id,
            "flavor": job.flavor,
            "created_wall": created_wall,
            "time_scale": time_scale,
            "queued_for": job.started_at - job.created_at,
            "length": job.finished_at - job.created_at,
            "shape": asdict(job.shape),
            "fault": job.fault,
            "usd": job.usd,
            "credits": job.credits,
            "client_request_id": job.client_request_id,
            "request": {
                "model": request.model,
                "duration": request.duration,
                "prompt": request.prompt,
                "provider": request.provider,
                "external_task_id": request.external_task_id,
                "camera": None if request.camera is None else asdict(request.camera),
                "image_url": request.image_url if request.image_bytes is None else "",
                "image": self._keep_image(request.image_bytes),
                "end_image_url": request.end_image_url if request.end_image_bytes is None else "",
                "end_image": self._keep_image(request.end_image_bytes),
                "generate_audio": request.generate_audio,
            },
        }
        record["signature"] = _signature(record)
        _write(self._record_path(job.id), json.dumps(record).encode())

    def rebuild(self, generation_id: str, store: JobStore) -> Job | None:
        """The generation recorded under ``generation_id``, adopted by ``store`` on the timeline
        it was created on; None when there is no such record (unknown, damaged or forged)."""
        try:
            record = json.loads(self._record_path(generation_id).read_bytes())
            signature = record.pop("signature")
            if record.get("format") != _FORMAT or record.get("id") != generation_id:
                return None
            if not hmac.compare_digest(signature, _signature(record)):
                return None
            fields = record["request"]
            camera = fields["camera"]
            request = GenerationRequest(
                image_url=fields["image_url"],
                image_bytes=self._image(fields["image"]),
                model=fields["model"],
                duration=fields["duration"],
                prompt=fields["prompt"],
                provider=fields["provider"],
                external_task_id=fields["external_task_id"],
                end_image_url=fields["end_image_url"],
                end_image_bytes=self._image(fields["end_image"]),
                generate_audio=fields["generate_audio"],
                camera=None
                if camera is None
                else CameraControl(camera["type"], tuple((a, float(v)) for a, v in camera["axes"])),
            )
            job = store.adopt(
                generation_id,
                record["flavor"],
                request,
                store.clock.wall() - record["created_wall"],
                (record["queued_for"], record["length"]),
                ReplyShape(**record["shape"]),
                (record["usd"], record["credits"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        job.fault = record["fault"]
        job.client_request_id = record["client_request_id"]
        return job


def _write(path: Path, data: bytes) -> None:
    """Write atomically, so another process never reads half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
