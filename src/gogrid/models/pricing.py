"""Prices per million tokens, and the cost of a call.

Provider-reported usage is the truth; prices come from the `genai-prices` table (kept by the
Pydantic team) unless the manifest overrides them. An unknown price gives an unknown cost (None),
never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gogrid.messages import Usage


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached_input: float | None = None  # None: cached input tokens cost the same as input

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_tokens, usage.input_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return (
            (usage.input_tokens - cached) * self.input
            + cached * cached_rate
            + usage.output_tokens * self.output
        ) / 1_000_000

    def worst_case(self, input_tokens: int, max_output_tokens: int) -> float:
        return (input_tokens * self.input + max_output_tokens * self.output) / 1_000_000


# Our provider names -> genai-prices provider ids.
_GENAI_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}


@lru_cache(maxsize=256)
def lookup_price(provider: str, model: str) -> Price | None:
    """The public list price of a model, or None when nobody knows it."""
    provider_id = _GENAI_PROVIDER.get(provider)
    if provider_id is None:
        return None
    try:
        from genai_prices import Usage as GUsage
        from genai_prices import calc_price

        per_m = 1_000_000
        base = calc_price(GUsage(input_tokens=per_m, output_tokens=per_m), model, provider_id=provider_id)
        mp = base.model_price
        inp = float(mp.input_mtok) if mp.input_mtok is not None else None
        out = float(mp.output_mtok) if mp.output_mtok is not None else None
        cached = float(mp.cache_read_mtok) if getattr(mp, "cache_read_mtok", None) is not None else None
    except Exception:
        return None
    if inp is None or out is None:
        return None
    return Price(input=inp, output=out, cached_input=cached)


def cost_of(usage: Usage, price: Price | None) -> float | None:
    return None if price is None else price.cost(usage)
