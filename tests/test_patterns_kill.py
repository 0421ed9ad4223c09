"""Kill: killing a node's scope stops exactly its subtree; killing the run stops everything
within a second. Long-latency sim models keep every agent busy while we kill."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio

from conftest import ROOT
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import Runtime
from gogrid.events import Event, RunStatus
from pattern_support import write_manifest

SLOW = """\
version: 1
plugins: []
models:
  quick: {model: sim/quick, settings: {latency_ms: [1, 3], spawn_children: 2}}
  slow: {model: sim/slow, settings: {latency_ms: 5000}}
agents:
  starter: {model: quick, script: [go]}
  lead: {model: quick}
  sleeper: {model: slow}
  other: {model: slow}
  stage: {model: slow}
"""


async def _until(seen: Collector, test: Any, limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not test(seen.events):
            await anyio.sleep(0.01)


def _started(events: list[Event]) -> dict[str, Any]:
    return {e.span_id: e for e in events if e.kind in ("node.started", "agent.started")}


def _ended(events: list[Event]) -> dict[str, Any]:
    return {e.span_id: e for e in events if e.kind in ("node.finished", "agent.finished")}


def test_kill_a_subtree_then_the_run(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
workflow:
  graph:
    nodes:
      start: {agent: starter}
      crew: {dynamic: {orchestrator: lead, agents: [sleeper]}}
      panel:
        team:
          members:
            - agent: other
            - pipeline: {stages: [{agent: stage}]}
    edges: [{from: start, to: [crew, panel]}]
""", header=SLOW)

    async def go() -> None:
        rt = Runtime.from_file(path)
        seen = rt.bus.subscribe(Collector())
        assert isinstance(seen, Collector)
        async with rt:
            handle = rt.start("Do the work")
            # Both spawned children and both panel members are inside their 5 s model calls.
            await _until(seen, lambda ev: sum(1 for e in ev if e.kind == "model.started" and e.agent in ("child1-sleeper", "child2-sleeper", "other", "stage")) == 4)

            # Kill the orchestrator: it and its children stop; the panel goes on.
            lead = rt.kill(handle.run_id, node="graph/crew/lead", reason="operator")
            assert lead is not None
            subtree = {s.span_id for s in lead.walk()}
            assert len(subtree) == 3  # the orchestrator and its two children
            await _until(seen, lambda ev: subtree <= set(_ended(ev)), limit=1.0)
            ended = _ended(seen.events)
            assert ended[lead.span_id].status == RunStatus.KILLED
            assert {ended[s].status for s in subtree - {lead.span_id}} == {RunStatus.CANCELLED}
            panel_spans = {s for s, e in _started(seen.events).items() if "/panel" in e.path}
            assert len(panel_spans) == 4  # team, other, pipeline, stage
            assert not panel_spans & set(_ended(seen.events))
            assert all(s in rt.scopes for s in panel_spans)
            assert handle.result is None

            # Kill the run: everything left stops within a second.
            t0 = time.monotonic()
            assert rt.kill(handle.run_id, reason="stop everything") is not None
            with anyio.fail_after(5):
                result = await handle.wait()
            elapsed = time.monotonic() - t0
        assert elapsed < 1.0, elapsed
        assert result.status == RunStatus.KILLED
        started, ended = _started(seen.events), _ended(seen.events)
        assert set(started) == set(ended)  # every node and agent recorded an end
        assert {ended[s].status for s in panel_spans} <= {RunStatus.CANCELLED, RunStatus.KILLED}
        slow_calls = [e for e in seen.events if e.kind == "model.finished" and e.model == "slow"]  # type: ignore[attr-defined]
        assert slow_calls and all(e.status in ("killed", "cancelled") for e in slow_calls)  # type: ignore[attr-defined]

    anyio.run(go)


def test_kill_a_graph_branch_leaves_the_other_to_finish(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
workflow:
  graph:
    nodes:
      start: {agent: starter}
      stuck: {agent: sleeper}
      done: {agent: lead}
    edges: [{from: start, to: [stuck, done]}]
""", header=SLOW.replace("  lead: {model: quick}", "  lead: {model: quick, script: [{say: finished, latency_ms: 300}]}"))

    async def go() -> None:
        rt = Runtime.from_file(path)
        seen = rt.bus.subscribe(Collector())
        assert isinstance(seen, Collector)
        async with rt:
            handle = rt.start("x")
            await _until(seen, lambda ev: any(e.kind == "model.started" and e.agent == "stuck" for e in ev))
            assert rt.kill(handle.run_id, node="stuck") is not None
            with anyio.fail_after(5):
                result = await handle.wait()
        assert result.status == RunStatus.SUCCEEDED and result.output == "finished"
        ends = {e.path.rsplit("/", 1)[-1]: e.status for e in _ended(seen.events).values()}
        assert ends["stuck"] == RunStatus.KILLED and ends["done"] == RunStatus.SUCCEEDED

    anyio.run(go)


def test_killing_the_nested_sample_run_stops_it_within_a_second(tmp_path: Path) -> None:
    text = (ROOT / "sample_configs" / "nested.yaml").read_text()
    slow = tmp_path / "nested-slow.yaml"
    slow.write_text(text.replace("latency_ms: [5, 30]", "latency_ms: 5000"))
    assert slow.read_text() != text

    async def go() -> None:
        rt = Runtime.from_file(slow)
        seen = rt.bus.subscribe(Collector())
        assert isinstance(seen, Collector)
        async with rt:
            handle = rt.start("Design onboarding")
            await _until(seen, lambda ev: any(e.kind == "agent.started" and e.name == "intake" for e in ev))
            t0 = time.monotonic()
            rt.kill(handle.run_id, reason="stop")
            with anyio.fail_after(5):
                result = await handle.wait()
            elapsed = time.monotonic() - t0
        assert elapsed < 1.0 and result.status == RunStatus.KILLED
        assert set(_started(seen.events)) == set(_ended(seen.events))
        assert not rt.scopes

    anyio.run(go)


def test_a_join_fires_with_what_arrived_when_a_feeding_branch_is_killed(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
workflow:
  graph:
    nodes:
      start: {agent: starter}
      stuck: {agent: sleeper}
      done: {agent: lead}
      both: {join: [stuck, done], merge: list}
    edges:
      - {from: start, to: [stuck, done]}
      - {from: stuck, to: both}
      - {from: done, to: both}
""", header=SLOW.replace("  lead: {model: quick}", "  lead: {model: quick, script: [finished]}"))

    async def go() -> None:
        rt = Runtime.from_file(path)
        seen = rt.bus.subscribe(Collector())
        assert isinstance(seen, Collector)
        async with rt:
            handle = rt.start("x")
            await _until(seen, lambda ev: any(e.kind == "agent.finished" and e.path.endswith("/done") for e in ev)
                         and any(e.kind == "model.started" and e.agent == "stuck" for e in ev))
            assert rt.kill(handle.run_id, node="stuck") is not None
            with anyio.fail_after(5):
                result = await handle.wait()
        assert result.status == RunStatus.SUCCEEDED and result.output == ["finished"]
        assert any("join both fires without stuck" in e.message for e in seen.events if e.kind == "log")  # type: ignore[attr-defined]

    anyio.run(go)
