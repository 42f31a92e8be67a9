"""Generations that outlive their emulator: a shared registry answers for another's ids."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from kling_notebook.emulator import Emulator
from kling_notebook.emulator._registry import demo_folder

from ._support import MODEL, PATHS, probe

UNIVERSAL = PATHS["universal"]


def http_client(emu: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"})


def finished(http: httpx.Client, gen_id: str, flavor: str = "universal") -> dict[str, object]:
    for _ in range(200):
        body = http.get(PATHS[flavor], params={"generation_id": gen_id}).json()
        if body["status"] in ("completed", "error"):
            return dict(body)
        time.sleep(0.05)
    raise AssertionError(f"{gen_id} never finished")


def test_another_emulator_rebuilds_a_generation_from_its_id(
    make_emulator: Callable[..., Emulator], tmp_path: Path, mushroom_uri: str
) -> None:
    maker = make_emulator(registry=tmp_path, job_seconds=2.0)
    other = make_emulator(registry=tmp_path, job_seconds=30.0)  # its own timings do not matter
    body = {"model": MODEL, "image_url": mushroom_uri, "duration": 5,
            "camera_control": {"type": "simple", "config": {"zoom": 4}}}  # fmt: skip
    with http_client(maker) as made_here, http_client(other) as elsewhere:
        created = made_here.post(UNIVERSAL, json=body, headers={"X-Client-Request-Id": "c-9"})
        gen_id = created.json()["id"]
        seen = elsewhere.get(PATHS["legacy"], params={"generation_id": gen_id})
        assert seen.status_code == 200, seen.text
        assert seen.json()["status"] in ("queued", "generating")
        mine, theirs = maker.generations()[gen_id], other.generations()[gen_id]
        assert abs(mine["ends_in"] - theirs["ends_in"]) < 0.2  # the same timeline
        assert theirs["client_request_id"] == "c-9" and theirs["camera_control"] == "simple"
        here, there = finished(made_here, gen_id), finished(elsewhere, gen_id, "legacy")
        assert here["status"] == there["status"] == "completed"
        assert there["video"]["url"].startswith(other.base_url)  # type: ignore[index]
        clip = elsewhere.get(there["video"]["url"]).content  # type: ignore[index]
        original = made_here.get(here["video"]["url"]).content  # type: ignore[index]
    assert probe(clip).frames == 120
    assert clip == original  # the same video, rendered again from the kept image
    assert other.stats()["created"] == [] and other.stats()["billing"]["holds"] == 0


def test_made_up_and_damaged_ids_stay_404(
    make_emulator: Callable[..., Emulator], tmp_path: Path, mushroom_uri: str
) -> None:
    maker = make_emulator(registry=tmp_path)
    other = make_emulator(registry=tmp_path)
    alone = make_emulator()
    with http_client(maker) as made_here, http_client(other) as elsewhere:
        created = made_here.post(UNIVERSAL, json={"model": MODEL, "image_url": mushroom_uri})
        gen_id = created.json()["id"]
        for record in (tmp_path / "generations").iterdir():  # damage it
            text = json.loads(record.read_text())
            text["length"] = 1.0
            record.write_text(json.dumps(text))
        damaged = elsewhere.get(UNIVERSAL, params={"generation_id": gen_id})
        made_up = elsewhere.get(UNIVERSAL, params={"generation_id": gen_id[:-3] + "abc"})
    with http_client(alone) as unshared:
        private = unshared.get(UNIVERSAL, params={"generation_id": gen_id})
    assert damaged.status_code == made_up.status_code == private.status_code == 404
    assert str(tmp_path) in made_up.json()["message"]
    assert "in this process" in private.json()["message"]


def test_a_demo_id_outlives_the_process_that_printed_it(
    make_emulator: Callable[..., Emulator], tmp_path: Path, mushroom_uri: str
) -> None:
    code = textwrap.dedent(
        """
        import sys, httpx
        from kling_notebook.emulator import Emulator

        with Emulator(registry=sys.argv[1], job_seconds=1.0, video_width=160) as emu:
            body = {"model": sys.argv[2], "image_url": sys.stdin.read()}
            headers = {"Authorization": f"Bearer {emu.api_key}"}
            print(httpx.post(emu.base_url + sys.argv[3], json=body, headers=headers).json()["id"])
        """
    )
    made = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), MODEL, UNIVERSAL],
        input=mushroom_uri,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    gen_id = made.stdout.strip()
    with http_client(make_emulator(registry=tmp_path)) as later:
        final = finished(later, gen_id)
        assert final["status"] == "completed"
        assert probe(later.get(final["video"]["url"]).content).frames == 120  # type: ignore[index]


def test_the_demo_folder_is_per_user_under_the_temp_folder() -> None:
    folder = demo_folder()
    assert folder.parent == Path(tempfile.gettempdir())
    assert folder.name.startswith("kling-notebook-demo-")
