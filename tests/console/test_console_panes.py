"""Pilot tests of each pane, the keys, the command line, the palette, help and the keymap."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_support import DATA, log_text, table_rows, wait_for, write_fixed_log
from textual.widgets import DataTable, RichLog, Static

from gogrid.console.actions import ACTIONS, KeymapError, load_keymap
from gogrid.console.app import GoGridApp
from gogrid.console.screens import HelpScreen
from gogrid.console.widgets.fasttable import FastTable

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def replay_app(tmp_path: Path, **kwargs: object) -> GoGridApp:
    log = write_fixed_log(tmp_path / "events.jsonl")
    return GoGridApp(replay=[log], live_clock=False, tick=0.05, search_dirs=[DATA], **kwargs)  # type: ignore[arg-type]


async def select_row(pilot: object, app: GoGridApp, name: str) -> None:
    table = app.query_one("#agents-table", FastTable)
    await wait_for(pilot, lambda: table.row_count >= 4, what="the tree")  # type: ignore[arg-type]
    row = next(i for i, r in enumerate(table_rows(table)) if name in r[0])
    table.focus()
    table.move_cursor(row=row)
    await wait_for(pilot, lambda: app.state.nodes.get(app.selected or "") is not None and app.state.nodes[app.selected].name == name, what=f"{name} selected")  # type: ignore[arg-type, index]


async def test_streaming_output_arrives_word_by_word(tmp_path: Path) -> None:
    app = GoGridApp([DATA / "stream_agent.yaml"], tick=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        box = app.query_one("#chat-streams", Static)
        first = await wait_for(pilot, lambda: box.display and "talker" in (t := str(box.render())) and t, what="a partial answer")
        later = await wait_for(pilot, lambda: box.display and len(t := str(box.render())) > len(first) + 10 and t, what="more words")
        assert later.startswith(first.rstrip("…").rstrip()[:20])
        run_id = next(iter(app.state.runs))
        await wait_for(pilot, lambda: app.state.runs[run_id].status == "succeeded", what="the answer")
        await wait_for(pilot, lambda: not box.display, what="the stream to become a message")
        assert "talker" in log_text(app.query_one("#chat-log", RichLog))
        await pilot.press("q")


async def test_team_chat_shows_votes_consensus_and_tools(tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_row(pilot, app, "panel")
        log = app.query_one("#chat-log", RichLog)
        await wait_for(pilot, lambda: "reached" in log_text(log), what="votes and consensus")
        text = log_text(log)
        assert "vote ada: no - a week gives time to test" in text
        assert "vote bob: no" in text
        assert "== panel: reached: no (majority) ==" in text
        assert "⚙ days_between(" in text and "↳ days_between" in text
        # Selecting one agent narrows the room to what that agent said.
        await select_row(pilot, app, "bob")
        await wait_for(pilot, lambda: "ada" not in log_text(log).replace("panel", ""), what="bob's messages only")
        assert "Friday is risky" in log_text(log)


async def test_traces_waterfall_marks_retries_and_shows_details(tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_row(pilot, app, "demo")
        await pilot.press("t")
        table = app.query_one("#traces-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 7, what="7 spans")
        rows = table_rows(table)
        assert rows[0][0].strip() == "demo" and rows[0][1] == "1.0s"
        retried = next(r for r in rows if "debater turn 1 ↻1" in r[0])
        assert "█" in retried[2]
        table.focus()
        table.move_cursor(row=rows.index(retried))
        detail = app.query_one("#span-detail", Static)
        text = await wait_for(pilot, lambda: "attempt 1" in (t := str(detail.render())) and t, what="span details")
        assert "HTTP 429" in text and "tokens in 118 out 44" in text
        # `/` searches inside the trace.
        await pilot.press("slash")
        await pilot.press(*"days")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.row_count == 1, what="the filtered trace")
        assert "days_between" in table_rows(table)[0][0]


async def test_memory_and_budget_panes(tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_row(pilot, app, "demo")
        await pilot.press("m")
        memory = app.query_one("#memory-table", DataTable)
        await wait_for(pilot, lambda: memory.row_count == 1, what="the namespace")
        assert table_rows(memory)[0] == ["panel", "rfixed0001"[-8:], "2", "76", "ada:1, bob:1"]
        await pilot.press("b")
        budgets = app.query_one("#budgets-table", DataTable)
        await wait_for(pilot, lambda: budgets.row_count == 1, what="the budget")
        row = table_rows(budgets)[0]
        assert row[0] == "demo/panel" and row[4] == "$0.0005" and row[7] == "50%"
        assert "█" in row[2]


async def test_filter_maximise_theme_and_command_line(tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_row(pilot, app, "demo")
        table = app.query_one("#agents-table", FastTable)
        await pilot.press("slash", *"bob", "enter")
        await wait_for(pilot, lambda: table.row_count == 1, what="filtered tree")
        assert "bob" in table_rows(table)[0][0]
        await pilot.press("slash", "escape")
        await wait_for(pilot, lambda: table.row_count == 4, what="the whole tree again")
        await pilot.press("z")
        assert app.screen.maximized is app.query_one("#agents")
        await pilot.press("z")
        assert app.screen.maximized is None
        theme = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != theme
        await pilot.press("colon", *"sql", "enter")
        assert app.view == "sql"
        await pilot.press("escape", "colon", *"runs", "enter")
        assert app.view == "runs"
        await pilot.press("colon", *"nonsense", "enter")
        await pilot.pause(0.1)
        assert any("unknown command :nonsense" in n.message for n in app._notifications)
        await pilot.press("q")
    assert app.return_code == 0


async def test_help_lists_every_binding_and_palette_jumps(tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_row(pilot, app, "demo")
        await pilot.press("question_mark")
        help_screen = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, HelpScreen) else None, what="help")
        ids = {row[3] for row in help_screen.rows}
        assert {a.id for a in ACTIONS} <= ids
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Go to traces")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view == "traces", what="the palette to jump")
        commands = [name for name, _, _ in app.context_commands()]
        assert "Traces of demo" in commands and not any(c.startswith("Kill") for c in commands)  # replayed: read-only
        assert any(c.startswith("Launch") and "tools_agent.yaml" in c for c in commands)


async def test_user_keymap_remaps_by_binding_id(tmp_path: Path) -> None:
    keymap_file = tmp_path / "keymap.toml"
    keymap_file.write_text('[keys]\n"view.sql" = "f5"\nhelp = "f1"\n', encoding="utf-8")
    keymap = load_keymap(keymap_file)
    assert keymap == {"view.sql": "f5", "help": "f1"}
    app = replay_app(tmp_path, keymap=keymap)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s")
        assert app.view == "agents"  # the default key is gone
        await pilot.press("f5")
        assert app.view == "sql"
        await pilot.press("escape", "f1")
        help_screen = await wait_for(pilot, lambda: app.screen if isinstance(app.screen, HelpScreen) else None, what="help")
        assert ("f5", "SQL", "views", "view.sql") in help_screen.rows


def test_keymap_errors_name_the_file_and_the_ids(tmp_path: Path) -> None:
    bad = tmp_path / "keymap.toml"
    bad.write_text('kil = "x"\n', encoding="utf-8")
    with pytest.raises(KeymapError, match=r"keymap.toml: unknown action id\(s\) kil"):
        load_keymap(bad)
    bad.write_text("kill = [", encoding="utf-8")
    with pytest.raises(KeymapError, match=r"keymap\.toml"):
        load_keymap(bad)
    assert load_keymap(tmp_path / "missing.toml") == {}
