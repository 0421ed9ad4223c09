"""Team: consensus strategies, max_rounds, the room as events, shared memory, the Python API."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from gogrid.config.errors import ManifestError
from gogrid.engine.agent import AgentWorkflow
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import Runtime
from gogrid.events import RunStatus
from gogrid.models.registry import ModelHandle
from gogrid.models.sim import SimModel, SimSettings, SimStep
from gogrid.patterns.team import Team, parse_vote
from pattern_support import finished, of_kind, run_manifest, write_manifest


def _team(tmp_path: Path, team: str, scripts: dict[str, list[str]], extra_agents: str = "") -> Path:
    agents = "".join(
        f"  {name}:\n    model: fast\n    script: {steps!r}\n" for name, steps in scripts.items()
    )
    return write_manifest(tmp_path, f"agents:\n{agents}{extra_agents}workflow:\n{team}")


def test_majority_decides_in_one_round_and_the_room_is_events(tmp_path: Path) -> None:
    path = _team(tmp_path, """\
  team:
    strategy: majority
    members: [{agent: alice}, {agent: bob}, {agent: carol}]
""", {
        "alice": ["Ship it. VOTE: approve - the plan is sound"],
        "bob": ["VOTE: approve - fine"],
        "carol": ["Not yet. VOTE: revise - timing"],
    })
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    assert result.output["decision"] == "approve" and result.output["consensus"] is True
    assert result.output["rounds"] == 1
    team_span = of_kind(events, "node.started")[0].span_id
    room = [e for e in of_kind(events, "message") if e.room == team_span]
    assert room[0].sender == "task"
    spoken = {m.sender: m for m in room[1:]}
    assert set(spoken) == {"alice", "bob", "carol"}
    assert all(m.round == 1 and m.reply_to == room[0].message_id for m in spoken.values())
    votes = {v.voter: v.choice for v in of_kind(events, "team.vote")}
    assert votes == {"alice": "approve", "bob": "approve", "carol": "revise"}
    (consensus,) = of_kind(events, "team.consensus")
    assert consensus.reached and consensus.decision == "approve" and consensus.room == team_span


def test_unanimous_needs_a_second_round_and_members_see_the_transcript(tmp_path: Path) -> None:
    path = _team(tmp_path, """\
  team:
    strategy: unanimous
    max_rounds: 3
    members: [{agent: alice}, {agent: bob}]
""", {
        "alice": ["Looks right. VOTE: approve - good", "Still yes. VOTE: approve - good"],
        "bob": ["Needs work. VOTE: revise - gaps", "Convinced by alice. VOTE: approve - ok"],
    })
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    assert result.output["rounds"] == 2 and result.output["decision"] == "approve"
    rounds = [(v.round, v.voter, v.choice) for v in of_kind(events, "team.vote")]
    assert (1, "bob", "revise") in rounds and (2, "bob", "approve") in rounds
    # In round 2 bob's prompt carried alice's round-1 message.
    bob_prompts = [m.content for m in of_kind(events, "message") if m.room is None and m.role == "user" and "You are bob" in m.content]
    assert len(bob_prompts) == 2 and "[alice] Looks right." in bob_prompts[1]
    # Turns continue across rounds: bob's second call is turn 2 of the same node path.
    bob_calls = [e.turn for e in of_kind(events, "model.finished") if e.agent == "bob"]
    assert bob_calls == [1, 2]


def test_max_rounds_ends_without_consensus(tmp_path: Path) -> None:
    path = _team(tmp_path, """\
  team:
    strategy: unanimous
    max_rounds: 2
    members: [{agent: alice}, {agent: bob}]
""", {
        "alice": ["VOTE: approve - yes", "VOTE: approve - yes", "VOTE: approve - yes"],
        "bob": ["VOTE: revise - no", "VOTE: revise - no", "VOTE: revise - no"],
    })
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    assert result.output["consensus"] is False and result.output["rounds"] == 2
    (consensus,) = of_kind(events, "team.consensus")
    assert not consensus.reached and consensus.round == 2
    assert len(of_kind(events, "team.vote")) == 4


def test_first_response_takes_the_fastest_member_and_cancels_the_rest(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  quick: {model: fast, script: [{say: Quick answer, latency_ms: 1}]}
  slow: {model: fast, script: [{say: Slow answer, latency_ms: 5000}]}
workflow:
  team:
    strategy: first-response
    memory: {enabled: false}
    members: [{agent: quick}, {agent: slow}]
""")
    started = time.monotonic()
    result, events = run_manifest(path)
    assert time.monotonic() - started < 4.5  # the slow member was not waited for
    assert result.status == RunStatus.SUCCEEDED
    assert result.output["decision"] == "Quick answer"
    (slow,) = finished(events, "/slow")
    assert slow.status == RunStatus.CANCELLED


def test_moderator_decides(tmp_path: Path) -> None:
    path = _team(tmp_path, """\
  team:
    strategy: moderator
    moderator: chair
    options: [ship, hold]
    max_rounds: 4
    members: [{agent: alice}, {agent: bob}]
""", {
        "alice": ["VOTE: ship - a", "VOTE: ship - a", "VOTE: ship - a"],
        "bob": ["VOTE: hold - b", "VOTE: hold - b", "VOTE: hold - b"],
        "chair": [{"choose": "continue"}, {"choose": "hold"}],  # type: ignore[dict-item]
    })
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    assert result.output["decision"] == "hold" and result.output["rounds"] == 2
    chair_inputs = [e.input for e in of_kind(events, "agent.started") if e.name == "chair"]
    assert len(chair_inputs) == 2 and "CHOOSE ONE OF: continue | ship | hold" in chair_inputs[0]


def test_coordinator_writes_the_answer_from_the_transcript(tmp_path: Path) -> None:
    path = _team(tmp_path, """\
  team:
    coordinator: editor
    members: [{agent: alice}, {agent: bob}]
""", {
        "alice": ["Launch Tuesday. VOTE: approve - ready"],
        "bob": ["Agreed. VOTE: approve - ready"],
        "editor": ["Final: launch on Tuesday."],
    })
    result, events = run_manifest(path)
    assert result.output == "Final: launch on Tuesday."
    (editor,) = [e for e in of_kind(events, "agent.started") if e.name == "editor"]
    assert "alice: Launch Tuesday." in editor.input and "The team decided: approve." in editor.input


def test_unscripted_sim_members_converge(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  a: {model: fast}
  b: {model: fast}
  c: {model: fast}
  d: {model: fast}
workflow:
  team: {strategy: unanimous, max_rounds: 3, members: [{agent: a}, {agent: b}, {agent: c}, {agent: d}]}
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    assert result.output["consensus"] is True and result.output["rounds"] <= 2
    last = [v.choice for v in of_kind(events, "team.vote") if v.round == result.output["rounds"]]
    assert len(last) == 4 and len(set(last)) == 1


def test_shared_memory_tools_write_events_and_enforce_limits(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  scribe:
    model: fast
    script:
      - {tool: memory_set, args: {key: plan, value: launch tuesday}}
      - {tools: [{name: memory_append, args: {key: notes, value: first, namespace: run}}, {name: memory_set, args: {key: big, value: "0123456789012345678901234567890123456789"}}]}
      - "VOTE: approve - noted"
  reader:
    model: fast
    script:
      - {tool: memory_search, args: {query: tuesday}}
      - "VOTE: approve - read it"
workflow:
  team:
    memory: {max_value_bytes: 32}
    members: [{agent: scribe}, {agent: reader}]
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED
    writes = of_kind(events, "memory.write")
    assert [(w.key, w.op, w.agent) for w in writes] == [("plan", "set", "scribe"), ("notes", "append", "scribe")]
    assert writes[0].namespace.startswith("team:") and writes[1].namespace == "run"
    assert writes[0].bytes == len('"launch tuesday"') and writes[0].entries == 1
    too_big = [e for e in of_kind(events, "tool.finished") if e.tool == "memory_set" and e.status != "ok"]
    assert len(too_big) == 1 and "limit per value is 32" in too_big[0].error
    searched = [e for e in of_kind(events, "tool.finished") if e.tool == "memory_search"]
    assert searched and searched[0].result in ([], [{"key": "plan", "value": "launch tuesday"}])


def test_team_from_python_with_a_killed_member_going_on(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, "workflow: {agent: x}\nagents: {x: {model: fast}}\n")

    def agent(name: str, steps: list[SimStep]) -> AgentWorkflow:
        sim = SimModel(name, SimSettings(latency_ms=(1, 2)), scripts={name: steps})
        return AgentWorkflow(name, ModelHandle(sim, f"sim/{name}", None))

    team = Team("py-team", [
        agent("steady", [SimStep(say="VOTE: approve - fine")]),
        agent("stuck", [SimStep(say="VOTE: revise - never arrives", latency_ms=5000)]),
    ], strategy="majority")

    async def go() -> None:
        rt = Runtime.from_file(path)
        seen = rt.bus.subscribe(Collector())
        async with rt:
            rt.workflow = team
            handle = rt.start("Decide")
            with anyio.fail_after(5):
                while not any(e.kind == "agent.started" and e.name == "stuck" for e in seen.events):  # type: ignore[attr-defined]
                    await anyio.sleep(0.01)
                assert rt.kill(handle.run_id, node="py-team/stuck", reason="test") is not None
                result = await handle.wait()
        assert result.status == RunStatus.SUCCEEDED
        assert result.output["decision"] == "approve" and result.output["consensus"] is True
        (stuck,) = finished(seen.events, "/stuck")  # type: ignore[attr-defined]
        assert stuck.status == RunStatus.KILLED

    anyio.run(go)


def test_parse_vote() -> None:
    assert parse_vote("I agree.\nVOTE: Approve - solid", ["approve", "revise"]) == "approve"
    assert parse_vote("VOTE: maybe", ["approve", "revise"]) is None
    assert parse_vote("no vote here", ["approve"]) is None


def test_manifest_errors_name_file_and_line(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  a: {model: fast}
workflow:
  team:
    strategy: majority
    members:
      - agent: a
      - agnt: b
""")
    with pytest.raises(ManifestError) as e:
        Runtime.from_file(path)
    text = str(e.value)
    assert f"{path}:14:9" in text and "members[1].agnt" in text and "unknown key 'agnt'" in text

    path = write_manifest(tmp_path, """\
agents:
  a: {model: fast}
workflow:
  team: {strategy: moderator, members: [{agent: a}, {agent: ghost}]}
""", name="bad2.yaml")
    with pytest.raises(ManifestError) as e:
        Runtime.from_file(path)
    text = str(e.value)
    assert "needs `moderator: <agent>`" in text and f"{path}:10" in text
