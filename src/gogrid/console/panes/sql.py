"""SQL: an editor with history and saved queries, results in a (virtualised) table, errors
inline. Queries go to the App, which runs them in a worker thread against its own store."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from gogrid.console.panes.base import Pane

MAX_ROWS = 10_000
SQL_KEYS: list[tuple[str, str, str]] = [
    ("ctrl+r", "run_query", "Run query"),
    ("ctrl+e", "edit", "Editor"),
    ("escape", "leave_editor", "Leave editor"),
]
DEFAULT_SQL = "SELECT run_id, workflow, status, started_at FROM runs ORDER BY started_at DESC LIMIT 20"


class SqlPane(Pane):
    TITLE = "SQL"
    BINDINGS = list(SQL_KEYS)

    class RunQuery(Message):
        def __init__(self, sql: str) -> None:
            super().__init__()
            self.sql = sql

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self.saved: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sql-top"):
            yield OptionList(id="sql-library")
            with Vertical(id="sql-edit"):
                yield TextArea(DEFAULT_SQL, id="sql-editor", soft_wrap=True, show_line_numbers=False)
                yield Static("ctrl+r run · ctrl+e editor · pick a saved query or history entry on the left", id="sql-status")
        yield DataTable(id="sql-results", zebra_stripes=True)

    @property
    def editor(self) -> TextArea:
        return self.query_one("#sql-editor", TextArea)

    def focus_main(self) -> None:
        self.editor.focus()

    def action_edit(self) -> None:
        self.editor.focus()

    def action_leave_editor(self) -> None:
        """Escape hands the keys back to the console (views, `:`, `q`)."""
        self.query_one("#sql-results", DataTable).focus()

    def action_run_query(self) -> None:
        sql = self.editor.text.strip()
        if not sql:
            return
        if not self.history or self.history[-1] != sql:
            self.history.append(sql)
        self.set_status(Text("running…", style="dim"))
        self.post_message(self.RunQuery(sql))
        self.redraw()

    def set_status(self, text: Text) -> None:
        self.query_one("#sql-status", Static).update(text)

    def show_result(self, columns: list[str], rows: list[tuple[Any, ...]], seconds: float) -> None:
        table = self.query_one("#sql-results", DataTable)
        table.clear(columns=True)
        for c in columns:
            table.add_column(c)
        shown = rows[:MAX_ROWS]
        table.add_rows([tuple("NULL" if v is None else str(v) for v in row) for row in shown])
        more = f" (first {MAX_ROWS})" if len(rows) > MAX_ROWS else ""
        self.set_status(Text(f"{len(rows)} row(s){more} in {seconds * 1000:.0f} ms", style="green"))

    def show_error(self, message: str) -> None:
        self.set_status(Text(f"error: {message}", style="bold red"))

    def redraw(self, force: bool = False) -> None:
        library = self.query_one("#sql-library", OptionList)
        if not self.saved:
            self.saved = self.gg.data.saved_queries()
        options: list[Option] = [Option(Text(f"★ {name}"), id=f"saved:{name}") for name in self.saved if self.matches(name, self.saved[name])]
        options += [Option(Text(f"↺ {sql[:60]}"), id=f"hist:{i}") for i, sql in reversed(list(enumerate(self.history))) if self.matches(sql)]
        library.clear_options()
        library.add_options(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id or ""
        if oid.startswith("saved:"):
            self.editor.text = self.saved[oid[6:]]
        elif oid.startswith("hist:"):
            self.editor.text = self.history[int(oid[5:])]
        self.editor.focus()
