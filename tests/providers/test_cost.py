"""Cost: provider-reported usage times genai-prices (tiers and cached tokens included), or the
manifest's override; an unknown price is an unknown cost, never zero."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from genai_prices import Usage as GUsage
from genai_prices import calc_price

from gogrid.config.errors import ManifestError
from gogrid.config.loader import load_manifest
from gogrid.events import RunStatus
from gogrid.messages import Usage
from gogrid.models.pricing import lookup_price
from providers.harness import model_entry, of_kind, run, write_manifest
from providers.wire import Turn, WireServer

# (our provider, model, genai-prices provider id, usage): short and long prompts, cached or not.
KNOWN = [
    ("openai", "gpt-4o-mini", "openai", Usage(1_000, 500, 0)),
    ("openai", "gpt-4o", "openai", Usage(50_000, 2_000, 30_000)),
    ("openai", "gpt-4.1-mini", "openai", Usage(7, 3, 0)),
    ("anthropic", "claude-haiku-4-5", "anthropic", Usage(20_000, 1_000, 15_000)),
    ("anthropic", "claude-sonnet-4-5", "anthropic", Usage(300_000, 4_000, 0)),  # above the 200k tier
    ("anthropic", "claude-3-5-haiku-latest", "anthropic", Usage(1_234, 567, 0)),
    ("gemini", "gemini-2.5-flash", "google", Usage(10_000, 800, 2_000)),
    ("gemini", "gemini-2.5-pro", "google", Usage(250_000, 1_000, 0)),  # above the 200k tier
    ("gemini", "gemini-2.0-flash", "google", Usage(3_000, 300, 0)),
]


@pytest.mark.parametrize(("provider", "model", "genai_provider", "usage"), KNOWN, ids=[k[1] for k in KNOWN])
def test_known_usages_cost_what_genai_prices_says(provider: str, model: str, genai_provider: str, usage: Usage) -> None:
    price = lookup_price(provider, model)
    assert price is not None and price.source == "genai-prices"
    expected = calc_price(GUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                                 cache_read_tokens=usage.cached_tokens or None), model, provider_id=genai_provider)
    assert price.cost(usage) == pytest.approx(float(expected.total_price), rel=1e-12)


def test_a_long_prompt_switches_to_the_higher_tier() -> None:
    price = lookup_price("anthropic", "claude-sonnet-4-5")
    assert price is not None
    short, long = price.cost(Usage(200_000, 0, 0)), price.cost(Usage(200_001, 0, 0))
    assert short == pytest.approx(200_000 * price.input / 1e6)
    assert long > short * 1.5  # the whole prompt is billed at the tier rate


def test_unknown_models_have_no_price() -> None:
    assert lookup_price("openai", "my-local-llama") is None
    assert lookup_price("sim", "fast") is None


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WireServer]:
    with WireServer("openai", key="k", model="my-local-llama") as s:
        monkeypatch.setenv(s.dialect.key_env, "k")
        yield s


def test_an_unknown_model_costs_null_with_a_flag(server: WireServer, tmp_path: Path) -> None:
    server.script(Turn("hi", usage=(100, 10, 0)))
    result, events = run(write_manifest(tmp_path, {"m": model_entry(server)}, {"model": "m"}))
    assert result.status == RunStatus.SUCCEEDED
    f = of_kind(events, "model.finished")[0]
    assert f.cost_usd is None and f.cost_known is False
    assert (f.input_tokens, f.output_tokens) == (100, 10)


def test_a_manifest_price_overrides_the_table(server: WireServer, tmp_path: Path) -> None:
    server.model = "gpt-4o-mini"  # known to genai-prices, but the manifest says otherwise
    server.script(Turn("hi", usage=(1_000, 100, 400)))
    entry = model_entry(server, price={"input": 2.0, "output": 8.0, "cached_input": 0.5})
    result, events = run(write_manifest(tmp_path, {"m": entry}, {"model": "m"}))
    assert result.status == "succeeded", result.error
    f = of_kind(events, "model.finished")[0]
    assert f.cost_known and f.cost_usd == pytest.approx((600 * 2.0 + 400 * 0.5 + 100 * 8.0) / 1e6)


def test_a_per_token_price_is_caught_at_load(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nmodels:\n  m:\n    model: openai/gpt-4o\n    price: {input: 0.0000025, output: 10}\n"
                    "agents:\n  a: {model: m}\nworkflow: {agent: a}\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    text = str(err.value.issues[0])
    assert ":5:" in text and "per token" in text and "did you mean 2.5" in text


@pytest.mark.parametrize(("base_url", "model", "service"), [
    ("https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", "groq"),
    ("https://api.deepseek.com/v1", "deepseek-chat", "deepseek"),
    ("https://openrouter.ai/api/v1", "anthropic/claude-3.5-haiku", "openrouter"),
])
def test_openai_compatible_services_are_priced_by_address(base_url: str, model: str, service: str) -> None:
    price = lookup_price("openai", model, base_url)
    assert price is not None and price.genai_ref == (service, model)
    usage = Usage(10_000, 1_000, 0)
    expected = calc_price(GUsage(input_tokens=10_000, output_tokens=1_000), model, provider_api_url=base_url)
    assert price.cost(usage) == pytest.approx(float(expected.total_price))
    assert lookup_price("openai", model, "http://127.0.0.1:9/v1") is None  # a local server: unknown


def test_anthropic_cache_writes_are_billed_at_their_own_rate() -> None:
    from gogrid.models.anthropic import _usage

    usage = _usage({"input_tokens": 600, "cache_creation_input_tokens": 400, "cache_read_input_tokens": 1_000, "output_tokens": 50})
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens) == (2_000, 1_000, 400)
    price = lookup_price("anthropic", "claude-haiku-4-5")
    assert price is not None
    expected = calc_price(GUsage(input_tokens=2_000, output_tokens=50, cache_read_tokens=1_000, cache_write_tokens=400),
                          "claude-haiku-4-5", provider_id="anthropic")
    assert price.cost(usage) == pytest.approx(float(expected.total_price))
    assert price.cost(usage) > price.cost(_usage({"input_tokens": 1_000, "cache_read_input_tokens": 1_000, "output_tokens": 50}))
