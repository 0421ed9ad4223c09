"""Acceptance: after `gogrid run` on each sample manifest, the database holds the run, its agents,
every model call and tool call with tokens and cost, and spans whose parent links rebuild the
tree. Every manifest in sample_configs/ is run (the real CLI, in a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT
from gogrid.config.loader import load_manifest
from gogrid.events import ModelCallFinished, ToolCallFinished
from gogrid.store import Store
from gogrid.store.replay import read_events
from store_helpers import gogrid

SAMPLES = sorted((ROOT / "sample_configs").glob("*.yaml"))


def test_there_are_samples() -> None:
    assert SAMPLES


def needs_network(manifest: Path) -> bool:
    """Samples for real providers need keys and the internet: they run on the simulated model
    (`--model-override`), which records exactly the same rows."""
    m = load_manifest(manifest).manifest
    refs = [d.model for d in m.models.values()]
    for agent in m.agents.values():
        chain = agent.model if isinstance(agent.model, list) else [agent.model]
        refs += [r for r in chain if isinstance(r, str) and r not in m.models]
    return any(not str(r).startswith("sim/") for r in refs if r)


@pytest.mark.parametrize("manifest", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_a_sample_run_is_recorded_completely(manifest: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    override = ["--model-override", "sim/offline"] if needs_network(manifest) else []
    result = gogrid("run", str(manifest), *override, "-i", "Plan a small product launch", "--db", str(db), "-q", "--json", timeout=300)
    assert result.returncode in (0, 1), result.stderr  # a run happened (failed runs are recorded too)
    outcome = json.loads(result.stdout)
    run_id = outcome["run_id"]

    with Store(db, read_only=True) as store:
        q = store.query
        assert q("SELECT status, manifest FROM runs WHERE run_id = ?", [run_id]).rows == [(outcome["status"], str(manifest))]
        events = read_events(store, run_id)
        assert events[0].kind == "run.started" and events[-1].kind == "run.finished"
        assert q("SELECT count(*) FROM events WHERE run_id = ?", [run_id]).rows[0][0] == len(events)

        # agents: one row per agent instance, finished
        agent_starts = [e for e in events if e.kind == "agent.started"]
        agents = q("SELECT span_id, parent_span_id, path, status FROM agents WHERE run_id = ?", [run_id]).rows
        assert sorted(a[0] for a in agents) == sorted(e.span_id for e in agent_starts)
        assert agents and all(a[3] != "running" for a in agents)

        # every model call, with its tokens and cost (NULL only when the price is unknown)
        model_calls = [e for e in events if isinstance(e, ModelCallFinished)]
        assert model_calls, "a sample that runs agents makes model calls"
        rows = {r[0]: r[1:] for r in q(
            "SELECT span_id, input_tokens, output_tokens, cached_tokens, token_count, cost_usd, cost_known, status, parent_span_id "
            "FROM llm_calls WHERE run_id = ?", [run_id]).rows}
        assert len(rows) == len(model_calls)
        for e in model_calls:
            assert rows[e.span_id] == (e.input_tokens, e.output_tokens, e.cached_tokens, e.token_count,
                                       pytest.approx(e.cost_usd) if e.cost_usd is not None else None, e.cost_known, e.status, e.parent_span_id)
            assert (e.cost_usd is None) == (not e.cost_known)

        # every tool call, with arguments, result or error, duration
        tool_calls = [e for e in events if isinstance(e, ToolCallFinished)]
        trows = {r[0]: r[1:] for r in q("SELECT span_id, tool, status, duration_s, error FROM tool_calls WHERE run_id = ?", [run_id]).rows}
        assert len(trows) == len([e for e in events if e.kind == "tool.started"])
        for t in tool_calls:
            assert trows[t.span_id] == (t.tool, t.status, pytest.approx(t.duration_s), t.error)

        # the views agree with the calls
        summary = q("SELECT llm_calls, tool_calls, tokens FROM run_summary WHERE run_id = ?", [run_id]).rows
        assert summary == [(len(model_calls), len(tool_calls), sum(e.input_tokens + e.output_tokens for e in model_calls))]

        # spans: one root, every parent inside the run, and the tree from the root reaches them all
        spans = q("SELECT span_id, parent_span_id, kind, status FROM spans WHERE run_id = ?", [run_id]).rows
        ids = {s[0] for s in spans}
        roots = [s for s in spans if s[1] is None]
        assert len(roots) == 1 and roots[0][2] == "run"
        assert all(s[1] in ids for s in spans if s[1] is not None)
        reached = q("""
            WITH RECURSIVE tree(span_id, depth) AS (
                SELECT span_id, 0 FROM spans WHERE run_id = ? AND parent_span_id IS NULL
                UNION ALL
                SELECT s.span_id, t.depth + 1 FROM spans s JOIN tree t ON s.parent_span_id = t.span_id WHERE s.run_id = ?
            ) SELECT count(*), max(depth) FROM tree""", [run_id, run_id]).rows[0]
        assert reached[0] == len(spans) >= 1 + len(agents) + len(model_calls) + len(tool_calls)
        assert all(s[3] != "running" for s in spans)
        started = {e.span_id for e in events if e.kind.endswith(".started")}
        assert started == ids
