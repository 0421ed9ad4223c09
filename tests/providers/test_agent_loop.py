"""The unchanged agent loop on each real provider, against a loopback server that speaks the
provider's wire format and rejects what the real API would reject."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from genai_prices import Usage as GUsage
from genai_prices import calc_price

from gogrid.events import RunStatus
from providers.harness import model_entry, of_kind, run, write_manifest
from providers.wire import Turn, WireServer

PROVIDERS = ["openai", "anthropic", "gemini"]
# A model each provider prices in genai-prices, for the cost checks.
PRICED = {"openai": ("openai", "gpt-4o-mini"), "anthropic": ("anthropic", "claude-haiku-4-5"), "gemini": ("google", "gemini-2.5-flash")}


@pytest.fixture
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[WireServer]:
    provider = request.param
    with WireServer(provider, key=f"{provider}-test-key", model=PRICED[provider][1]) as s:
        monkeypatch.setenv(s.dialect.key_env, s.key or "")
        yield s


def _request_text(server: WireServer, i: int) -> str:
    import json

    return json.dumps(server.seen[i].body)


@pytest.mark.parametrize("server", PROVIDERS, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_plain_answer_with_system_prompt_and_usage(server: WireServer, stream: bool, tmp_path: Path) -> None:
    server.script(Turn("Hello from the wire, friend.", usage=(42, 7, 0)))
    path = write_manifest(tmp_path, {"m": model_entry(server)}, {"model": "m", "stream": stream, "instructions": "Answer like a pirate."})
    result, events = run(path, "Say hello")
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert result.output == "Hello from the wire, friend."
    assert server.problems == []
    seen = server.seen[0]
    assert seen.stream is stream
    assert "Answer like a pirate." in _request_text(server, 0)  # the system prompt went out
    finished = of_kind(events, "model.finished")[0]
    assert (finished.input_tokens, finished.output_tokens, finished.token_count) == (42, 7, "exact")
    assert finished.provider == server.dialect.provider and finished.status == "ok"
    deltas = "".join(e.text for e in of_kind(events, "model.delta"))
    assert deltas == ("Hello from the wire, friend." if stream else "")
    assert [(e.outcome, e.attempt) for e in of_kind(events, "model.attempt")] == [("ok", 1)]


@pytest.mark.parametrize("server", PROVIDERS, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_several_tool_calls_in_one_turn(server: WireServer, stream: bool, tmp_path: Path) -> None:
    server.script(
        Turn("Let me add those.", calls=[("add", {"a": 2, "b": 3}), ("add", {"a": 10, "b": 5})]),
        Turn("The sums are 5 and 15."),
    )
    path = write_manifest(tmp_path, {"m": model_entry(server)}, {"model": "m", "stream": stream, "tools": ["add"]})
    result, events = run(path, "Add 2+3 and 10+5")
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert result.output == "The sums are 5 and 15."
    assert server.problems == []  # the second request answered each call exactly once
    tools = of_kind(events, "tool.finished")
    assert sorted(t.result for t in tools) == [5, 15] and all(t.status == "ok" for t in tools)
    assert len(server.seen) == 2
    second = _request_text(server, 1)
    assert "15" in second and "5" in second
    # The tools were offered with their JSON Schema.
    assert '"add"' in _request_text(server, 0) and "the first number" in _request_text(server, 0)


@pytest.mark.parametrize("server", PROVIDERS, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_structured_output(server: WireServer, stream: bool, tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"]}
    server.script(Turn('{"city": "Lyon", "population": 522000}'))
    path = write_manifest(tmp_path, {"m": model_entry(server)}, {"model": "m", "stream": stream, "output_schema": schema})
    result, _ = run(path, "Biggest city on the Rhone?")
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert result.output == {"city": "Lyon", "population": 522000}
    assert server.problems == []
    body = server.seen[0].body
    native = {
        "openai": lambda b: b["response_format"]["json_schema"]["schema"],
        "anthropic": lambda b: b["output_config"]["format"]["schema"],
        "gemini": lambda b: b["generationConfig"]["responseJsonSchema"],
    }[server.dialect.provider]
    assert native(body) == schema


@pytest.mark.parametrize("server", PROVIDERS, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_cached_tokens_are_reported_and_priced(server: WireServer, stream: bool, tmp_path: Path) -> None:
    server.script(Turn("Cached answer.", usage=(12_000, 300, 8_000)))
    path = write_manifest(tmp_path, {"m": model_entry(server)}, {"model": "m", "stream": stream})
    result, events = run(path)
    assert result.status == RunStatus.SUCCEEDED, result.error
    f = of_kind(events, "model.finished")[0]
    assert (f.input_tokens, f.output_tokens, f.cached_tokens) == (12_000, 300, 8_000)
    provider_id, model = PRICED[server.dialect.provider]
    expected = float(calc_price(GUsage(input_tokens=12_000, output_tokens=300, cache_read_tokens=8_000), model, provider_id=provider_id).total_price)
    assert f.cost_known and f.cost_usd == pytest.approx(expected, rel=1e-9)
    # Cached tokens are cheaper: the same usage uncached costs more.
    uncached = float(calc_price(GUsage(input_tokens=12_000, output_tokens=300), model, provider_id=provider_id).total_price)
    assert f.cost_usd < uncached
