"""Agents: the live tree of runs, workflow nodes and agents. Selecting a row drives the other
panes (chat, traces, budgets, memory)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message

from gogrid.console.format import duration, status_style, tokens, usd
from gogrid.console.panes.base import Pane
from gogrid.console.state import Node
from gogrid.console.widgets.fasttable import FastTable

COLUMNS = ("name", "status", "model", "turns", "tokens", "cost", "elapsed")
GLYPH = {"run": "◆", "node": "▸", "agent": "•"}
# Columns whose values change get a fixed width, so an update repaints one row and nothing else.
FIXED_WIDTHS = {"status": 11, "turns": 5, "tokens": 6, "cost": 8, "elapsed": 7}
STATUS_LABEL = {"budget_exceeded": "over budget"}


class AgentsPane(Pane):
    TITLE = "Agents"

    class Selected(Message):
        def __init__(self, span_id: str | None) -> None:
            super().__init__()
            self.span_id = span_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._rows: set[str] = set()
        self._order: list[str] = []
        self._stale: set[str] = set()
        self._built_at = 0.0
        self._last_elapsed = 0.0

    def compose_body(self) -> ComposeResult:
        yield FastTable([(c.capitalize(), FIXED_WIDTHS.get(c)) for c in COLUMNS], id="agents-table")

    @property
    def table(self) -> FastTable:
        return self.query_one("#agents-table", FastTable)

    def focus_main(self) -> None:
        self.table.focus()

    def _cells(self, n: Node, now: float) -> tuple[Text, ...]:
        label = Text("  " * n.depth + GLYPH.get(n.kind, "•") + " ")
        label.append(n.name, style="bold" if n.kind == "run" else "")
        if n.kind == "node" and n.pattern:
            label.append(f" ({n.pattern})", style="dim")
        if n.kind == "run":
            label.append(f" {n.run_id[-6:]}", style="dim")
        total = n.tokens_in + n.tokens_out
        # Text, not str: a str cell would be parsed as markup on every render.
        return (
            label,
            Text(STATUS_LABEL.get(n.status, n.status), style=status_style(n.status)),
            Text(n.model or ""),
            Text(str(n.turns) if n.kind == "agent" else ""),
            Text(tokens(total) if total else ""),
            Text(usd(n.cost, n.cost_unknown) if (n.cost or n.cost_unknown) else ""),
            Text(duration(n.elapsed(now))),
        )

    def redraw(self, force: bool = False) -> None:
        """Rows are appended when new nodes land at the end of the tree (the common case) and
        the table is rebuilt otherwise (at most once a second when it is large). Cell values
        are refreshed only for rows in view: the rest are marked stale and refreshed when
        scrolled to, so a run with thousands of agents costs what a screenful costs."""
        state = self.gg.state
        table = self.table
        now = time.time() if self.gg.live_clock else state.last_ts
        self._stale |= state.changed_nodes
        state.changed_nodes = set()
        if state.structure_changed or force:
            order = [n.span_id for n in state.ordered_nodes() if self.matches(n.name, n.path, n.status, n.model, n.run_id)]
            appendable = order[: len(self._order)] == self._order
            if force or appendable or len(self._order) < 300 or time.monotonic() - self._built_at >= 1.0:
                state.structure_changed = False
                self._build(order, now, append=appendable and not force)
        tick = now - self._last_elapsed >= 1.0
        if tick:
            self._last_elapsed = now
        top = int(table.scroll_y)
        for i in range(max(0, top - 2), min(len(self._order), top + table.size.height + 2)):
            sid = self._order[i]
            node = state.nodes[sid]
            if sid in self._stale or (tick and node.live):
                self._stale.discard(sid)
                table.update_row(sid, self._cells(node, now)[1:], start=1)

    def _build(self, order: list[str], now: float, append: bool) -> None:
        table = self.table
        nodes = self.gg.state.nodes
        if append:
            fresh = order[len(self._order) :]
        else:
            table.clear()
            fresh = order
            self._built_at = time.monotonic()
        table.add_rows([(sid, self._cells(nodes[sid], now)) for sid in fresh])
        self._stale.difference_update(fresh)
        self._order = order
        self._rows = set(order)
        selected = self.gg.selected
        if not append and selected in self._rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        title = f"{self.TITLE} [{len(order)}]"
        if title != self.border_title:
            self.border_title = title

    def on_fast_table_highlighted(self, event: FastTable.Highlighted) -> None:
        event.stop()
        if event.row != self.table.cursor_row:
            return  # a stale highlight from before a rebuild
        key = event.key
        if key != self.gg.selected:
            self.post_message(self.Selected(key))
