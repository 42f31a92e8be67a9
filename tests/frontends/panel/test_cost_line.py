"""The panel's cost line is kling_notebook.domain.cost.cost_notice's wording (one source with
the CLI); in demo mode nothing is said to be charged."""

from __future__ import annotations

from typing import Any

import pytest

from kling_notebook import AsyncKlingClient
from kling_notebook.domain.cost import DEFAULT_PRICES, CostEstimate, cost_notice
from kling_notebook.frontends.panel import KlingPanel
from kling_notebook.frontends.panel import _panel as panel_module
from kling_notebook.frontends.panel._html import esc

from .conftest import Front, wait_for


def test_the_cost_line_comes_from_cost_notice(demo_client: AsyncKlingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []

    def notice(estimate: CostEstimate, *, demo: bool, charged_when: str) -> str:
        asked.append({"duration": estimate.duration_seconds_total, "demo": demo, "charged_when": charged_when})
        return f"<{cost_notice(estimate, demo=demo, charged_when=charged_when)}>"

    monkeypatch.setattr(panel_module, "cost_notice", notice)
    front = Front(KlingPanel(demo_client, duration=10, prices=DEFAULT_PRICES))
    assert asked[-1] == {"duration": 10, "demo": True, "charged_when": "when you click Generate"}
    estimate = DEFAULT_PRICES.estimate(10)
    assert esc(f"<{cost_notice(estimate, demo=True, charged_when='when you click Generate')}>") in front.cost
    assert "charged" not in front.cost.lower().replace("nothing", "")


def test_the_clients_estimate_follows_the_model(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.set("model", "kling-video/v2.1/standard/image-to-video")
    wait_for(lambda: "$0.25" in front.cost, what="the model's estimate")
    assert "nothing in demo mode" in front.cost


def test_a_live_client_says_when_it_is_charged(demo_client: AsyncKlingClient) -> None:
    front = Front(KlingPanel(demo_client))
    front.send("key", key="sk-test-cost-line-0123456789")
    assert "Charged when you click Generate." in front.cost and "$1.40" in front.cost
