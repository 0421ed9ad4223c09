"""Budgets: each budget in scope with a spent/limit gauge, burn rate, time to limit and the
thresholds crossed. `k` kills what the highlighted budget governs (after a confirmation naming
what will stop); `+`/`-` raise or lower its limit."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from gogrid.console.format import amount, duration, gauge, status_style
from gogrid.console.panes.base import Pane


@dataclass(slots=True)
class BudgetRow:
    key: str
    run_id: str
    scope: str  # what the budget governs (a path or a span id)
    span_id: str | None  # the live scope to kill, when known
    metric: str
    spent: float
    limit: float | None
    burn_rate: float | None
    time_to_limit: float | None
    thresholds: list[float]
    status: str


class BudgetsPane(Pane):
    TITLE = "Budgets"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.rows: dict[str, BudgetRow] = {}

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(cursor_type="row", id="budgets-table")
        for label, key in (("Scope", "scope"), ("Metric", "metric"), ("Gauge", "gauge"), ("Spent", "spent"), ("Limit", "limit"),
                           ("Burn/s", "burn"), ("To limit", "ttl"), ("Thresholds", "thr"), ("Status", "status")):
            table.add_column(label, key=key)
        yield table
        yield Static("k kill · + raise limit · - lower limit", id="budgets-hint")

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#budgets-table", DataTable)

    def focus_main(self) -> None:
        self.table.focus()

    def highlighted(self) -> BudgetRow | None:
        table = self.table
        if not table.row_count or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.rows.get(key or "")

    def redraw(self, force: bool = False) -> None:
        rows = [r for r in self.gg.budget_rows() if self.matches(r.scope, r.metric, r.status, r.run_id)]
        table = self.table
        keep = self.highlighted()
        table.clear()
        self.rows = {}
        for r in rows:
            frac = (r.spent / r.limit) if r.limit else None
            g = Text(gauge(frac), style="red" if frac is not None and frac >= 0.9 else ("yellow" if frac is not None and frac >= 0.5 else "green"))
            per_s = amount(r.burn_rate, r.metric) if r.burn_rate is not None else "-"
            table.add_row(
                r.scope, r.metric, g, amount(r.spent, r.metric), amount(r.limit, r.metric) if r.limit is not None else "none",
                per_s, duration(r.time_to_limit), ", ".join(f"{t:.0%}" for t in r.thresholds) or "-",
                Text(r.status, style=status_style(r.status)), key=r.key,
            )
            self.rows[r.key] = r
        if keep is not None and keep.key in self.rows:
            table.move_cursor(row=table.get_row_index(keep.key), animate=False)
        self.border_title = f"{self.TITLE} [{len(rows)}]"
