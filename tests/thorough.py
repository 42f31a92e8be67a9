"""How many examples the property tests draw: all of them in ``make test``, a quarter under
``--quick`` (``make check``, the loop while editing)."""

from __future__ import annotations

#: Set from the ``--quick`` option before any test module is imported.
QUICK = False


def examples(full: int) -> int:
    """``full``, or a quarter of it (at least 20) in a quick run."""
    return max(20, full // 4) if QUICK else full
