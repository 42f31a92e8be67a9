"""``KlingClient`` shows what it takes: each method has its async twin's parameters (names,
kinds, defaults) and a docstring, so ``help()``, ``client.generate?`` and tab completion are as
useful on the blocking client as on :class:`AsyncKlingClient`."""

from __future__ import annotations

import inspect

import pytest

from kling_notebook import AsyncKlingClient, KlingClient

TWINS = ["price_table", "estimate", "check", "submit", "get", "wait", "download", "start", "generate", "batch"]


def _parameters(function) -> list[tuple[str, object, object]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(function).parameters.values()
        if p.name != "self"
    ]


@pytest.mark.parametrize("name", TWINS)
def test_a_blocking_method_has_the_parameters_of_its_async_twin(name: str) -> None:
    assert _parameters(getattr(KlingClient, name)) == _parameters(getattr(AsyncKlingClient, name))


@pytest.mark.parametrize("name", [*TWINS, "close", "__init__"])
def test_every_method_says_what_it_does(name: str) -> None:
    assert (inspect.getdoc(getattr(KlingClient, name)) or "").strip(), name


def test_the_async_client_has_no_public_method_the_blocking_one_lacks() -> None:
    members = {name: value for cls in reversed(AsyncKlingClient.__mro__) for name, value in vars(cls).items()}
    public = {name for name, value in members.items() if not name.startswith("_") and inspect.iscoroutinefunction(value)}
    # close() is aclose's twin; origin() (the poll schedule's), sightings() (resume's look-up in
    # the usage logs) and service_get() (the classroom's reads) are plumbing, not a script's calls.
    assert public - {"aclose", "origin", "sightings", "service_get"} <= set(TWINS)
