"""Agents: the live tree of runs, workflow nodes and agents. Selecting a row drives the other
panes (chat, traces, budgets, memory)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable

from gogrid.console.format import duration, status_style, tokens, usd
from gogrid.console.panes.base import Pane
from gogrid.console.state import Node

COLUMNS = ("name", "status", "model", "turns", "tokens", "cost", "elapsed")
GLYPH = {"run": "◆", "node": "▸", "agent": "•"}


class AgentsPane(Pane):
    TITLE = "Agents"

    class Selected(Message):
        def __init__(self, span_id: str | None) -> None:
            super().__init__()
            self.span_id = span_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rows: set[str] = set()
        self._last_elapsed = 0.0

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(cursor_type="row", zebra_stripes=True, id="agents-table")
        for c in COLUMNS:
            table.add_column(c.capitalize() if c != "tokens" else "Tokens", key=c)
        yield table

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#agents-table", DataTable)

    def focus_main(self) -> None:
        self.table.focus()

    def _cells(self, n: Node, now: float) -> tuple[object, ...]:
        label = Text("  " * n.depth + GLYPH.get(n.kind, "•") + " ")
        label.append(n.name, style="bold" if n.kind == "run" else "")
        if n.kind == "node" and n.pattern:
            label.append(f" ({n.pattern})", style="dim")
        if n.kind == "run":
            label.append(f" {n.run_id[-6:]}", style="dim")
        total = n.tokens_in + n.tokens_out
        return (
            label,
            Text(n.status, style=status_style(n.status)),
            n.model or "",
            str(n.turns) if n.kind == "agent" else "",
            tokens(total) if total else "",
            usd(n.cost, n.cost_unknown) if (n.cost or n.cost_unknown) else "",
            duration(n.elapsed(now)),
        )

    def redraw(self, force: bool = False) -> None:
        state = self.gg.state
        table = self.table
        now = time.time() if self.gg.live_clock else state.last_ts
        if state.structure_changed or force:
            state.structure_changed = False
            state.changed_nodes.clear()
            nodes = [n for n in state.ordered_nodes() if self.matches(n.name, n.path, n.status, n.model, n.run_id)]
            selected = self.gg.selected
            table.clear()
            self._rows = set()
            for n in nodes:
                table.add_row(*self._cells(n, now), key=n.span_id)
                self._rows.add(n.span_id)
            if selected in self._rows:
                table.move_cursor(row=table.get_row_index(selected), animate=False)
            self.border_title = f"{self.TITLE} [{len(nodes)}]"
            return
        changed = state.changed_nodes
        state.changed_nodes = set()
        # Elapsed times tick once a second for live rows (bounded, so a huge run stays cheap).
        if now - self._last_elapsed >= 1.0:
            self._last_elapsed = now
            live = [sid for sid in self._rows if state.nodes[sid].live]
            changed.update(live[:500])
        for sid in changed:
            node = state.nodes.get(sid)
            if node is None or sid not in self._rows:
                continue
            for col, value in zip(COLUMNS[1:], self._cells(node, now)[1:], strict=True):
                table.update_cell(sid, col, value, update_width=True)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        if key != self.gg.selected:
            self.post_message(self.Selected(key))
