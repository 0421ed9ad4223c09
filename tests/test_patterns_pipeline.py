"""Pipeline: typed state between stages, transforms, abort/skip/retry, per-stage timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from gogrid.config.errors import ManifestError
from gogrid.engine.runtime import Runtime
from gogrid.events import RunStatus
from pattern_support import HEADER, finished, of_kind, run_manifest, write_manifest


def test_state_flows_through_stages_with_templates(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  researcher: {model: fast, script: [{json: {facts: [a, b], topic: launch}}]}
  writer: {model: fast, script: [Draft ready.]}
workflow:
  pipeline:
    state_schema:
      type: object
      required: [input]
      properties: {input: {type: string}}
    stages:
      - {name: research, agent: researcher}
      - agent: writer
        transform: "Write about {state.research.topic} using {state.research.facts}; task was {state.input}"
""")
    result, events = run_manifest(path, "Plan the launch")
    assert result.status == RunStatus.SUCCEEDED and result.output == "Draft ready."
    (writer,) = [e for e in of_kind(events, "agent.started") if e.name == "writer"]
    assert writer.input == 'Write about launch using ["a", "b"]; task was Plan the launch'
    stages = [e.path.rsplit("/", 1)[-1] for e in of_kind(events, "agent.started")]
    assert stages == ["research", "writer"]


def test_state_schema_violation_fails_with_the_stage_named(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  counter: {model: fast, script: [{json: {count: "three"}}]}
workflow:
  pipeline:
    state_schema:
      type: object
      properties: {count: {type: object, properties: {count: {type: integer}}}}
    stages: [{name: count, agent: counter}]
""")
    result, _ = run_manifest(path)
    assert result.status == RunStatus.FAILED
    assert "state after count does not match state_schema" in (result.error or "")


def test_abort_stops_at_the_failing_stage(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  flaky: {model: fast, script: [{error: 500}]}
  after: {model: fast, script: [never]}
workflow:
  pipeline:
    stages: [{agent: flaky}, {agent: after}]
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.FAILED
    assert "stage 1 (flaky) failed" in (result.error or "") and "HTTP 500" in (result.error or "")
    assert not [e for e in of_kind(events, "agent.started") if e.name == "after"]


def test_skip_passes_the_previous_output_on(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  flaky: {model: fast, script: [{error: 500}]}
  after: {model: fast, script: [done]}
workflow:
  pipeline:
    stages: [{agent: flaky, on_error: skip}, {agent: after}]
""")
    result, events = run_manifest(path, "original input")
    assert result.status == RunStatus.SUCCEEDED and result.output == "done"
    (after,) = [e for e in of_kind(events, "agent.started") if e.name == "after"]
    assert after.input == "original input"
    assert any("stage flaky skipped" in e.message for e in of_kind(events, "log"))


def test_retry_with_backoff_until_success_and_its_bound(tmp_path: Path) -> None:
    body = """\
agents:
  flaky: {model: fast, script: [{error: 503}, {error: 503}, recovered]}
workflow:
  pipeline:
    stages: [{agent: flaky, on_error: retry, retries: RETRIES, backoff: 0.01}]
"""
    result, events = run_manifest(write_manifest(tmp_path, body.replace("RETRIES", "2")))
    assert result.status == RunStatus.SUCCEEDED and result.output == "recovered"
    assert [e.status for e in finished(events, "/flaky")] == [RunStatus.FAILED, RunStatus.FAILED, RunStatus.SUCCEEDED]
    assert len([e for e in of_kind(events, "log") if "retrying in" in e.message]) == 2

    result, events = run_manifest(write_manifest(tmp_path, body.replace("RETRIES", "1"), name="bound.yaml"))
    assert result.status == RunStatus.FAILED
    assert "failed after 2 attempts" in (result.error or "")
    assert len(finished(events, "/flaky")) == 2


def test_stage_timeout(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  slow: {model: fast, script: [{say: late, latency_ms: 5000}]}
  next: {model: fast, script: [on time]}
workflow:
  pipeline:
    stages: [{agent: slow, timeout: 0.2, on_error: skip}, {agent: next}]
""")
    result, events = run_manifest(path)
    assert result.status == RunStatus.SUCCEEDED and result.output == "on time"
    (slow,) = finished(events, "/slow")
    assert slow.status == RunStatus.FAILED and "timed out after 0.2s" in slow.error


def test_transform_tool_from_a_plugin(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "shout.py").write_text(
        "from gogrid.tools.base import tool\n\n"
        "@tool\ndef shout(input: str, state: dict) -> str:\n"
        "    \"\"\"Upper-case the text.\"\"\"\n"
        "    return input.upper() + ' / ' + str(state['input'])\n"
    )
    path = write_manifest(tmp_path, """\
agents:
  first: {model: fast, script: [quiet words]}
  second: {model: fast, script: [ok]}
workflow:
  pipeline:
    stages: [{agent: first}, {agent: second, transform_tool: shout}]
""", header=HEADER.replace("plugins: []", "plugins: [./plugins]"))
    result, events = run_manifest(path, "start")
    assert result.status == RunStatus.SUCCEEDED
    (second,) = [e for e in of_kind(events, "agent.started") if e.name == "second"]
    assert second.input == "QUIET WORDS / start"
    assert [e.tool for e in of_kind(events, "tool.finished")] == ["shout"]


def test_unknown_transform_tool_is_a_load_error(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, """\
agents:
  a: {model: fast}
workflow:
  pipeline:
    stages:
      - agent: a
        transform_tool: nope
""")
    with pytest.raises(ManifestError) as e:
        Runtime.from_file(path)
    assert f"{path}:13" in str(e.value) and "unknown tool 'nope'" in str(e.value)


def test_errors_deep_inside_nested_patterns_name_their_line(tmp_path: Path) -> None:
    body = """\
agents:
  a: {model: fast}
workflow:
  graph:
    nodes:
      panel:
        team:
          members:
            - agent: a
            - pipeline:
                stages:
                  - agent: a
                    on_eror: skip
                  - agent: ghost
"""
    path = write_manifest(tmp_path, body)
    with pytest.raises(ManifestError) as e:
        Runtime.from_file(path)
    (issue,) = e.value.issues
    assert (issue.line, issue.field) == (19, "workflow.graph.nodes.panel.team.members[1].pipeline.stages[0].on_eror")
    assert "did you mean 'on_error'" in issue.message

    path = write_manifest(tmp_path, body.replace("on_eror", "on_error"), name="ghost.yaml")
    with pytest.raises(ManifestError) as e:
        Runtime.from_file(path)
    (issue,) = e.value.issues
    assert issue.line == 20 and "unknown agent 'ghost'" in issue.message
