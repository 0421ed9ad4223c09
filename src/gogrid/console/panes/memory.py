"""Shared memory: namespaces with their entries, bytes and writes per agent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable

from gogrid.console.panes.base import Pane


class MemoryPane(Pane):
    TITLE = "Shared memory"

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(cursor_type="row", id="memory-table")
        for label in ("Namespace", "Run", "Entries", "Bytes", "Writes by agent"):
            table.add_column(label)
        yield table

    def focus_main(self) -> None:
        self.query_one(DataTable).focus()

    def redraw(self, force: bool = False) -> None:
        gg = self.gg
        run = gg.state.run_of(gg.selected)
        table = self.query_one(DataTable)
        table.clear()
        spaces = [ns for ns in gg.state.memory.values() if run is None or ns.run_id == run]
        for ns in spaces:
            writes = ", ".join(f"{a}:{n}" for a, n in sorted(ns.writes_by_agent.items(), key=lambda kv: (-kv[1], kv[0])))
            if self.matches(ns.name, writes):
                table.add_row(ns.name, ns.run_id[-8:], str(ns.entries), str(ns.bytes), writes)
        self.border_title = f"{self.TITLE} [{table.row_count}]"
