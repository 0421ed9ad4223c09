"""Acceptance 5: `gogrid cost RUN` agrees with the llm_calls table (by agent, model and node; the
node figures are checked through the span tree, independently of how the command computes them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

GOGRID = [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]

MANIFEST = """\
version: 1
name: costs
plugins: []
models:
  cheap: {model: sim/cheap, settings: {seed: 1, latency_ms: 0, price_input: 0.5, price_output: 1.5}}
  dear: {model: sim/dear, settings: {seed: 2, latency_ms: 0, price_input: 30, price_output: 60}}
agents:
  alice: {model: cheap}
  bob: {model: dear}
  carol: {model: cheap}
  dave: {model: dear}
workflow:
  pipeline:
    stages:
      - name: debate
        team: {members: [{agent: alice}, {agent: bob}], max_rounds: 2}
      - name: review
        pipeline: {stages: [{agent: carol}, {agent: dave}]}
"""


def _gogrid(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOGRID, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "costs.yaml"
    path.write_text(MANIFEST)
    db = tmp_path / "costs.duckdb"
    out = _gogrid("run", str(path), "-i", "Plan the launch", "--db", str(db), "--json", "-q")
    assert out.returncode == 0, out.stderr
    return db, json.loads(out.stdout)["run_id"]


def _rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_cost_command_matches_llm_calls(recorded: tuple[Path, str]) -> None:
    db, run_id = recorded
    out = _gogrid("cost", run_id[:12], "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["run_id"] == run_id

    total_calls, total_cost, tin, tout = _rows(db, "SELECT count(*), sum(cost_usd), sum(input_tokens), sum(output_tokens) FROM llm_calls WHERE run_id = ?", run_id)[0]
    assert total_calls >= 4
    assert report["total"]["calls"] == total_calls
    assert report["total"]["cost_usd"] == pytest.approx(total_cost, rel=1e-9)
    assert (report["total"]["input_tokens"], report["total"]["output_tokens"]) == (tin, tout)

    by_model = {f"{p}/{m}": (n, c) for p, m, n, c in _rows(db, "SELECT provider, model, count(*), sum(cost_usd) FROM llm_calls WHERE run_id = ? GROUP BY 1, 2", run_id)}
    assert {g["name"]: (g["calls"], pytest.approx(g["cost_usd"], rel=1e-9)) for g in report["by_model"]} == by_model
    assert set(by_model) == {"sim/cheap", "sim/dear"}

    # Agents: the command lists agent paths; the table knows agent names. Sum paths per name.
    by_name = dict(_rows(db, "SELECT agent, sum(cost_usd) FROM llm_calls WHERE run_id = ? GROUP BY 1", run_id))
    summed: dict[str, float] = {}
    for g in report["by_agent"]:
        name = g["name"].rsplit("/", 1)[-1]
        summed[name] = summed.get(name, 0.0) + g["cost_usd"]
    assert summed == pytest.approx(by_name, rel=1e-9)
    assert set(by_name) == {"alice", "bob", "carol", "dave"}

    # Nodes: every call whose span has the node's span among its ancestors (through `spans`).
    by_node = dict(_rows(db, """
        WITH RECURSIVE up(call_span, ancestor) AS (
            SELECT span_id, parent_span_id FROM llm_calls WHERE run_id = ?
            UNION ALL
            SELECT up.call_span, s.parent_span_id FROM up JOIN spans s ON s.span_id = up.ancestor
            WHERE s.parent_span_id IS NOT NULL
        )
        SELECT n.path, sum(l.cost_usd) FROM up JOIN nodes n ON n.span_id = up.ancestor
        JOIN llm_calls l ON l.span_id = up.call_span GROUP BY n.path""", run_id))
    assert {"costs/pipeline", "costs/pipeline/debate", "costs/pipeline/review"} <= set(by_node)
    assert {g["name"]: g["cost_usd"] for g in report["by_node"]} == pytest.approx(by_node, rel=1e-9)


def test_cost_text_output_shows_the_same_figures(recorded: tuple[Path, str]) -> None:
    db, run_id = recorded
    out = _gogrid("cost", run_id, "--db", str(db))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for model, n, cost in _rows(db, "SELECT provider || '/' || model, count(*), sum(cost_usd) FROM llm_calls WHERE run_id = ? GROUP BY 1", run_id):
        line = next(line for line in text.splitlines() if line.startswith(model + " "))
        assert line.split()[1] == str(n) and line.split()[-1] == f"${cost:.6f}"
    total = _rows(db, "SELECT sum(cost_usd) FROM llm_calls WHERE run_id = ?", run_id)[0][0]
    assert text.splitlines()[0].startswith(f"run {run_id} (") and f"${total:.6f} in " in text.splitlines()[0]
    for section in ("by agent", "by model", "by node"):
        assert section in text


def test_cost_of_an_unknown_run_is_a_usage_error(recorded: tuple[Path, str]) -> None:
    db, _ = recorded
    out = _gogrid("cost", "nope", "--db", str(db))
    assert out.returncode == 2 and "no run id starts with 'nope'" in out.stderr
