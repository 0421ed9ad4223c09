"""The single-agent loop seen through its events: order, span tree, concurrent tool calls, tool
failures fed back to the model, structured output retries, max_turns, and cancellation."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from conftest import ROOT
from gogrid.config.loader import parse_manifest
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import Runtime
from gogrid.events import Event, RunStatus
from gogrid.tools.base import Tool, tool
from gogrid.tools.plugins import ToolRegistry

# --- tools the tests hand to the agent --------------------------------------------------------

SEEN: dict[str, Any] = {}


@tool
async def rendezvous(tag: str) -> str:
    """Returns only once two calls are in flight at the same moment.

    Args:
        tag: a label for the call.
    """
    SEEN["arrived"] = SEEN.get("arrived", 0) + 1
    if SEEN["arrived"] >= 2:
        SEEN["both"].set()
    await SEEN["both"].wait()
    return f"met {tag}"


@tool
def explode(reason: str) -> str:
    """Always fails.

    Args:
        reason: what to complain about.
    """
    raise RuntimeError(f"boom: {reason}")


@tool
async def stall(seconds: float) -> str:
    """Sleeps, and records whether it was cancelled.

    Args:
        seconds: how long to sleep.
    """
    SEEN["stall_started"] = SEEN.get("stall_started", 0) + 1
    try:
        await anyio.sleep(seconds)
    finally:
        SEEN["stall_finished"] = SEEN.get("stall_finished", 0) + 1
    return "woke up"


@tool
def add(a: int, b: int) -> int:
    """Adds two integers.

    Args:
        a: first.
        b: second.
    """
    return a + b


def registry(*tools: Tool) -> ToolRegistry:
    reg = ToolRegistry()
    for t in tools:
        reg.add(t, "tests")
    return reg


def make_runtime(tmp_path: Path, agent_yaml: str, *, latency: str = "1") -> Runtime:
    text = (
        "version: 1\nplugins: []\nmodels:\n  m:\n    model: sim/test\n"
        f"    settings: {{seed: 1, latency_ms: {latency}}}\nagents:\n  a:\n    model: m\n"
        + "\n".join("    " + line for line in agent_yaml.strip().splitlines())
        + "\nworkflow: {agent: a}\n"
    )
    loaded = parse_manifest(text, str(tmp_path / "m.yaml"))
    return Runtime(loaded, tools=registry(rendezvous, explode, stall, add))


def run(rt: Runtime, input: str = "go") -> tuple[Any, list[Event]]:
    seen = rt.bus.subscribe(Collector())

    async def go() -> Any:
        async with rt:
            return await rt.run(input)

    result = anyio.run(go)
    return result, seen.events  # type: ignore[attr-defined]


def of(events: list[Event], kind: str) -> list[Any]:
    return [e for e in events if e.kind == kind]


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    SEEN.clear()


# --- the event sequence and the span tree --------------------------------------------------------


def test_a_run_with_tool_calls_emits_the_expected_sequence_and_span_tree(tmp_path: Path) -> None:
    SEEN["both"] = anyio.Event()
    rt = make_runtime(tmp_path, """
tools: [add]
script:
  - tools: [{name: add, args: {a: 2, b: 3}}, {name: add, args: {a: 10, b: 20}}]
  - say: The sums are 5 and 30.
""")
    result, events = run(rt)
    assert result.status == RunStatus.SUCCEEDED and result.output == "The sums are 5 and 30."

    kinds = [e.kind for e in events if e.kind not in ("model.delta", "model.attempt")]
    assert kinds == [
        "run.started", "agent.started", "message",
        "model.started", "model.finished", "message",
        "tool.started", "tool.started", "tool.finished", "tool.finished", "message", "message",
        "model.started", "model.finished", "message",
        "agent.finished", "run.finished",
    ]
    run_started, run_finished = of(events, "run.started")[0], of(events, "run.finished")[0]
    agent_started, agent_finished = of(events, "agent.started")[0], of(events, "agent.finished")[0]
    assert run_started.parent_span_id is None and run_finished.span_id == run_started.span_id
    assert agent_started.parent_span_id == run_started.span_id
    assert agent_finished.span_id == agent_started.span_id and agent_finished.turns == 2
    assert {e.run_id for e in events} == {result.run_id}

    # Model calls and tool calls are children of the agent; each pair shares its own span.
    for start_kind, end_kind in (("model.started", "model.finished"), ("tool.started", "tool.finished")):
        starts, ends = of(events, start_kind), of(events, end_kind)
        assert {e.parent_span_id for e in starts + ends} == {agent_started.span_id}
        assert [e.span_id for e in starts] == [e.span_id for e in sorted(ends, key=lambda e: [s.call_id for s in starts].index(e.call_id))]
    spans = [e.span_id for e in of(events, "model.started") + of(events, "tool.started")]
    assert len(set(spans)) == len(spans) and agent_started.span_id not in spans

    # Streamed deltas and attempts belong to their model call's span.
    model_spans = {e.span_id for e in of(events, "model.started")}
    assert of(events, "model.delta") and {e.span_id for e in of(events, "model.delta")} <= model_spans
    assert {e.span_id for e in of(events, "model.attempt")} <= model_spans

    # Messages are the agent's conversation: user, assistant (tool calls), tool results, answer.
    messages = of(events, "message")
    assert [m.role for m in messages] == ["user", "assistant", "tool", "tool", "assistant"]
    assert {m.span_id for m in messages} == {agent_started.span_id}
    assert [c["name"] for c in messages[1].tool_calls] == ["add", "add"]
    assert sorted(m.content for m in messages[2:4]) == ["30", "5"]
    assert {e.result for e in of(events, "tool.finished")} == {5, 30}

    # Call ids are stable and derived from the position in the run.
    assert [e.call_id for e in of(events, "model.started")] == ["m/a#1", "m/a#2"]
    assert {e.call_id for e in of(events, "tool.started")} == {"m/a#call_1_0", "m/a#call_1_1"}


def test_several_tool_calls_in_one_turn_run_concurrently(tmp_path: Path) -> None:
    SEEN["both"] = anyio.Event()
    rt = make_runtime(tmp_path, """
tools: [rendezvous]
tool_timeout: 5
script:
  - tools: [{name: rendezvous, args: {tag: x}}, {name: rendezvous, args: {tag: y}}]
  - say: both met
""")
    result, events = run(rt)
    # Run one after the other, the first call would wait for the second forever and time out.
    assert result.status == RunStatus.SUCCEEDED
    assert [e.status for e in of(events, "tool.finished")] == ["ok", "ok"]
    assert sorted(e.result for e in of(events, "tool.finished")) == ["met x", "met y"]


def test_tool_errors_and_timeouts_go_back_to_the_model(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, """
tools: [explode, stall, add]
tool_timeout: 0.2
script:
  - tools: [{name: explode, args: {reason: disk full}}, {name: stall, args: {seconds: 30}}]
  - {tool: add, args: {a: 1}}
  - {tool: nope, args: {}}
  - malformed: add
  - say: recovered
""")
    result, events = run(rt)
    assert result.status == RunStatus.SUCCEEDED and result.output == "recovered"
    statuses = {e.tool: e.status for e in of(events, "tool.finished")[:2]}
    assert statuses == {"explode": "error", "stall": "timeout"}
    assert [e.status for e in of(events, "tool.finished")[2:]] == ["invalid", "denied", "invalid"]
    tool_messages = [m.content for m in of(events, "message") if m.role == "tool"]
    assert any("boom: disk full" in c for c in tool_messages)
    assert any("timed out after 0.2s" in c for c in tool_messages)
    assert any("invalid arguments for add: b: Field required" in c for c in tool_messages)
    assert any("'nope' is not available" in c for c in tool_messages)
    assert any("not valid JSON" in c for c in tool_messages)
    assert SEEN["stall_finished"] == 1  # the timed-out tool was really stopped


def test_structured_output_is_retried_then_accepted(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, """
output_schema: {type: object, required: [n], properties: {n: {type: integer}}}
output_retries: 2
script:
  - say: "not json at all"
  - json: {n: "three"}
  - json: {n: 3}
""")
    result, events = run(rt)
    assert result.status == RunStatus.SUCCEEDED and result.output == {"n": 3}
    fixes = [m.content for m in of(events, "message") if m.role == "user"][1:]
    assert len(fixes) == 2 and "not valid JSON" in fixes[0] and "$.n: 'three' is not of type 'integer'" in fixes[1]


def test_structured_output_fails_cleanly_after_the_bound(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, """
output_schema: {type: object, required: [n]}
output_retries: 1
script:
  - json: {m: 1}
  - json: {m: 2}
  - json: {n: 3}
""")
    result, events = run(rt)
    assert result.status == RunStatus.FAILED
    assert "does not match the output schema" in (result.error or "") and "'n' is a required property" in (result.error or "")
    assert len(of(events, "model.started")) == 2
    assert of(events, "agent.finished")[0].status == RunStatus.FAILED


def test_max_turns_stops_a_model_that_never_answers(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, """
tools: [add]
max_turns: 3
script:
  - {tool: add, args: {a: 1, b: 1}}
  - {tool: add, args: {a: 1, b: 1}}
  - {tool: add, args: {a: 1, b: 1}}
  - say: too late
""")
    result, events = run(rt)
    assert result.status == RunStatus.FAILED and "max_turns (3)" in (result.error or "")
    assert len(of(events, "model.started")) == 3


def test_the_unscripted_sim_calls_its_tools_with_valid_arguments(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, "tools: [add]\n")
    rt.models.handle("m").model.settings.parallel_tools = 1  # type: ignore[attr-defined]
    result, events = run(rt, "add some numbers")
    assert result.status == RunStatus.SUCCEEDED
    assert [e.status for e in of(events, "tool.finished")] == ["ok"]
    assert "add" in result.output  # the answer quotes the tool it used


# --- cancellation -------------------------------------------------------------------------------


def _cancel_when(rt: Runtime, ready: Callable[[list[Event]], bool]) -> tuple[Any, list[Event], float, list[asyncio.Task[Any]]]:
    seen = rt.bus.subscribe(Collector())
    events: list[Event] = seen.events  # type: ignore[attr-defined]

    async def go() -> tuple[Any, float, list[asyncio.Task[Any]]]:
        async with rt:
            before = asyncio.all_tasks()
            handle = rt.start("go")
            with anyio.fail_after(10):
                while not ready(events):
                    await anyio.sleep(0.01)
            started = time.perf_counter()
            assert rt.cancel(handle.run_id, "stop requested")
            with anyio.fail_after(5):
                result = await handle.wait()
            elapsed = time.perf_counter() - started
            # Every task the run started has ended by the time it reports its end.
            await anyio.sleep(0)
            left = [t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()]
            return result, elapsed, left

    result, elapsed, left = anyio.run(go)
    return result, events, elapsed, left


def test_cancel_during_slow_tools_stops_everything_within_a_second(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, """
tools: [stall]
script:
  - tools: [{name: stall, args: {seconds: 60}}, {name: stall, args: {seconds: 60}}]
  - say: never
""")
    result, events, elapsed, left = _cancel_when(rt, lambda ev: SEEN.get("stall_started") == 2)
    assert result.status == RunStatus.CANCELLED and result.error == "stop requested"
    assert elapsed < 1.0
    assert left == []
    assert SEEN["stall_finished"] == 2
    assert [e.status for e in of(events, "tool.finished")] == ["cancelled", "cancelled"]
    assert of(events, "agent.finished")[0].status == RunStatus.CANCELLED
    final = of(events, "run.finished")[0]
    assert final.status == RunStatus.CANCELLED and events[-1] is final


def test_cancel_during_a_long_model_call(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, "stream: false\n", latency="60000")
    result, events, elapsed, left = _cancel_when(rt, lambda ev: any(e.kind == "model.started" for e in ev))
    assert result.status == RunStatus.CANCELLED and elapsed < 1.0 and left == []
    assert of(events, "model.finished")[0].status == "cancelled"
    assert of(events, "run.finished")[0].status == RunStatus.CANCELLED


def test_ctrl_c_on_a_headless_run_exits_130_and_logs_cancelled(tmp_path: Path) -> None:
    manifest = tmp_path / "slow.yaml"
    manifest.write_text(
        "version: 1\nplugins: []\nmodels:\n  slow: {model: sim/slow, settings: {latency_ms: 60000}}\n"
        "agents:\n  a: {model: slow, stream: false}\nworkflow: {agent: a}\n"
    )
    log = tmp_path / "events.jsonl"
    script = Path(sys.executable).parent / "gogrid"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    env.pop("GOGRID_DB", None)  # the run records into ./.gogrid under tmp_path
    proc = subprocess.Popen([*cmd, "run", str(manifest), "-i", "hello", "--log-file", str(log)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the first progress line: the agent has started
        assert line.startswith("> agent"), line
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "cancelled" in err
    events = [json.loads(ln) for ln in log.read_text().splitlines()]
    assert events[0]["kind"] == "run.started"
    assert events[-1]["kind"] == "run.finished" and events[-1]["status"] == "cancelled"
    assert "SIGINT" in events[-1]["error"]
