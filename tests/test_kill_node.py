"""`gogrid kill RUN --node PATH` through the owner's local channel: only that node stops, its
streamed tokens are counted, and the record says who, why and what it had spent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import duckdb

from gogrid.cli import main as cli_main
from gogrid.events import RunStatus
from gogrid.host import Host

MANIFEST = """\
version: 1
name: nk
plugins: []
models:
  quick: {model: sim/quick, settings: {latency_ms: 1, price_input: 5, price_output: 10}}
  slow: {model: sim/slow, settings: {latency_ms: 20000, answer_words: 400, price_input: 5, price_output: 10}}
agents:
  first: {model: quick}
  stuck: {model: slow}
  after: {model: quick}
workflow:
  pipeline:
    stages:
      - {name: one, agent: first}
      - {name: two, agent: stuck, on_error: skip}
      - {name: three, agent: after}
budgets:
  run: {usd: 2}
"""


def test_kill_one_node_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "nk.yaml"
    path.write_text(MANIFEST)
    db = tmp_path / "nk.duckdb"
    outcome: dict[str, Any] = {}

    def kill_from_cli(run_id: str) -> None:
        outcome["exit"] = cli_main(["kill", run_id, "--node", "pipeline/two", "--reason", "too slow", "--db", str(db)])

    async def go() -> Any:
        async with Host(db=db) as host:
            rt = host.load(path)
            handle = rt.start("Plan")
            # Wait until the slow stage has streamed some of its answer.
            with anyio.fail_after(30):
                while True:
                    stuck = rt.find_scope(handle.run_id, "pipeline/two")
                    if stuck is not None and stuck.state.get("turns"):
                        break
                    await anyio.sleep(0.05)
            await anyio.sleep(0.5)
            thread = threading.Thread(target=kill_from_cli, args=(handle.run_id,))
            thread.start()
            result = await handle.wait()
            await anyio.to_thread.run_sync(thread.join)
            return result

    result = anyio.run(go)
    assert outcome["exit"] == 0
    assert result.status == RunStatus.SUCCEEDED  # the pipeline skipped the killed stage and went on

    con = duckdb.connect(str(db), read_only=True)
    try:
        agents = dict(con.execute("SELECT path, status FROM agents WHERE run_id = ?", [result.run_id]).fetchall())
        assert agents == {"nk/pipeline/one": "succeeded", "nk/pipeline/two": "killed", "nk/pipeline/three": "succeeded"}
        calls = con.execute("SELECT agent, status, output_tokens, cost_usd FROM llm_calls WHERE run_id = ? ORDER BY finished_at", [result.run_id]).fetchall()
        assert [c[0] for c in calls] == ["one", "two", "three"]  # stages name their agents
        _, status, streamed, cost = calls[1]
        assert status == "killed" and streamed > 0 and cost > 0
        kill = con.execute("SELECT scope, spent, reason, actor FROM budget_events WHERE run_id = ? AND action = 'kill'", [result.run_id]).fetchone()
        assert kill is not None and kill[0] == "nk/pipeline/two" and kill[2] == "too slow" and kill[3].startswith("cli:")
        partial = con.execute("SELECT amount FROM budget_events WHERE run_id = ? AND action = 'settle' AND scope = 'nk/pipeline/two'", [result.run_id]).fetchone()
        assert partial is not None and abs(partial[0] - cost) < 1e-12
        total = con.execute("SELECT sum(cost_usd) FROM llm_calls WHERE run_id = ?", [result.run_id]).fetchone()[0]  # type: ignore[index]
        run_spent = con.execute("SELECT max(spent) FROM budget_events WHERE run_id = ? AND scope = 'nk' AND action = 'settle'", [result.run_id]).fetchone()[0]  # type: ignore[index]
        assert abs(run_spent - total) < 1e-12  # the run's budget counted the killed call's partial spend
    finally:
        con.close()


def test_control_commands_explain_what_they_cannot_do(tmp_path: Path) -> None:
    from gogrid.governance import control

    path = tmp_path / "nk.yaml"
    path.write_text(MANIFEST)

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Host() as host:
            rt = host.load(path)
            a, b = rt.start("Plan"), rt.start("Plan")
            out["ambiguous"] = await control.kill({"run": "r"}, host)
            out["unknown"] = await control.kill({"run": "nope"}, host)
            try:
                await control.budget_set({"scope": "nope/x", "limit": 1}, host)
            except ValueError as e:
                out["bad_scope"] = str(e)
            out["set"] = await control.budget_set({"scope": a.run_id, "limit": "$0.5"}, host)
            out["show"] = await control.budget_show({}, host)
            out["killed"] = await control.kill({"run": b.run_id, "reason": "enough"}, host)
            host.kill(a.run_id, reason="done")
            await a.wait()
            await b.wait()
        return out

    out = anyio.run(go)
    assert out["ambiguous"]["killed"] is None and "matches 2 live runs" in out["ambiguous"]["message"]
    assert "nothing live matches run 'nope'" in out["unknown"]["message"]
    assert out["bad_scope"].startswith("no live run, scope or budget 'nope/x'")
    assert out["set"]["limit"] == 0.5 and out["set"]["label"] == "run nk"
    assert {(b["scope"], b["metric"], b["limit"]) for b in out["show"]["budgets"]} >= {("nk", "usd", 0.5)}
    assert out["killed"]["killed"] == "nk"
