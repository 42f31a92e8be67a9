"""Demo mode without the ``demo`` extra (no ``av``, ``numpy`` or Pillow) fails when connecting, with
the install command, instead of minutes later as a "failed generation" that advises changing the
prompt."""

from __future__ import annotations

import sys

import pytest

from kling_notebook import errors
from kling_notebook.emulator import _demo
from kling_notebook.runtime.connect import connect


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records (and stops) any attempt to start the demo emulator."""
    calls: list[str] = []

    def refuse() -> None:
        calls.append("demo_emulator")
        raise AssertionError("the demo emulator was started without what it needs to render")

    monkeypatch.setattr(_demo, "demo_emulator", refuse)
    monkeypatch.setattr("kling_notebook.emulator.demo_emulator", refuse)
    return calls


@pytest.mark.parametrize("module", ["av", "numpy", "PIL"])
def test_connect_in_demo_mode_needs_the_demo_extra(monkeypatch, started, module):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(errors.ConfigurationError) as caught:
        connect(demo=True)
    text = str(caught.value)
    assert "pip install 'kling_notebook[demo]'" in text and repr(module) in text
    assert not isinstance(caught.value, errors.GenerationFailedError)
    assert started == []


def test_a_live_client_does_not_need_the_demo_extra(monkeypatch, started):
    monkeypatch.setitem(sys.modules, "av", None)
    client = connect("sk-live-key", demo=False)
    assert not client.demo and started == []
