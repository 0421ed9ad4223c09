"""Faults against real HTTP: each try is a model.attempt event, and the call ends with an honest
outcome (retried and answered, or failed with a clear error and what was already received)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gogrid.events import RunStatus
from providers.harness import attempts, model_entry, of_kind, run, write_manifest
from providers.wire import Fault, Turn, WireServer

PROVIDERS = ["openai", "anthropic", "gemini"]


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, WireServer]]:
    with WireServer("openai", key="ok-1") as o, WireServer("anthropic", key="ok-2") as a, WireServer("gemini", key="ok-3") as g:
        for s in (o, a, g):
            monkeypatch.setenv(s.dialect.key_env, s.key or "")
        yield {"openai": o, "anthropic": a, "gemini": g}


def _one(tmp_path: Path, server: WireServer, *, stream: bool = False, **model: object) -> Path:
    return write_manifest(tmp_path, {"m": model_entry(server, **model)}, {"model": "m", "stream": stream})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_is_retried_after_the_retry_after_delay(servers: dict[str, WireServer], provider: str, tmp_path: Path) -> None:
    s = servers[provider].script(Fault(429, "slow down", headers={"retry-after": "0.4"}), Turn("after the wait"))
    result, events = run(_one(tmp_path, s))
    assert result.status == RunStatus.SUCCEEDED and result.output == "after the wait"
    assert attempts(events) == [(provider, "retry", 429), (provider, "ok", 200)]
    retry = of_kind(events, "model.attempt")[0]
    assert retry.wait_s == pytest.approx(0.4) and "slow down" in (retry.error or "")
    assert s.seen[1].at - s.seen[0].at >= 0.35  # it really waited
    assert of_kind(events, "model.finished")[0].attempts == 2


def test_500_and_503_are_retried_with_backoff(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["openai"].script(Fault(500, "boom"), Fault(503, "busy"), Turn("third time lucky"))
    result, events = run(_one(tmp_path, s, settings={"retry_backoff": 0.05, "retry_backoff_max": 1.0}))
    assert result.output == "third time lucky"
    assert attempts(events) == [("openai", "retry", 500), ("openai", "retry", 503), ("openai", "ok", 200)]
    waits = [e.wait_s for e in of_kind(events, "model.attempt")[:2]]
    # Exponential with jitter: the n-th wait lies in [base/2, base * 2**(n-1)].
    assert 0.025 <= waits[0] <= 0.05 and 0.025 <= waits[1] <= 0.1


def test_a_400_is_not_retried(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["anthropic"].script(Fault(400, "max_tokens: must be at most 8192"), Turn("never sent"))
    result, events = run(_one(tmp_path, s))
    assert result.status == RunStatus.FAILED
    assert len(s.seen) == 1
    assert attempts(events) == [("anthropic", "error", 400)]
    assert "HTTP 400 bad request: max_tokens: must be at most 8192 (invalid_request_error)" in (result.error or "")
    assert of_kind(events, "model.finished")[0].status == "error"


def test_retries_end_and_the_last_error_is_reported(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["gemini"].script(*[Fault(503, "The model is overloaded.")] * 3)
    result, events = run(_one(tmp_path, s, max_retries=2))
    assert result.status == RunStatus.FAILED and len(s.seen) == 3
    assert [o for _, o, _ in attempts(events)] == ["retry", "retry", "error"]
    assert "The model is overloaded. (UNAVAILABLE)" in (result.error or "") and "gave up after 3 attempt(s)" in (result.error or "")


def test_a_timeout(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["openai"].script(Fault(hang=10), Fault(hang=10))
    started = time.monotonic()
    result, events = run(_one(tmp_path, s, timeout=0.3, max_retries=1))
    assert time.monotonic() - started < 8  # nobody waited for the server
    assert result.status == RunStatus.FAILED and "timeout" in (result.error or "")
    assert [o for _, o, _ in attempts(events)] == ["retry", "error"]
    assert of_kind(events, "model.finished")[0].status == "error"


@pytest.mark.parametrize(("provider", "keep"), [("openai", 3), ("anthropic", 5), ("gemini", 2)])
@pytest.mark.parametrize("clean", [True, False], ids=["clean-close", "mid-event"])
def test_a_truncated_stream_keeps_the_partial_text_and_tokens(servers: dict[str, WireServer], provider: str, keep: int, clean: bool, tmp_path: Path) -> None:
    s = servers[provider].script(Fault(truncate=Turn("Alpha beta gamma delta epsilon zeta", usage=(30, 9, 0)), keep=keep, clean_close=clean))
    result, events = run(_one(tmp_path, s, stream=True))
    assert result.status == RunStatus.FAILED
    assert "truncated" in (result.error or "") or "cut off" in (result.error or "")
    assert len(s.seen) == 1  # output was already streamed: a retry would repeat it
    assert attempts(events) == [(provider, "error", None)]
    finished = of_kind(events, "model.finished")[0]
    streamed = "".join(e.text for e in of_kind(events, "model.delta"))
    assert finished.status == "error" and streamed and "Alpha beta gamma delta epsilon zeta".startswith(streamed)
    assert finished.text == streamed and finished.output_tokens > 0
    if provider == "anthropic":  # message_start had reported the prompt
        assert finished.input_tokens == 30


def test_a_stream_cut_before_any_output_is_retried(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["openai"].script(Fault(truncate=Turn("lost"), keep=1), Turn("second try"))
    result, events = run(_one(tmp_path, s, stream=True))
    assert result.output == "second try"
    assert attempts(events) == [("openai", "retry", None), ("openai", "ok", 200)]


def test_a_truncated_json_body_is_retried(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["anthropic"].script(Fault(truncate=Turn("half")), Turn("whole"))
    result, events = run(_one(tmp_path, s))
    assert result.output == "whole"
    assert [o for _, o, _ in attempts(events)] == ["retry", "ok"]


def test_an_invalid_json_body(servers: dict[str, WireServer], tmp_path: Path) -> None:
    s = servers["openai"].script(Fault(invalid_json=True), Turn("valid now"))
    result, events = run(_one(tmp_path, s))
    assert result.output == "valid now"
    first = of_kind(events, "model.attempt")[0]
    assert first.outcome == "retry" and "invalid JSON in the response body" in (first.error or "")

    s.script(Fault(invalid_json=True))
    result, events = run(_one(tmp_path, s, max_retries=0))
    assert result.status == RunStatus.FAILED and "invalid JSON" in (result.error or "")
    assert [o for _, o, _ in attempts(events)] == ["error"]


def _chain(tmp_path: Path, primary: WireServer, fallback: WireServer, **primary_model: object) -> Path:
    models = {"primary": model_entry(primary, **primary_model), "backup": model_entry(fallback)}
    return write_manifest(tmp_path, models, {"model": ["primary", "backup"]})


def test_fallback_takes_over_at_once_on_a_non_retryable_error(servers: dict[str, WireServer], tmp_path: Path) -> None:
    servers["openai"].script(Fault(404, "The model `gpt-9` does not exist"))
    servers["anthropic"].script(Turn("the backup answered"))
    result, events = run(_chain(tmp_path, servers["openai"], servers["anthropic"]))
    assert result.output == "the backup answered"
    assert attempts(events) == [("openai", "error", 404), ("anthropic", "fallback", 404), ("anthropic", "ok", 200)]
    finished = of_kind(events, "model.finished")[0]
    assert finished.provider == "anthropic" and finished.status == "ok"


def test_fallback_takes_over_after_the_primary_retries_are_exhausted(servers: dict[str, WireServer], tmp_path: Path) -> None:
    servers["gemini"].script(*[Fault(500, "internal")] * 2)
    servers["openai"].script(Turn("openai to the rescue"))
    result, events = run(_chain(tmp_path, servers["gemini"], servers["openai"], max_retries=1))
    assert result.output == "openai to the rescue"
    assert attempts(events) == [("gemini", "retry", 500), ("gemini", "error", 500), ("openai", "fallback", 500), ("openai", "ok", 200)]


def test_a_long_retry_after_moves_to_the_fallback_without_waiting(servers: dict[str, WireServer], tmp_path: Path) -> None:
    servers["anthropic"].script(Fault(429, "rate limited", headers={"retry-after": "120"}))
    servers["gemini"].script(Turn("no waiting"))
    started = time.monotonic()
    result, events = run(_chain(tmp_path, servers["anthropic"], servers["gemini"], settings={"max_retry_wait": 5}))
    assert time.monotonic() - started < 5  # the layers did not add up to a two-minute wait
    assert result.output == "no waiting"
    first = of_kind(events, "model.attempt")[0]
    assert first.outcome == "error" and "exceeds max_retry_wait" in (first.error or "")


def test_gogrid_run_shows_retries_and_fallbacks(servers: dict[str, WireServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gogrid.cli import main

    servers["openai"].script(Fault(503, "busy"), Fault(400, "bad"))
    servers["gemini"].script(Turn("fine"))
    path = _chain(tmp_path, servers["openai"], servers["gemini"])
    assert main(["run", str(path), "-i", "hi", "--no-db"]) == 0
    err = capsys.readouterr().err
    assert "retry openai/test-model in " in err and "HTTP 503 unavailable: busy" in err
    assert "fallback to gemini/test-model" in err
