"""Which front end the kernel serves: each one's own signal, the order they are checked in, and
the overrides. Every signal is faked here (environment, ``sys.modules``, a shell object)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import get_args

import pytest

from kling_notebook import display
from kling_notebook.frontends import detect

SIGNAL_VARS = ("VOILA_KERNEL_ID", "VOILA_BASE_URL", "SERVER_SOFTWARE", "VSCODE_PID", "VSCODE_CWD",
               "JPY_SESSION_NAME", detect.FRONTEND_ENV_VAR)


class ZMQInteractiveShell:
    """Named like ipykernel's shell, which is all the detection looks at."""

    def __init__(self, **user_ns: object) -> None:
        self.user_ns = dict(user_ns)


class TerminalInteractiveShell(ZMQInteractiveShell):
    pass


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No real signal of the machine running the tests leaks in (a VS Code terminal, say)."""
    for name in SIGNAL_VARS:
        monkeypatch.delenv(name, raising=False)
    for name in ("google.colab", "marimo"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(detect, "_marimo_seen", False)
    shell(monkeypatch, None)
    detect.set_frontend(None)
    yield
    detect.set_frontend(None)


def shell(monkeypatch: pytest.MonkeyPatch, running: object | None) -> None:
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: running  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)


def marimo(monkeypatch: pytest.MonkeyPatch, running: bool) -> None:
    module = types.ModuleType("marimo")
    module.running_in_notebook = lambda: running  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marimo", module)


def test_plain_python_is_a_terminal() -> None:
    assert display.frontend() == "terminal"
    assert display.concrete_mode() == "file"


def test_a_terminal_ipython_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    shell(monkeypatch, TerminalInteractiveShell())
    assert display.frontend() == "terminal"


def test_a_kernel_behind_a_jupyter_server_is_jupyter(monkeypatch: pytest.MonkeyPatch) -> None:
    shell(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/quickstart.ipynb")
    assert display.frontend() == "jupyter"
    assert display.concrete_mode() == "file"


@pytest.mark.parametrize(
    "name, value", [("VOILA_KERNEL_ID", "k-1"), ("VOILA_BASE_URL", "/"), ("SERVER_SOFTWARE", "voila/0.5.13")]
)
def test_voila_by_what_it_puts_in_the_kernels_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    shell(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setenv(name, value)
    assert display.frontend() == "voila"
    assert display.concrete_mode() == "file"  # through Voila's allowlisted file route


def test_another_server_software_is_not_voila(monkeypatch: pytest.MonkeyPatch) -> None:
    shell(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/22")
    assert display.frontend() == "jupyter"


def test_colab_by_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    shell(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert display.frontend() == "colab"
    assert display.concrete_mode() == "embed"


def test_vscode_by_the_notebook_file_it_defines(monkeypatch: pytest.MonkeyPatch) -> None:
    shell(monkeypatch, ZMQInteractiveShell(__vsc_ipynb_file__="/w/quickstart.ipynb"))
    monkeypatch.setenv("JPY_SESSION_NAME", "/w/quickstart.ipynb")  # set or not, the name decides
    assert display.frontend() == "vscode"
    assert display.concrete_mode() == "embed"


@pytest.mark.parametrize("name", ["VSCODE_PID", "VSCODE_CWD"])
def test_vscode_by_its_environment(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    shell(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setenv(name, "4242")
    assert display.frontend() == "vscode"


def test_a_jupyter_server_started_in_a_vscode_terminal_is_jupyter(monkeypatch: pytest.MonkeyPatch) -> None:
    shell(monkeypatch, ZMQInteractiveShell())
    monkeypatch.setenv("VSCODE_PID", "4242")
    monkeypatch.setenv("JPY_SESSION_NAME", "/w/quickstart.ipynb")
    assert display.frontend() == "jupyter"


def test_marimo_by_its_own_check(monkeypatch: pytest.MonkeyPatch) -> None:
    marimo(monkeypatch, True)
    monkeypatch.setenv("VSCODE_PID", "4242")  # marimo's VS Code extension: still marimo
    assert display.frontend() == "marimo"
    assert display.concrete_mode() == "embed"


def test_marimo_is_remembered_for_threads_marimo_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """marimo's check is per thread: the engine's threads (which render finished videos) say no."""
    answers = iter([True, False])
    module = types.ModuleType("marimo")
    module.running_in_notebook = lambda: next(answers)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marimo", module)
    assert display.frontend() == "marimo"  # a cell
    assert display.frontend() == "marimo"  # an engine thread


def test_marimo_imported_by_a_script_is_not_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    marimo(monkeypatch, False)
    assert display.frontend() == "terminal"


def test_a_broken_marimo_check_is_not_marimo(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("marimo")
    module.running_in_notebook = lambda: 1 / 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marimo", module)
    assert display.frontend() == "terminal"


def test_the_front_end_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv(detect.FRONTEND_ENV_VAR, "VSCode")
    assert display.frontend() == "vscode"
    display.set_frontend("jupyter")  # the call wins over the variable
    assert display.frontend() == "jupyter" and display.concrete_mode() == "file"
    assert display.detected_frontend() == "colab"
    display.set_frontend(None)
    assert display.frontend() == "vscode"
    monkeypatch.setenv(detect.FRONTEND_ENV_VAR, "netscape")  # unknown: detection decides
    assert display.frontend() == "colab"
    with pytest.raises(ValueError, match="front end must be one of"):
        display.set_frontend("netscape")  # type: ignore[arg-type]


def test_every_front_end_has_a_mode() -> None:
    assert set(display.FRONTEND_MODES) == set(get_args(display.Frontend))
