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
    # Set when the price comes from genai-prices: costs are then computed by the library, which
    # knows tiers (a long prompt can switch the whole call to a higher rate) the fields above
    # cannot express. The fields hold the base rates, for reservations and display.
    genai_ref: tuple[str, str] | None = None  # (genai-prices provider id, model)

    @property
    def source(self) -> str:
        return "genai-prices" if self.genai_ref else "manifest"

    def cost(self, usage: Usage) -> float:
        if self.genai_ref is not None:
            exact = _genai_cost(self.genai_ref, usage)
            if exact is not None:
                return exact
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
def lookup_price(provider: str, model: str, api_url: str | None = None) -> Price | None:
    """The public list price of a model, or None when nobody knows it.

    `api_url` is where an OpenAI-compatible model is served: genai-prices knows many such
    services by address (Groq, DeepSeek, Mistral, Together, OpenRouter...). An address it does not
    know (a local server) falls back to the provider's own table."""
    if api_url:
        by_url = _lookup(model, provider_api_url=api_url)
        if by_url is not None:
            return by_url
    provider_id = _GENAI_PROVIDER.get(provider)
    return None if provider_id is None else _lookup(model, provider_id=provider_id)


def _lookup(model: str, *, provider_id: str | None = None, provider_api_url: str | None = None) -> Price | None:
    try:
        from genai_prices import Usage as GUsage
        from genai_prices import calc_price

        per_m = 1_000_000
        usage = GUsage(input_tokens=per_m, output_tokens=per_m)
        if provider_api_url:
            found = calc_price(usage, model, provider_api_url=provider_api_url)
        else:
            found = calc_price(usage, model, provider_id=provider_id)
        mp = found.model_price
        inp = _base(mp.input_mtok)
        out = _base(mp.output_mtok)
        cached = _base(getattr(mp, "cache_read_mtok", None))
        provider_id = str(found.provider.id)
    except Exception:
        return None
    if inp is None or out is None:
        return None
    return Price(input=inp, output=out, cached_input=cached, genai_ref=(provider_id, model))


def _base(value: object) -> float | None:
    """A flat price, or the base rate of a tiered one."""
    if value is None:
        return None
    return float(getattr(value, "base", value))  # type: ignore[arg-type]


def _genai_cost(ref: tuple[str, str], usage: Usage) -> float | None:
    try:
        from genai_prices import Usage as GUsage
        from genai_prices import calc_price

        g = GUsage(
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            cache_read_tokens=min(usage.cached_tokens, usage.input_tokens) or None,
            cache_write_tokens=usage.cache_write_tokens or None,
        )
        return float(calc_price(g, ref[1], provider_id=ref[0]).total_price)
    except Exception:
        return None


def cost_of(usage: Usage, price: Price | None) -> float | None:
    return None if price is None else price.cost(usage)
