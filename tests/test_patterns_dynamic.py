"""Dynamic: spawn tools, futures, limits (depth, total, concurrency) answered with clear errors,
permissions that only narrow, specs validated like manifest sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gogrid.events import RunStatus
from pattern_support import HEADER, of_kind, run_manifest, write_manifest


def _tool_results(events: list, agent: str, tool: str) -> list[Any]:
    return [e for e in of_kind(events, "tool.finished") if e.agent == agent and e.tool == tool]


def test_unscripted_sim_orchestrator_spawns_awaits_and_answers(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  lead: {model: fast, instructions: Split the work and combine the results.}
  researcher: {model: fast, script: [facts about the market]}
  analyst: {model: fast, script: [numbers look fine]}
workflow:
  dynamic: {orchestrator: lead}
""")
    result, events = run_manifest(path, "Assess the market")
    assert result.status == RunStatus.SUCCEEDED
    children = [e for e in of_kind(events, "agent.finished") if "/child" in e.path]
    assert sorted(e.output for e in children) == ["facts about the market", "numbers look fine"]
    assert all(e.path.startswith("m/dynamic/lead/child") for e in children)
    (awaited,) = _tool_results(events, "lead", "await_children")
    assert {r["output"] for r in awaited.result} == {"facts about the market", "numbers look fine"}
    assert "await_children" in result.output  # the final answer reads the children's results


def test_max_children_is_a_clear_error_to_the_orchestrator(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  lead:
    model: fast
    script:
      - tools:
          - {name: spawn_agent, args: {agent: worker, input: one}}
          - {name: spawn_agent, args: {agent: worker, input: two}}
          - {name: spawn_agent, args: {agent: worker, input: three}}
      - {tool: await_children, args: {}}
      - done
  worker: {model: fast}
workflow:
  dynamic: {orchestrator: lead, max_children: 2}
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED and result.output == "done"
    spawns = _tool_results(events, "lead", "spawn_agent")
    refused = [e for e in spawns if e.status != "ok"]
    assert len(spawns) == 3 and len(refused) == 1
    assert "limit reached: max_children is 2 and 2 were already spawned" in refused[0].error
    assert len([e for e in of_kind(events, "agent.started") if "/child" in e.path]) == 2


def test_max_concurrent_refuses_while_children_run_then_allows(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  lead:
    model: fast
    script:
      - tools:
          - {name: spawn_agent, args: {agent: worker, input: first}}
          - {name: spawn_agent, args: {agent: worker, input: second}}
      - {tool: await_children, args: {children: [c1]}}
      - {tool: spawn_agent, args: {agent: worker, input: second again, wait: true}}
      - done
  worker: {model: fast, latency_ms: 1, script: [{say: worked, latency_ms: 300}, {say: worked again}]}
workflow:
  dynamic: {orchestrator: lead, max_concurrent: 1}
""".replace(" latency_ms: 1,", ""))
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED, result.error
    spawns = _tool_results(events, "lead", "spawn_agent")
    assert [e.status for e in spawns] == ["ok", "error", "ok"]
    assert "1 children running and max_concurrent is 1; await one with await_children first" in spawns[1].error
    assert spawns[2].result["status"] == "succeeded"


def test_max_depth_stops_nested_orchestrators(tmp_path: Path) -> None:
    body = """\
agents:
  lead:
    model: fast
    script:
      - {tool: spawn_pipeline, args: {pipeline: {stages: [{dynamic: {orchestrator: sublead}}]}, input: go deeper, wait: true}}
      - lead done
  sublead:
    model: fast
    script:
      - {tool: spawn_agent, args: {agent: worker, input: deepest, wait: true}}
      - sublead done
  worker: {model: fast, script: [deep work]}
workflow:
  dynamic: {orchestrator: lead, max_depth: DEPTH}
"""
    result, events = run_manifest(write_manifest(tmp_path, body.replace("DEPTH", "1")))
    assert result.status == RunStatus.SUCCEEDED and result.output == "lead done"
    (refused,) = _tool_results(events, "sublead", "spawn_agent")
    assert refused.status == "error" and "max depth 1 reached" in refused.error

    result, events = run_manifest(write_manifest(tmp_path, body.replace("DEPTH", "2"), name="deeper.yaml"))
    (spawned,) = _tool_results(events, "sublead", "spawn_agent")
    assert spawned.status == "ok" and spawned.result["output"] == "deep work"
    (worker,) = [e for e in of_kind(events, "agent.finished") if e.output == "deep work"]
    assert worker.path == "deeper/dynamic/lead/child1-pipeline/dynamic/sublead/child1-worker"


def test_spawned_specs_are_validated_like_manifest_sections(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  lead:
    model: fast
    script:
      - {tool: spawn_team, args: {team: {members: [{agent: worker}], strategy: loudest}, input: x}}
      - {tool: spawn_graph, args: {graph: {nodes: {a: {agent: ghost}}}, input: x}}
      - {tool: spawn_team, args: {team: {members: [{agent: worker}, {agent: helper}]}, input: "agree?", wait: true}}
      - done
  worker: {model: fast, script: ["VOTE: approve - yes"]}
  helper: {model: fast, script: ["VOTE: approve - sure"]}
workflow:
  dynamic: {orchestrator: lead, allow: [team, graph]}
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    bad_team, ok_team = _tool_results(events, "lead", "spawn_team")
    assert "invalid team spec: team.strategy: Input should be" in bad_team.error
    (bad_graph,) = _tool_results(events, "lead", "spawn_graph")
    assert "unknown agent 'ghost'" in bad_graph.error
    assert ok_team.result["output"]["decision"] == "approve"
    tools = {t for e in of_kind(events, "tool.started") if e.agent == "lead" for t in [e.tool]}
    assert "spawn_agent" not in tools


def test_children_cannot_use_tools_the_orchestrator_lacks(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "kit.py").write_text(
        "from gogrid.tools.base import tool\n\n"
        "@tool\ndef safe(x: int) -> int:\n    \"\"\"Safe tool.\"\"\"\n    return x\n\n"
        "@tool\ndef dangerous(x: int) -> int:\n    \"\"\"Dangerous tool.\"\"\"\n    return -x\n"
    )
    path = write_manifest(tmp_path, """\
agents:
  lead:
    model: fast
    tools: [safe]
    script:
      - {tool: spawn_agent, args: {agent: worker, input: try both}}
      - {tool: await_children, args: {}}
      - done
  worker:
    model: fast
    tools: [safe, dangerous]
    script:
      - {tools: [{name: safe, args: {x: 1}}, {name: dangerous, args: {x: 1}}]}
      - finished
workflow:
  dynamic: {orchestrator: lead}
""", header=HEADER.replace("plugins: []", "plugins: [./plugins]"))
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    (spawned,) = _tool_results(events, "lead", "spawn_agent")
    assert "removed from the child: dangerous" in spawned.result["note"]
    worker_calls = {e.tool: e.status for e in of_kind(events, "tool.finished") if e.agent == "child1-worker"}
    assert worker_calls == {"safe": "ok", "dangerous": "denied"}


def test_unawaited_children_are_cancelled_with_the_orchestrator(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  lead:
    model: fast
    script:
      - {tool: spawn_agent, args: {agent: sleeper, input: nap}}
      - finished without waiting
  sleeper: {model: fast, script: [{say: woke, latency_ms: 5000}]}
workflow:
  dynamic: {orchestrator: lead}
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED and result.output == "finished without waiting"
    (sleeper,) = [e for e in of_kind(events, "agent.finished") if "/child1-sleeper" in e.path]
    assert sleeper.status == RunStatus.CANCELLED
    assert any("never awaited: child1-sleeper" in e.message for e in of_kind(events, "log"))
