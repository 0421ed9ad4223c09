"""Token counts say how they were made: exact (the provider reported them), counted (tiktoken
with the model's encoding) or estimated (no encoding available offline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SHARED
from gogrid.messages import Message
from gogrid.models import tokens
from gogrid.models.tokens import count_prompt, count_text, encoding_name_for, estimate_tokens
from providers.harness import model_entry, of_kind, run, write_manifest
from providers.wire import Turn, WireServer

TIKTOKEN = SHARED / "tiktoken"


@pytest.fixture
def shared_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not TIKTOKEN.is_dir():
        pytest.skip("the shared tiktoken cache is not on this machine")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(TIKTOKEN))
    tokens._load.cache_clear()
    yield
    tokens._load.cache_clear()


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("GOGRID_TIKTOKEN_DOWNLOAD", raising=False)
    tokens._load.cache_clear()
    yield
    tokens._load.cache_clear()


@pytest.mark.parametrize(("model", "encoding"), [("gpt-4o", "o200k_base"), ("gpt-4o-mini", "o200k_base"), ("gpt-4", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base")])
def test_counts_are_exact_with_the_shared_encodings(shared_cache: None, model: str, encoding: str) -> None:
    import tiktoken

    assert encoding_name_for(model) == encoding
    text = "GoGrid counts tokens before every call, so budgets can reserve them."
    n, kind = count_text(text, model)
    assert kind == "counted"
    assert n == len(tiktoken.get_encoding(encoding).encode(text))
    assert count_text("hello world", model) == (2, "counted")


def test_without_encodings_the_estimate_runs_and_says_so(empty_cache: None) -> None:
    text = "An estimate is about four characters a token."
    assert count_text(text, "gpt-4o") == (estimate_tokens(text), "estimated")
    n, kind = count_prompt("system", [Message("user", text)], [], "gpt-4")
    assert kind == "estimated" and n > 0


@pytest.fixture
def silent_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WireServer]:
    """A local server that reports no usage at all, as some do."""
    with WireServer("openai", key="k", model="gpt-4o-mini") as s:
        monkeypatch.setenv(s.dialect.key_env, "k")
        yield s


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_server_without_usage_is_counted_with_tiktoken(shared_cache: None, silent_server: WireServer, stream: bool, tmp_path: Path) -> None:
    import tiktoken

    silent_server.script(Turn("Forty-two is the answer.", usage=None))
    result, events = run(write_manifest(tmp_path, {"m": model_entry(silent_server, settings={"stream_usage": False})}, {"model": "m", "stream": stream}))
    assert result.status == "succeeded", result.error
    f = of_kind(events, "model.finished")[0]
    assert f.token_count == "counted"
    assert f.output_tokens == len(tiktoken.get_encoding("o200k_base").encode("Forty-two is the answer."))
    assert f.input_tokens > 0 and f.cost_known  # counted usage is still priced


def test_a_server_without_usage_and_no_encoding_is_estimated(empty_cache: None, silent_server: WireServer, tmp_path: Path) -> None:
    silent_server.script(Turn("Forty-two is the answer.", usage=None))
    result, events = run(write_manifest(tmp_path, {"m": model_entry(silent_server)}, {"model": "m", "stream": False}))
    assert result.status == "succeeded", result.error
    f = of_kind(events, "model.finished")[0]
    assert f.token_count == "estimated" and f.output_tokens == estimate_tokens("Forty-two is the answer.")


def test_other_providers_models_are_estimates_even_with_an_encoding(shared_cache: None) -> None:
    import tiktoken

    text = "Claude and Gemini use tokenizers of their own."
    n, kind = count_text(text, "claude-haiku-4-5")
    assert kind == "estimated"  # close (o200k_base), but not their tokenizer
    assert n == len(tiktoken.get_encoding("o200k_base").encode(text))
