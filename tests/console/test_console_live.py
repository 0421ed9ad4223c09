"""Pilot tests: the console drives the real engine and the real database (no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_support import DATA, fast_demo, log_text, table_rows, wait_for
from textual.widgets import DataTable, OptionList, RichLog, Static, TextArea

from gogrid.console.app import GoGridApp
from gogrid.console.screens import ConfirmScreen
from gogrid.console.widgets.fasttable import FastTable
from gogrid.host import Host
from gogrid.store import Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def db_status(db: Path, run_id: str) -> str | None:
    with Store(db, read_only=True) as store:
        rows = store.query("SELECT status FROM runs WHERE run_id = ?", [run_id]).rows
    return rows[0][0] if rows else None


async def test_launch_select_agent_and_watch_messages(tmp_path: Path) -> None:
    db = tmp_path / "console.duckdb"
    app = GoGridApp([DATA / "tools_agent.yaml"], db=db, run_input="What is 6 * 7?", tick=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        run_id = await wait_for(pilot, lambda: next(iter(app.state.runs), None), what="the run to start")
        table = app.query_one("#agents-table", FastTable)
        await wait_for(pilot, lambda: table.row_count >= 2, what="the agent row")
        table.focus()
        await pilot.press("down")  # from the run row to the agent row
        agent = await wait_for(pilot, lambda: app.state.nodes.get(app.selected or "") if app.state.nodes.get(app.selected or "") and app.state.nodes[app.selected].kind == "agent" else None, what="agent selected")  # type: ignore[index]
        assert agent.name == "helper" and agent.model == "sim/tools"
        log = app.query_one("#chat-log", RichLog)
        await wait_for(pilot, lambda: app.state.runs[run_id].status == "succeeded", what="the run to succeed")
        await pilot.pause(0.2)
        text = await wait_for(pilot, lambda: (t := log_text(log)) and "helper" in t and t, what="chat messages")
        assert "What is 6 * 7?" in text
        assert "calculate(" in text  # the tool call, folded onto one line
        assert "↳ calculate" in text  # and its result
        row = table_rows(table)[1]
        assert "helper" in row[0] and row[1] == "succeeded" and row[3] == "2"
        await pilot.press("q")
    assert app.return_code == 0
    assert db_status(db, run_id) == "succeeded"


async def test_kill_from_budgets_pane_after_confirming(tmp_path: Path) -> None:
    db = tmp_path / "kill.duckdb"
    app = GoGridApp([DATA / "slow_agent.yaml"], db=db, run_input="go", tick=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        run_id = await wait_for(pilot, lambda: next(iter(app.state.runs), None), what="the run to start")
        await wait_for(pilot, lambda: app.selected is not None, what="the run to be selected")
        await pilot.press("b")
        budgets = app.query_one("#budgets-table", DataTable)
        await wait_for(pilot, lambda: budgets.row_count >= 1, what="a budget row")
        # Cancelling the confirmation stops nothing.
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("n")
        await pilot.pause(0.3)
        assert app.state.runs[run_id].status == "running"
        await pilot.press("k")
        screen = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, ConfirmScreen) else None, what="the confirmation")
        assert "console-slow" in screen.body and run_id in screen.body and "plodder" in screen.body
        await pilot.press("y")
        await wait_for(pilot, lambda: app.state.runs[run_id].status == "killed", what="the run to end killed")
        # The database owner is this process: the SQL pane's path sees the record while live.
        await wait_for(pilot, lambda: app.data.query("SELECT status FROM runs WHERE run_id = ?", [run_id]).rows == [("killed",)], what="killed in the database")
        await pilot.press("q")
    assert db_status(db, run_id) == "killed"


async def test_sql_query_and_a_failing_one(tmp_path: Path) -> None:
    db = tmp_path / "sql.duckdb"
    app = GoGridApp([DATA / "tools_agent.yaml"], db=db, tick=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        run_id = await wait_for(pilot, lambda: next(iter(app.state.runs), None), what="the run")
        await wait_for(pilot, lambda: app.state.runs[run_id].status == "succeeded", what="the run to finish")
        await pilot.press("s")
        editor = app.query_one("#sql-editor", TextArea)
        assert app.focused is editor
        editor.text = "SELECT agent, count(*) AS calls FROM llm_calls GROUP BY agent"
        results = app.query_one("#sql-results", DataTable)
        status = app.query_one("#sql-status", Static)
        await wait_for(pilot, lambda: app.data.query("SELECT count(*) FROM llm_calls").rows[0][0] >= 2, what="llm_calls flushed")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: results.row_count == 1, what="query results")
        assert table_rows(results)[0] == ["helper", "2"]
        assert "1 row(s)" in str(status.render())
        editor.text = "SELECT nope FROM nowhere"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "error:" in str(status.render()), what="the error shown inline")
        assert "nowhere" in str(status.render())
        # The query went into the history list beside the editor.
        assert len(app.query_one("#view-sql").history) == 2  # type: ignore[attr-defined]
        await pilot.press("escape", "q")


async def test_open_a_past_run_and_see_its_replayed_chat(tmp_path: Path) -> None:
    db = tmp_path / "past.duckdb"

    async def record_a_run() -> str:
        async with Host(db=db) as host:
            result = await host.load(DATA / "tools_agent.yaml").run("Add 2 and 3")
        return result.run_id

    past = await record_a_run()
    app = GoGridApp([], db=db, tick=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.view == "runs"
        runs = app.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: runs.row_count == 1, what="the runs history")
        assert table_rows(runs)[0][0] == past and table_rows(runs)[0][2] == "succeeded"
        runs.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: past in app.state.runs, what="the replay")
        assert app.state.runs[past].replayed
        assert app.view == "agents"
        log = app.query_one("#chat-log", RichLog)
        text = await wait_for(pilot, lambda: (t := log_text(log)) and "helper" in t and t, what="the replayed chat")
        assert "Add 2 and 3" in text and "calculate(" in text
        # Read-only: nothing to kill in a replayed run.
        await pilot.press("k")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("t")
        traces = app.query_one("#traces-table", DataTable)
        await wait_for(pilot, lambda: traces.row_count >= 5, what="the replayed trace")
        await pilot.press("q")


async def test_demo_team_debates_votes_uses_tools_and_fills_its_budget(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    app = GoGridApp([fast_demo(tmp_path)], db=db, tick=0.05)
    async with app.run_test(size=(160, 48)) as pilot:
        run_id = await wait_for(pilot, lambda: next(iter(app.state.runs), None), what="the run to start")
        await wait_for(pilot, lambda: app.state.runs[run_id].status == "succeeded", timeout=60, what="the demo to finish")
        team = next(n for n in app.state.nodes.values() if n.pattern == "team")
        table = app.query_one("#agents-table", FastTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(team.span_id))
        await wait_for(pilot, lambda: app.selected == team.span_id, what="the team selected")
        log = app.query_one("#chat-log", RichLog)
        text = await wait_for(pilot, lambda: (t := log_text(log)) and "== launch-review: reached" in t and t, what="the consensus")
        assert "vote skeptic: wait - untested rollback" in text
        assert "⚙ calculate(" in text and "↳ days_between" in text and "⚙ memory_append(" in text
        assert "Round 1 of at most" not in text  # members' prompts stay out of the room view
        await pilot.press("m")
        memory = app.query_one("#memory-table", DataTable)
        await wait_for(pilot, lambda: memory.row_count >= 1, what="the shared memory")
        row = table_rows(memory)[0]
        assert row[2] == "2" and "skeptic:2" in row[4]
        await pilot.press("b")
        budgets = app.query_one("#budgets-table", DataTable)
        await wait_for(pilot, lambda: budgets.row_count >= 1, what="the budget")
        row = table_rows(budgets)[0]
        assert row[4] == "$0.3000" and "50%" in row[7], row
        await pilot.press("q")


async def test_more_runs_launch_from_inside(tmp_path: Path) -> None:
    db = tmp_path / "launch.duckdb"
    app = GoGridApp([], db=db, tick=0.05, search_dirs=[DATA], run_input="Add 1 and 2")
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.view == "runs"
        await wait_for(pilot, lambda: app.host_ready, what="the engine")
        launcher = app.query_one("#launcher", OptionList)
        names = [str(launcher.get_option_at_index(i).prompt) for i in range(launcher.option_count)]
        assert any("tools_agent.yaml" in n for n in names)
        launcher.focus()
        launcher.highlighted = next(i for i, n in enumerate(names) if "tools_agent.yaml" in n)
        await pilot.press("enter")
        first = await wait_for(pilot, lambda: next(iter(app.state.runs), None), what="a run launched from the launcher")
        assert app.view == "agents"
        # And one more from the `:` prompt, while the first may still be running.
        await pilot.press("colon", *f"launch {DATA / 'tools_agent.yaml'}", "enter")
        await wait_for(pilot, lambda: len(app.state.runs) == 2, what="a second run")
        await wait_for(pilot, lambda: all(r.status == "succeeded" for r in app.state.runs.values()), what="both runs")
        assert first in app.state.runs
        await pilot.press("q")
    assert {db_status(db, rid) for rid in app.state.runs} == {"succeeded"}


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gogrid.console.__main__ import main

    assert main([str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: no such manifest file" in capsys.readouterr().err
    bad = tmp_path / "keymap.toml"
    bad.write_text('nope = "x"\n', encoding="utf-8")
    assert main(["--keymap", str(bad)]) == 2
    assert "unknown action id(s) nope" in capsys.readouterr().err


async def test_raise_and_lower_a_live_budget_limit(tmp_path: Path) -> None:
    demo = fast_demo(tmp_path)
    demo.write_text(demo.read_text().replace("latency_ms: [1, 3]", "latency_ms: [400, 600]"))
    app = GoGridApp([demo], tick=0.05)
    async with app.run_test(size=(160, 48)) as pilot:
        run_id = await wait_for(pilot, lambda: next(iter(app.state.runs), None), what="the run")
        await wait_for(pilot, lambda: app.selected is not None, what="the run to be selected")
        await pilot.press("b")
        await wait_for(pilot, lambda: app.view == "budgets", what="the budgets view")
        budgets = app.query_one("#budgets-table", DataTable)
        await wait_for(pilot, lambda: budgets.row_count >= 1 and table_rows(budgets)[0][4] == "$0.3000", what="the live budget")
        await pilot.press("plus")
        await wait_for(pilot, lambda: table_rows(budgets)[0][4] == "$0.4500", what="the raised limit")
        await pilot.press("minus")
        await wait_for(pilot, lambda: table_rows(budgets)[0][4] == "$0.2250", what="the lowered limit")
        assert app.state.runs[run_id].status == "running"
        await pilot.press("q")  # quitting cancels the live run
    assert app.state.runs[run_id].status in ("running", "cancelled")
