"""Graph: conditional edges, router choices, bounded loops, fan-out and join merges, load-time
checks with file:line, and `gogrid graph`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gogrid.cli import main as gogrid
from gogrid.config.errors import ManifestError
from gogrid.engine.runtime import Runtime
from gogrid.events import RunStatus
from pattern_support import finished, of_kind, run_manifest, write_manifest


def _ran(events: list, name: str) -> int:
    return len([e for e in of_kind(events, "agent.started") if e.path.endswith(f"/{name}")])


def test_conditional_edges_on_field_regex_and_default(tmp_path: Path) -> None:
    body = """\
agents:
  triage: {model: fast, script: [{json: {kind: KIND, text: "crash on save"}}]}
  fixer: {model: fast, script: [fixed]}
  planner: {model: fast, script: [planned]}
  other: {model: fast, script: [filed]}
workflow:
  graph:
    nodes:
      triage: {agent: triage}
      fix: {agent: fixer}
      plan: {agent: planner}
      file: {agent: other}
    edges:
      - {from: triage, to: fix, when: {field: kind, equals: bug}}
      - {from: triage, to: plan, when: {regex: '"kind": "feat'}}
      - {from: triage, to: file}
"""
    for kind, expected in (("bug", "fixed"), ("feature", "planned"), ("question", "filed")):
        path = write_manifest(tmp_path, body.replace("KIND", kind), name=f"{kind}.yaml")
        result, events = run_manifest(path)
        assert result.status == RunStatus.SUCCEEDED, result.error
        assert result.output == expected
        assert _ran(events, "fix") + _ran(events, "plan") + _ran(events, "file") == 1


def test_router_agent_picks_the_branch(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  writer: {model: fast, script: [a draft]}
  judge: {model: fast, script: [{choose: publish}]}
  publisher: {model: fast, script: [published]}
  editor: {model: fast, script: [edited]}
workflow:
  graph:
    nodes:
      write: {agent: writer, router: judge}
      publish: {agent: publisher}
      edit: {agent: editor}
    edges:
      - {from: write, to: edit, when: {choice: revise}}
      - {from: write, to: publish, when: {choice: publish}}
""")
    result, events = run_manifest(path)
    assert result.output == "published" and _ran(events, "edit") == 0
    (router,) = [e for e in of_kind(events, "agent.started") if e.name == "write-router"]
    assert "CHOOSE ONE OF: revise | publish" in router.input and "a draft" in router.input


def test_unscripted_router_follows_what_the_reviewer_said(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  reviewer: {model: fast, script: ["This needs to be revised: revise the intro."]}
  judge: {model: fast}
  writer: {model: fast, script: [rewritten]}
  publisher: {model: fast, script: [published]}
workflow:
  graph:
    nodes:
      review: {agent: reviewer, router: judge}
      rewrite: {agent: writer}
      publish: {agent: publisher}
    edges:
      - {from: review, to: rewrite, when: {choice: revise}}
      - {from: review, to: publish, when: {choice: publish}}
""")
    result, _ = run_manifest(path)
    assert result.output == "rewritten"


def test_bounded_loop_falls_through_when_visits_are_used_up(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  writer: {model: fast, script: [draft 1, draft 2, draft 3]}
  reviewer: {model: fast, script: [revise please, revise again, revise more]}
  publisher: {model: fast, script: [published]}
workflow:
  graph:
    nodes:
      write: {agent: writer, max_visits: 2}
      review: {agent: reviewer}
      publish: {agent: publisher}
    edges:
      - {from: write, to: review}
      - {from: review, to: write, when: {contains: revise}}
      - {from: review, to: publish}
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED and result.output == "published"
    assert _ran(events, "write") == 2 and _ran(events, "review") == 2
    writes = [e.output for e in finished(events, "/write")]
    assert writes == ["draft 1", "draft 2"]  # turns continue across visits of one node


def test_max_steps_stops_a_runaway_graph(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  a: {model: fast}
  b: {model: fast}
workflow:
  graph:
    max_steps: 5
    nodes:
      a: {agent: a, max_visits: 50}
      b: {agent: b}
    edges: [{from: a, to: b}, {from: b, to: a}]
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.FAILED and "max_steps (5) reached" in (result.error or "")
    assert len(of_kind(events, "agent.started")) == 5


@pytest.mark.parametrize(("strategy", "expected"), [
    ("list", ["alpha", "beta"]),
    ("concatenate", "alpha\n\nbeta"),
    ("last", "alpha"),
    ("agent", "merged by agent"),
])
def test_fan_out_then_join_with_each_merge(tmp_path: Path, strategy: str, expected: object) -> None:
    merge_node = "{join: [a, b], merge: agent, agent: merger}" if strategy == "agent" else f"{{join: [a, b], merge: {strategy}}}"
    path = write_manifest(tmp_path, f"""\
agents:
  starter: {{model: fast, script: [go]}}
  alpha: {{model: fast, script: [{{say: alpha, latency_ms: 150}}]}}
  beta: {{model: fast, script: [{{say: beta, latency_ms: 1}}]}}
  merger: {{model: fast, script: [merged by agent]}}
workflow:
  graph:
    nodes:
      start: {{agent: starter}}
      a: {{agent: alpha}}
      b: {{agent: beta}}
      m: {merge_node}
    edges:
      - {{from: start, to: [a, b]}}
      - {{from: a, to: m}}
      - {{from: b, to: m}}
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert result.output == expected
    kinds = [(e.kind, e.path.rsplit("/", 1)[-1]) for e in events if e.kind in ("agent.started", "agent.finished")]
    # a and b ran at once: b started before a finished.
    assert kinds.index(("agent.started", "b")) < kinds.index(("agent.finished", "a"))
    if strategy == "agent":
        (merger,) = [e for e in of_kind(events, "agent.started") if e.path.endswith("/m")]
        assert "[a]\nalpha" in merger.input and "[b]\nbeta" in merger.input
    else:
        (join,) = [e for e in of_kind(events, "node.finished") if e.pattern == "join"]
        assert join.output == expected


# --- load-time checks ------------------------------------------------------------------------

BROKEN = {
    "unknown": ("""\
agents: {a: {model: fast}}
workflow:
  graph:
    nodes:
      a: {agent: a}
    edges:
      - {from: a, to: nowhere}
""", 13, "edge target 'nowhere' is not a node of this graph"),
    "unreachable": ("""\
agents: {a: {model: fast}}
workflow:
  graph:
    nodes:
      a: {agent: a}
      island: {agent: a}
    edges: []
""", 12, "node 'island' is unreachable from the start node 'a'"),
    "unbounded": ("""\
agents: {a: {model: fast}}
workflow:
  graph:
    nodes:
      a: {agent: a}
      b: {agent: a}
    edges:
      - {from: a, to: b}
      - {from: b, to: a}
""", 14, "loop through a -> b has no bound; set `max_visits`"),
    "join-no-edge": ("""\
agents: {a: {model: fast}}
workflow:
  graph:
    nodes:
      s: {agent: a}
      x: {agent: a}
      y: {agent: a}
      j: {join: [x, y]}
    edges:
      - {from: s, to: [x, y]}
      - {from: x, to: j}
""", 14, "join 'j' waits for 'y', but no edge goes from 'y' to 'j', so it can never fire"),
    "join-alternatives": ("""\
agents: {a: {model: fast}}
workflow:
  graph:
    nodes:
      s: {agent: a}
      x: {agent: a}
      y: {agent: a}
      j:
        join: [x, y]
    edges:
      - {from: s, to: x, when: {contains: left}}
      - {from: s, to: y}
      - {from: x, to: j}
      - {from: y, to: j}
""", 15, "join 'j' can never fire: 'x' and 'y' are alternative edges of 's'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_graph_shape_errors_name_file_and_line(tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    body, line, message = BROKEN[case]
    path = write_manifest(tmp_path, body, name=f"{case}.yaml")
    with pytest.raises(ManifestError) as e:
        Runtime.from_file(path)
    assert any(i.line == line and message in i.message for i in e.value.issues), str(e.value)
    assert gogrid(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and message in err


def test_gogrid_graph_renders_text_and_mermaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_manifest(tmp_path, """\
agents: {a: {model: fast}, judge: {model: fast}}
workflow:
  graph:
    nodes:
      s: {agent: a, router: judge}
      x: {agent: a, max_visits: 2}
      y: {agent: a}
      j: {join: [x, y], merge: concatenate}
    edges:
      - {from: s, to: [x, y], when: {choice: both}}
      - {from: x, to: j}
      - {from: y, to: j}
      - {from: j, to: x, when: {regex: "again"}}
""")
    assert gogrid(["graph", str(path)]) == 0
    out = capsys.readouterr().out
    assert "s -> x, y  [router chooses both]" in out and "j -> x  [regex /again/]" in out
    assert "j (join x, y; merge concatenate)" in out and "x (agent a; max_visits 2)" in out
    assert gogrid(["graph", str(path), "--mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD") and 's -->|"router: both"| x' in out and "j{{" in out
    assert gogrid(["graph", str(tmp_path / "missing.yaml")]) == 2


def test_patterns_compose_from_python(tmp_path: Path) -> None:
    import anyio

    from gogrid.patterns.graph import Edge, Graph, Node
    from gogrid.patterns.pipeline import Pipeline, Stage
    from gogrid.patterns.team import Team

    path = write_manifest(tmp_path, """\
agents:
  researcher: {model: fast, script: [facts]}
  writer: {model: fast, script: ["VOTE: approve - good"]}
  critic: {model: fast, script: ["VOTE: approve - fine"]}
  editor: {model: fast, script: [edited]}
workflow: {agent: editor}
""")

    async def go() -> None:
        async with Runtime.from_file(path) as rt:
            agent = rt._builder.agent
            team = Team("review", [agent("writer", ()), agent("critic", ())], strategy="unanimous")
            pipe = Pipeline("report", [Stage(agent("researcher", ())), Stage(team, name="vote")])
            rt.workflow = Graph("flow", {"a": Node("a", pipe), "b": Node("b", agent("editor", ()))}, [Edge("a", ["b"])], start="a")
            result = await rt.run("Draft the launch note")
        assert result.status == RunStatus.SUCCEEDED and result.output == "edited"

    anyio.run(go)
