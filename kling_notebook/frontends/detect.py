"""Which notebook front end this kernel is serving, from signals each one sets itself.

The answer decides how a finished video can reach the browser (see
:mod:`~kling_notebook.frontends.display`). Signals, checked in this order:

* ``"marimo"``: marimo is imported and says a notebook is running (``marimo edit`` and ``marimo run``
  alike; a script that only imports marimo is not a notebook). marimo answers per thread (its
  engine threads say no), so a yes is remembered for the process: call :func:`frontend` once from
  a cell (the panel does when it is built) and later calls from any thread agree.
* ``"colab"``: ``google.colab`` is imported (Colab's kernel loads it at start).
* ``"voila"``: the kernel was started by Voila, which puts ``VOILA_KERNEL_ID``, ``VOILA_BASE_URL``
  or a ``SERVER_SOFTWARE`` of ``voila/...`` into its environment.
* ``"vscode"``: VS Code's Jupyter extension defines ``__vsc_ipynb_file__`` in the user namespace;
  failing that, ``VSCODE_PID``/``VSCODE_CWD`` without ``JPY_SESSION_NAME`` (a Jupyter server started
  from a VS Code terminal inherits the first two but names its sessions itself).
* ``"jupyter"``: any other kernel behind a Jupyter server (JupyterLab, Notebook 7, nbclient).
* ``"terminal"``: plain IPython or Python, no browser at all.

A wrong guess is overridden with :func:`set_frontend` or ``$KLING_NOTEBOOK_FRONTEND``.
"""

from __future__ import annotations

import os
import sys
from typing import Literal, get_args

__all__ = ["Frontend", "FRONTEND_ENV_VAR", "frontend", "detected_frontend", "set_frontend"]

Frontend = Literal["jupyter", "voila", "colab", "vscode", "marimo", "terminal"]
#: Environment variable naming the front end when detection cannot tell (e.g. a custom server).
FRONTEND_ENV_VAR = "KLING_NOTEBOOK_FRONTEND"
_VOILA_VARS = ("VOILA_KERNEL_ID", "VOILA_BASE_URL")
_VSCODE_VARS = ("VSCODE_PID", "VSCODE_CWD")

_forced: Frontend | None = None
_marimo_seen = False


def set_frontend(name: Frontend | None) -> None:
    """Say which front end this is (``None`` goes back to detecting it)."""
    global _forced
    if name is not None and name not in get_args(Frontend):
        raise ValueError(f"front end must be one of {', '.join(get_args(Frontend))} (got {name!r})")
    _forced = name


def frontend() -> Frontend:
    """The front end set with :func:`set_frontend`, else ``$KLING_NOTEBOOK_FRONTEND``, else detected."""
    if _forced is not None:
        return _forced
    named = os.environ.get(FRONTEND_ENV_VAR, "").strip().lower()
    if named in get_args(Frontend):
        return named  # type: ignore[return-value]
    return detected_frontend()


def detected_frontend() -> Frontend:
    """What the signals say, ignoring any override."""
    if _in_marimo():
        return "marimo"
    if "google.colab" in sys.modules:
        return "colab"
    if _in_voila():
        return "voila"
    shell = _ipython_shell()
    if _in_vscode(shell):
        return "vscode"
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        return "jupyter"
    return "terminal"


def _in_marimo() -> bool:
    """marimo's own check, asked only when marimo is already imported (never imported here)."""
    global _marimo_seen
    if _marimo_seen:
        return True
    marimo = sys.modules.get("marimo")
    check = getattr(marimo, "running_in_notebook", None)
    try:
        _marimo_seen = bool(check()) if callable(check) else False
    except Exception:  # an unexpected marimo version must not break a display
        return False
    return _marimo_seen


def _in_voila() -> bool:
    env = os.environ
    return any(env.get(name) for name in _VOILA_VARS) or env.get("SERVER_SOFTWARE", "").startswith("voila/")


def _in_vscode(shell: object | None) -> bool:
    user_ns = getattr(shell, "user_ns", None) or {}
    if "__vsc_ipynb_file__" in user_ns:
        return True
    env = os.environ
    return any(env.get(name) for name in _VSCODE_VARS) and not env.get("JPY_SESSION_NAME")


def _ipython_shell() -> object | None:
    """The running IPython shell, if IPython is loaded and has one (never imported here)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None
