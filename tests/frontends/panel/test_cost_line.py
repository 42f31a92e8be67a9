"""The panel's cost line is kling_notebook.domain.cost.cost_notice's wording (one source with the CLI)."""

from __future__ import annotations

from typing import Any

import pytest

from kling_notebook import AsyncKlingClient
from kling_notebook.domain.cost import CostEstimate, cost_notice
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel import _generate as generate_module
from kling_notebook.frontends.panel._html import esc


def test_the_cost_line_comes_from_cost_notice(demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []

    def notice(estimate: CostEstimate, *, demo: bool, charged_when: str) -> str:
        asked.append({"duration": estimate.duration_seconds_total, "demo": demo, "charged_when": charged_when})
        return f"<{cost_notice(estimate, demo=demo, charged_when=charged_when)}>"

    monkeypatch.setattr(generate_module, "cost_notice", notice)
    panel = KlingPanel(demo_client, duration=10)
    assert asked[-1] == {"duration": 10, "demo": True, "charged_when": "when you click Generate"}
    estimate = panel.prices.estimate(10)
    assert esc(f"<{cost_notice(estimate, demo=True, charged_when='when you click Generate')}>") in panel.bar.cost.value
    panel.bar.show("", 10, False, panel.prices)
    assert "Estimated cost: about $2.80" in panel.bar.cost.value
    assert "Charged when you click Generate." in panel.bar.cost.value and "&lt;Estimated" in panel.bar.cost.value
