"""The nested sample end to end through `gogrid run`: the event log rebuilds the whole tree of
who ran inside what (a graph with a team holding a pipeline, and a dynamic orchestrator)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from gogrid.cli import main as gogrid
from gogrid.events import Event, event_from_json


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "gogrid"), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def build_tree(events: list[Event]) -> dict[str, Any]:
    """Nodes keyed by span id from the *.started events, linked through parent_span_id."""
    nodes: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.kind in ("run.started", "node.started", "agent.started"):
            name = "run" if e.kind == "run.started" else e.name  # type: ignore[attr-defined]
            nodes[e.span_id] = {"event": e, "name": name, "parent": e.parent_span_id, "children": [], "end": None}
    for e in events:
        if e.kind in ("run.finished", "node.finished", "agent.finished") and e.span_id in nodes:
            nodes[e.span_id]["end"] = e
    roots = []
    for node in nodes.values():
        parent = nodes.get(node["parent"]) if node["parent"] else None
        (parent["children"] if parent else roots).append(node)
    assert len(roots) == 1, [r["name"] for r in roots]
    return roots[0]


def shape(node: dict[str, Any]) -> Any:
    """The tree as nested names, children sorted; agents' children (model calls are not nodes)
    only when they spawned something."""
    kids = [shape(c) for c in sorted(node["children"], key=lambda c: c["name"])]
    return {node["name"]: kids} if kids else node["name"]


def test_nested_sample_runs_and_events_rebuild_the_tree(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    proc = _run_cli("run", str(ROOT / "sample_configs" / "nested.yaml"), "-i", "Design onboarding",
                    "--log-file", str(log), "--json", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "succeeded" and result["output"]
    events = [event_from_json(line) for line in log.read_text().splitlines() if line.strip()]
    assert all(e.run_id == result["run_id"] for e in events)

    root = build_tree(events)
    assert shape(root) == {"run": [{"graph": [
        {"delegate": [{"coordinator": ["child1-ux", "child2-data"]}]},
        "intake",
        "merge",
        {"panel": ["critic", {"proposal": ["checker", "drafter"]}]},
    ]}]}

    # Every node ended, succeeded, and its path is its parent's path plus its name.
    def check(node: dict[str, Any], parent_path: str | None) -> None:
        e = node["event"]
        path = getattr(e, "path", "nested")  # the run's path is the manifest's name
        if parent_path is not None:
            assert path == f"{parent_path}/{node['name']}"
        assert node["end"] is not None and node["end"].status == "succeeded", path
        for c in node["children"]:
            check(c, path)

    check(root, None)

    # The team's room: messages and votes carry the team's span as the room, with rounds.
    panel = next(n for n in events if n.kind == "node.started" and n.name == "panel")  # type: ignore[attr-defined]
    room = [e for e in events if e.kind == "message" and e.room == panel.span_id]  # type: ignore[attr-defined]
    senders = {e.sender for e in room}  # type: ignore[attr-defined]
    assert {"task", "critic", "proposal"} <= senders
    assert all(e.round >= 1 for e in room if e.sender != "task")  # type: ignore[attr-defined]
    assert [e for e in events if e.kind == "team.consensus" and e.room == panel.span_id]  # type: ignore[attr-defined]
    # Model and tool calls hang under the agent that made them.
    agents = {e.span_id for e in events if e.kind == "agent.started"}
    assert all(e.parent_span_id in agents for e in events if e.kind in ("model.started", "tool.started"))


def test_every_pattern_sample_validates_and_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    samples = [str(ROOT / "sample_configs" / f"{n}.yaml") for n in ("team", "pipeline", "graph", "dynamic", "nested")]
    assert gogrid(["validate", *samples]) == 0
    for sample in samples[:4]:
        capsys.readouterr()
        assert gogrid(["run", sample, "-i", "Plan the launch", "--json", "-q"]) == 0, sample
        assert json.loads(capsys.readouterr().out)["status"] == "succeeded"
