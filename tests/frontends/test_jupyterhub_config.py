"""The JupyterHub snippet of the README (docs/jupyterhub_config.py) gives each student their own
key from the teacher's keys file, through the Spawner's environment, and never the management key."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kling_notebook.gateway.keys import KeyLimit
from kling_notebook.gateway.settings import find_api_key
from kling_notebook.runtime.classroom import Roster, Seat

SNIPPET = Path(__file__).resolve().parents[2] / "docs" / "jupyterhub_config.py"


def hub_config(keys: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Run the snippet as JupyterHub runs its config file: with ``c`` in its namespace."""
    monkeypatch.setenv("KLING_CLASS_KEYS", str(keys))
    c = SimpleNamespace(Spawner=SimpleNamespace())
    exec(compile(SNIPPET.read_text(), str(SNIPPET), "exec"), {"c": c, "__name__": "jupyterhub_config"})
    return c


def spawner(user: str, **environment: str) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(name=user), environment=dict(environment))


def test_each_student_gets_their_own_key_and_never_the_management_key(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    limit = KeyLimit(3.0, "week")
    roster = Roster("art 101", (Seat("ada", "emuaaaaa", limit, "emuaaaaa-ada-secret"),
                                Seat("grace", "emubbbbb", limit, "emubbbbb-grace-secret")))  # fmt: skip
    keys = roster.write_keys(tmp_path / "keys.csv")
    hook = hub_config(keys, clean_env).Spawner.pre_spawn_hook

    ada = spawner("ada", AIMLAPI_MANAGEMENT_KEY="mgmt-secret", AIMLAPI_BASE_URL="https://api.test")
    hook(ada)
    assert ada.environment == {"AIMLAPI_KEY": "emuaaaaa-ada-secret", "AIMLAPI_BASE_URL": "https://api.test"}
    stranger = spawner("mallory")
    hook(stranger)
    assert stranger.environment == {}  # no key: demo mode

    clean_env.setenv("AIMLAPI_KEY", ada.environment["AIMLAPI_KEY"])  # as her server starts
    assert find_api_key() == "emuaaaaa-ada-secret"


def test_the_snippet_is_the_one_the_readme_shows() -> None:
    readme = (SNIPPET.parents[1] / "README.md").read_text()
    assert "docs/jupyterhub_config.py" in readme
    assert "c.Spawner.pre_spawn_hook = give_kling_key" in readme
