"""What a newcomer finds with ``dir(kling_notebook)``, tab completion and ``help()``: every public
name (the lazily loaded panel and emulator too), each saying it lives in ``kling_notebook``."""

from __future__ import annotations

import subprocess
import sys

import kling_notebook


def test_dir_lists_every_public_name() -> None:
    listed = set(dir(kling_notebook))
    assert set(kling_notebook.__all__) <= listed
    assert {"KlingPanel", "Emulator", "connect", "KlingClient", "AsyncKlingClient", "GenerationRequest"} <= listed


def test_the_lazy_names_are_listed_before_they_are_loaded() -> None:
    """Tab completion in a fresh kernel runs before anyone touched the panel or the emulator."""
    code = (
        "import sys, kling_notebook as k; "
        "print('KlingPanel' in dir(k), 'Emulator' in dir(k), "
        "'kling_notebook.frontends.panel' in sys.modules, 'kling_notebook.emulator' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.split() == ["True", "True", "False", "False"]


def test_public_names_say_where_they_live() -> None:
    for name in kling_notebook.__all__:
        value = getattr(kling_notebook, name)
        if isinstance(value, type) or callable(value):
            assert value.__module__ == "kling_notebook", name
    for name in kling_notebook.errors.__all__:
        assert getattr(kling_notebook.errors, name).__module__ == "kling_notebook.errors", name
