"""Runs history and launcher: past runs from the database (Enter replays one into the panes,
read-only) and the manifests found in ./sample_configs and the current folder (Enter launches)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from gogrid.console.format import duration, status_style, tokens, usd
from gogrid.console.panes.base import Pane


def find_manifests(folders: list[Path]) -> list[Path]:
    """YAML files that look like GoGrid manifests (they declare `version:` and a workflow)."""
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                head = p.read_text(encoding="utf-8", errors="replace")[:20_000]
            except OSError:
                continue
            if "workflow" in head and ("agents:" in head or "models:" in head) and p.resolve() not in {f.resolve() for f in found}:
                found.append(p)
    return found


class RunsPane(Pane):
    TITLE = "Runs"

    class OpenRun(Message):
        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class Launch(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.manifests: list[Path] = []
        self.history: list[dict[str, Any]] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="runs-body"):
            table: DataTable[object] = DataTable(cursor_type="row", zebra_stripes=True, id="runs-table")
            for label, key in (("Run", "run"), ("Workflow", "wf"), ("Status", "status"), ("Started", "started"),
                               ("Duration", "dur"), ("Tokens", "tok"), ("Cost", "cost")):
                table.add_column(label, key=key)
            yield table
            launcher = OptionList(id="launcher")
            launcher.border_title = "Launch"
            yield launcher

    def focus_main(self) -> None:
        self.query_one("#runs-table", DataTable).focus()

    def set_history(self, rows: list[dict[str, Any]]) -> None:
        self.history = rows
        self.redraw()

    def set_manifests(self, paths: list[Path]) -> None:
        self.manifests = paths
        launcher = self.query_one("#launcher", OptionList)
        launcher.clear_options()
        launcher.add_options([Option(_label(p), id=str(i)) for i, p in enumerate(paths)])

    def redraw(self, force: bool = False) -> None:
        table = self.query_one("#runs-table", DataTable)
        table.clear()
        live = self.gg.state.runs
        for r in self.history:
            status = r["status"]
            info = live.get(r["run_id"])
            if info is not None and not info.replayed:
                status = info.status  # the database lags by a flush interval
            if not self.matches(r["run_id"], r["workflow"], status, r["manifest"]):
                continue
            started = r["started_at"]
            table.add_row(
                r["run_id"], r["workflow"], Text(status, style=status_style(status)),
                started.strftime("%Y-%m-%d %H:%M:%S") if hasattr(started, "strftime") else str(started),
                duration(r["duration_s"]), tokens(int(r["tokens"] or 0)), usd(r["cost_usd"]) if r["cost_usd"] is not None else "-",
                key=r["run_id"],
            )
        self.border_title = f"{self.TITLE} [{table.row_count}]"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.OpenRun(event.row_key.value))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Launch(self.manifests[int(event.option.id or 0)]))


def _label(p: Path) -> Text:
    try:
        folder = str(p.resolve().parent.relative_to(Path.cwd()))
    except ValueError:
        folder = str(p.parent)
    label = Text(p.name)
    if folder not in ("", "."):
        label.append(f"  {folder}/", style="dim")
    return label
