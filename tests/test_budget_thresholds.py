"""Acceptance 4: soft thresholds fire once each, in order, and reach a loopback webhook as JSON.
Also: `on_exceed: finish`, unknown prices, live limit changes and the manifest's error messages."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from gogrid.config.errors import ManifestError
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import Runtime
from gogrid.events import RunStatus
from gogrid.host import Host

PIPELINE = """\
version: 1
name: th
plugins: []
models:
  m: {{model: sim/m, settings: {{seed: 2, latency_ms: 0, price_input: 10, price_output: 20}}}}
agents:
  a1: {{model: m, max_tokens: 200}}
  a2: {{model: m, max_tokens: 200}}
  a3: {{model: m, max_tokens: 200}}
  a4: {{model: m, max_tokens: 200}}
  a5: {{model: m, max_tokens: 200}}
workflow:
  pipeline:
    stages: [{{agent: a1}}, {{agent: a2}}, {{agent: a3}}, {{agent: a4}}, {{agent: a5}}]
budgets:
{budgets}
"""


class Hook:
    """A loopback webhook that keeps every JSON body it receives."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append({"content_type": self.headers["content-type"], **json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _write(tmp_path: Path, budgets: str) -> Path:
    path = tmp_path / "th.yaml"
    path.write_text(PIPELINE.format(budgets=budgets))
    return path


def _run_in_host(path: Path) -> tuple[Any, list[Any], Host]:
    seen = Collector(lambda e: e.kind == "budget")

    async def go() -> tuple[Any, Host]:
        async with Host() as host:
            host.bus.subscribe(seen)
            rt = host.load(path)
            result = await rt.run("Plan the launch")
        return result, host

    result, host = anyio.run(go)
    return result, seen.events, host


def test_thresholds_fire_once_each_in_order_and_reach_the_webhook(tmp_path: Path) -> None:
    hook = Hook()
    try:
        path = _write(tmp_path, f"  webhook: {hook.url}\n  run: {{requests: 4, usd: 1}}")
        result, events, _ = _run_in_host(path)
    finally:
        hook.close()
    assert result.status == RunStatus.BUDGET_EXCEEDED

    requests = [(e.action, e.threshold) for e in events if e.metric == "requests" and e.action in ("threshold", "exceeded")]
    assert requests == [("threshold", 0.5), ("threshold", 0.8), ("threshold", 1.0), ("exceeded", None)]
    # The USD budget is far from its limit: no threshold of it fired, and none fired twice.
    usd = [e.threshold for e in events if e.metric == "usd" and e.action == "threshold"]
    assert usd == sorted(set(usd))
    # Four calls fit; the fifth was refused before it was made.
    assert sum(1 for e in events if e.action == "settle" and e.metric == "requests") == 4

    got = [(b["action"], b["metric"], b["threshold"]) for b in hook.received]
    assert got == [("threshold", "requests", 0.5), ("threshold", "requests", 0.8), ("threshold", "requests", 1.0), ("exceeded", "requests", None)]
    assert all(b["content_type"] == "application/json" and b["kind"] == "budget" and b["run_id"] == result.run_id for b in hook.received)
    assert "run th: the limit of 4 requests would be exceeded" in hook.received[-1]["reason"]


def test_a_dead_webhook_never_holds_up_the_run(tmp_path: Path) -> None:
    path = _write(tmp_path, "  webhook: http://127.0.0.1:9/nobody\n  run: {requests: 2}")
    result, _, host = _run_in_host(path)
    assert result.status == RunStatus.BUDGET_EXCEEDED
    notifier = next(s for s in host.services if type(s).__name__ == "WebhookNotifier")
    assert notifier.failed >= 3 and notifier.sent == 0  # type: ignore[attr-defined]


def test_on_exceed_finish_gives_the_agent_a_last_tool_less_turn(tmp_path: Path) -> None:
    # A USD limit that holds a couple of full calls, then only a short final answer.
    path = _write(tmp_path, "  on_exceed: finish\n  run: {usd: 0.012}")
    seen = Collector()

    async def go() -> Any:
        rt = Runtime.from_file(path)
        rt.bus.subscribe(seen)
        async with rt:
            return await rt.run("Plan the launch")

    result = anyio.run(go)
    notices = [e for e in seen.events if e.kind == "message" and e.sender == "budget"]
    assert notices and "budget for this work is exhausted" in notices[0].content
    settled = sum(e.cost_usd or 0 for e in seen.events if e.kind == "model.finished")
    assert settled <= 0.012
    assert result.status in (RunStatus.SUCCEEDED, RunStatus.BUDGET_EXCEEDED)


def test_unknown_price_with_a_usd_budget_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(
        "version: 1\nplugins: []\nmodels:\n  x: {model: openai/some-unpriced-model, base_url: 'http://127.0.0.1:9/v1'}\n"
        "agents:\n  a: {model: x}\nworkflow: {agent: a}\nbudgets:\n  run: {usd: 1}\n"
    )

    async def go() -> Any:
        async with Runtime.from_file(path) as rt:
            return await rt.run("hi")

    result = anyio.run(go)
    assert result.status == RunStatus.BUDGET_EXCEEDED
    assert "has no known price" in result.error and "price:" in result.error


def test_budget_references_are_checked_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "  agents: {writer: {usd: 1}}\n  models: {mm: {usd: 1}}")
    with pytest.raises(ManifestError) as info:
        Runtime.from_file(path)
    text = str(info.value)
    assert "th.yaml:16:" in text and "budgets.agents.writer: unknown agent 'writer'" in text
    assert "budgets.models.mm: unknown model 'mm' (did you mean 'm'?)" in text


def test_set_limit_on_a_live_run_takes_effect(tmp_path: Path) -> None:
    path = _write(tmp_path, "  run: {usd: 5}")

    async def go() -> Any:
        async with Host() as host:
            rt = host.load(path)
            handle = rt.start("Plan")
            # Before any call is made, cut the run to two requests.
            host.governor.set_limit("th", "requests", 2, target=handle.scope, runtime=rt)
            return await handle.wait(), host.governor.snapshot()

    result, snapshot = anyio.run(go)
    assert result.status == RunStatus.BUDGET_EXCEEDED
    requests = next(s for s in snapshot if s.metric == "requests")
    assert requests.spent == 2 and requests.limit == 2 and requests.thresholds_crossed == (0.5, 0.8, 1.0)


def test_the_simulated_model_stops_at_max_tokens_like_a_provider(tmp_path: Path) -> None:
    """Budgets reserve `max_tokens` of output; the sim, like real providers, never exceeds it."""
    path = tmp_path / "short.yaml"
    path.write_text(
        "version: 1\nplugins: []\nmodels:\n  m: {model: sim/m, settings: {latency_ms: 0, answer_words: 80}}\n"
        "agents:\n  a: {model: m, max_tokens: 6}\nworkflow: {agent: a}\nbudgets:\n  run: {tokens: 400}\n"
    )
    seen = Collector(lambda e: e.kind == "model.finished")

    async def go() -> Any:
        rt = Runtime.from_file(path)
        rt.bus.subscribe(seen)
        async with rt:
            return await rt.run("Write a long plan")

    result = anyio.run(go)
    assert result.status == RunStatus.SUCCEEDED
    (call,) = seen.events
    assert call.output_tokens <= 6 and call.finish_reason == "length"  # type: ignore[attr-defined]


class _Broken:
    """A provider with a bug: it raises something that is not a ModelError."""

    provider = "broken"

    def __init__(self, name: str) -> None:
        self.name = name
        self.price = None

    async def request(self, req: Any, *, on_delta: Any = None, on_attempt: Any = None) -> Any:
        raise RuntimeError("provider bug")

    async def aclose(self) -> None:
        return None


def test_a_failing_provider_never_leaves_a_reservation_held(tmp_path: Path) -> None:
    from gogrid.governance import BudgetGovernor
    from gogrid.models.registry import PROVIDERS

    PROVIDERS["broken"] = lambda name, mdef: _Broken(name)  # type: ignore[assignment,return-value]
    try:
        path = tmp_path / "b.yaml"
        path.write_text(
            "version: 1\nplugins: []\nmodels:\n  x: {model: broken/x, price: {input: 1, output: 1}}\n"
            "agents:\n  a: {model: x}\nworkflow: {agent: a}\nbudgets:\n  run: {usd: 1, tokens: 100000}\n"
        )
        governor = BudgetGovernor()

        async def go() -> Any:
            async with Runtime.from_file(path, governor=governor) as rt:
                return await rt.run("hi")

        result = anyio.run(go)
    finally:
        PROVIDERS.pop("broken", None)
    assert result.status == RunStatus.FAILED and "provider bug" in (result.error or "")
    assert {(s.metric, s.reserved) for s in governor.snapshot()} == {("usd", 0.0), ("tokens", 0.0)}


def test_manifest_budget_mistakes_name_file_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "  rolling: [{tokens: 5000, per: day}]\n  thresholds: [0.9, 0.5]\n  run: {usd: '5 euros'}")
    with pytest.raises(ManifestError) as info:
        Runtime.from_file(path)
    lines = str(info.value).splitlines()
    assert any(":16:" in line and "budgets.rolling[0]: rolling budgets count USD" in line for line in lines), lines
    assert any(":17:" in line and "budgets.thresholds: thresholds must be increasing" in line for line in lines), lines
    assert any(":18:" in line and "budgets.run.usd: expected an amount in USD such as 5 or '$0.50', got '5 euros'" in line for line in lines), lines


def test_prompt_margin_from_the_manifest_is_reserved(tmp_path: Path) -> None:
    path = _write(tmp_path, "  prompt_margin: 0.5\n  run: {tokens: 100000}")
    seen = Collector(lambda e: e.kind in ("budget", "model.started"))

    async def go() -> Any:
        rt = Runtime.from_file(path)
        rt.bus.subscribe(seen)
        async with rt:
            return await rt.run("Plan")

    anyio.run(go)
    started = next(e for e in seen.events if e.kind == "model.started")
    reserved = next(e for e in seen.events if e.kind == "budget" and e.action == "reserve")
    # At least 1.5 times the counted prompt, plus max_tokens (200) of output.
    assert reserved.amount >= started.prompt_tokens * 1.5 + 200
