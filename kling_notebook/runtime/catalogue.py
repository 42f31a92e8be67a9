"""The model listing: every Kling image-to-video model with what it takes, its durations and its
price, live from the gateway where it can be read, else the built-in figure, labelled.

The price route needs no key, so a listing works before any key is set: with no key and no base
URL configured it reads the demo emulator's prices (labelled simulated), as every other part of
the toolkit does in demo mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..domain.models import MODELS, Model, ModelRate
from ..gateway.prices import DEMO_LABEL, LIVE_LABEL, read_all_rates
from ..gateway.settings import find_base_url
from ..gateway.tls import tls_context
from .connect import demo_wanted

__all__ = ["ModelListing", "list_models"]


@dataclass(frozen=True)
class ModelListing:
    """One model as a listing shows it: the catalogue entry and the price in force."""

    model: Model
    rate: ModelRate

    @property
    def live(self) -> bool:
        """Whether the price was read from the gateway now (else it is the built-in figure)."""
        return self.rate.label in (LIVE_LABEL, DEMO_LABEL)

    @property
    def takes(self) -> list[str]:
        """The optional fields, in the catalogue's order."""
        order = ("prompt", "negative_prompt", "end_image", "generate_audio", "multi_prompt",
                 "elements", "shot_type", "cfg_scale", "camera_control", "static_mask",
                 "dynamic_masks", "provider")  # fmt: skip
        return [name for name in order if name in self.model.takes]

    def price_text(self) -> str:
        """USD per second (and with audio), and where the figure comes from."""
        text = f"${self.rate.usd_per_second:.3f}/s"
        if self.model.audio:
            text += f" (${self.rate.per_second(audio=True):.3f}/s with audio)"
        return f"{text}, {self.rate.label}"


async def list_models(
    base_url: str | None = None,
    *,
    demo: bool | None = None,
    live: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[ModelListing]:
    """Every model, oldest first, priced live (``live=False``: the built-in table only)."""
    rates: dict[str, ModelRate] = {}
    if live:
        if demo is None:
            demo = demo_wanted(base_url=base_url)
        label = DEMO_LABEL if demo else LIVE_LABEL
        if demo:
            from ..emulator import demo_emulator

            base_url = demo_emulator().base_url
        async with httpx.AsyncClient(timeout=20.0, transport=transport, verify=tls_context()) as http:
            rates = await read_all_rates(http, find_base_url(base_url), label)
    return [ModelListing(model, rates.get(model.id, model.rate)) for model in MODELS.values()]
