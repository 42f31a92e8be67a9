"""The key from Colab's secrets: only when no variable gives one, read once behind a lock, and a
missing secret or denied access is "no key" (demo mode), not an error. Colab is faked by putting
``google.colab`` and ``google.colab.userdata`` modules into ``sys.modules``."""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Callable, Iterator

import pytest

from kling_notebook.gateway import colab_secrets
from kling_notebook.gateway.settings import KEY_ENV_VARS, find_api_key, require_api_key
from kling_notebook.runtime.connect import demo_wanted

SECRET = "sk-colab-secret-0123456789"


class SecretNotFoundError(Exception):
    pass


class NotebookAccessError(Exception):
    pass


class FakeUserdata:
    """Colab's ``userdata`` with its secrets, counting calls and noticing overlapping ones."""

    def __init__(self, secrets: dict[str, str | Exception], delay: float = 0.0) -> None:
        self.secrets, self.delay = secrets, delay
        self.calls: list[str] = []
        self.inside = 0
        self.overlapped = False
        self._count = threading.Lock()

    def get(self, name: str) -> str:
        with self._count:
            self.calls.append(name)
            self.inside += 1
            self.overlapped |= self.inside > 1
        try:
            time.sleep(self.delay)
            value = self.secrets.get(name, SecretNotFoundError(name))
            if isinstance(value, Exception):
                raise value
            return value
        finally:
            with self._count:
                self.inside -= 1


@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeUserdata]]:
    """Installs a fake Colab with the given secrets; no key variable is set."""
    for name in (*KEY_ENV_VARS, "AIMLAPI_BASE_URL", "AIML_API_BASE", "AIMLAPI_API_BASE", "KLING_NOTEBOOK_DEMO"):
        monkeypatch.delenv(name, raising=False)
    colab_secrets.forget()

    def install(secrets: dict[str, str | Exception], delay: float = 0.0) -> FakeUserdata:
        userdata = FakeUserdata(secrets, delay)
        module = types.ModuleType("google.colab.userdata")
        module.get = userdata.get  # type: ignore[attr-defined]
        package = types.ModuleType("google.colab")
        package.userdata = module  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "google.colab", package)
        monkeypatch.setitem(sys.modules, "google.colab.userdata", module)
        return userdata

    yield install
    colab_secrets.forget()


def test_the_key_comes_from_a_colab_secret(colab: Callable[..., FakeUserdata]) -> None:
    userdata = colab({"AIMLAPI_API_KEY": f"  {SECRET}\n"})
    assert find_api_key() == SECRET
    assert require_api_key() == SECRET
    assert not demo_wanted()
    assert userdata.calls == list(KEY_ENV_VARS)  # the same names as the variables, in their order


def test_it_is_read_once(colab: Callable[..., FakeUserdata]) -> None:
    userdata = colab({"AIMLAPI_KEY": SECRET})
    assert [find_api_key() for _ in range(5)] == [SECRET] * 5
    assert userdata.calls == ["AIMLAPI_KEY"]


def test_a_missing_secret_or_denied_access_is_no_key(colab: Callable[..., FakeUserdata]) -> None:
    userdata = colab({"AIMLAPI_KEY": NotebookAccessError("denied"), "AIML_API_KEY": "  "})
    assert find_api_key() is None
    assert demo_wanted()  # demo mode, not an error
    find_api_key()
    assert userdata.calls == list(KEY_ENV_VARS)  # and not asked again


def test_a_variable_wins_and_colab_is_not_asked(
    colab: Callable[..., FakeUserdata], monkeypatch: pytest.MonkeyPatch
) -> None:
    userdata = colab({"AIMLAPI_KEY": SECRET})
    monkeypatch.setenv("AIML_API_KEY", "sk-from-the-environment")
    assert find_api_key() == "sk-from-the-environment"
    assert find_api_key("sk-typed") == "sk-typed"
    assert userdata.calls == []


def test_concurrent_lookups_ask_colab_once_at_a_time(colab: Callable[..., FakeUserdata]) -> None:
    userdata = colab({"AIMLAPI_KEY": SECRET}, delay=0.05)
    found: list[str | None] = []
    threads = [threading.Thread(target=lambda: found.append(find_api_key())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [SECRET] * 8
    assert userdata.calls == ["AIMLAPI_KEY"] and not userdata.overlapped


def test_outside_colab_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    colab_secrets.forget()
    assert find_api_key() is None
    assert not colab_secrets._asked


def test_forget_asks_again(colab: Callable[..., FakeUserdata]) -> None:
    userdata = colab({})
    assert find_api_key() is None
    userdata.secrets["AIMLAPI_KEY"] = SECRET  # the user adds the secret in Colab's sidebar
    assert find_api_key() is None
    colab_secrets.forget()
    assert find_api_key() == SECRET
