"""Snapshot tests of the main screens at 80x24 and 160x48.

Deterministic by construction: a finished run replayed from a fixed event log (fixed ids and
timestamps, so every duration is fixed), no database path in the header, no clock, and the
launcher lists only this folder's test manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from console_support import DATA, table_rows, wait_for, write_fixed_log
from textual.pilot import Pilot

from gogrid.console.app import GoGridApp
from gogrid.console.widgets.fasttable import FastTable

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
SCREENS = {"agents": [], "traces": ["t"], "budgets": ["b"], "memory": ["m"], "runs": ["r"], "help": ["question_mark"]}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_main_screens(snap_compare: Any, tmp_path: Path, screen: str, size: str) -> None:
    log = write_fixed_log(tmp_path / "events.jsonl")
    app = GoGridApp(replay=[log], live_clock=False, tick=0.05, search_dirs=[DATA])

    async def ready(pilot: Pilot[Any]) -> None:
        table = app.query_one("#agents-table", FastTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="the replayed tree")
        table.move_cursor(row=next(i for i, r in enumerate(table_rows(table)) if "panel" in r[0]))
        await wait_for(pilot, lambda: app.selected == "s-team", what="the team selected")
        for key in SCREENS[screen]:
            await pilot.press(key)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=ready)
