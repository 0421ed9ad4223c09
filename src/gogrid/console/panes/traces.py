"""Traces: a waterfall of the spans of the selected run or node, durations to scale, errors and
retries marked, and the details of the highlighted span (prompt, output, tokens, cost, attempts).
`/` searches inside the trace."""

from __future__ import annotations

import json
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from gogrid.console.format import duration, one_line, status_style, usd
from gogrid.console.panes.base import Pane
from gogrid.console.state import Span

MAX_ROWS = 3000  # beyond this the waterfall shows the first spans and says how many it left out
KIND_STYLE = {"run": "bold", "node": "blue", "agent": "cyan", "model": "magenta", "tool": "green"}


class TracesPane(Pane):
    TITLE = "Traces"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._spans: dict[str, Span] = {}

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(cursor_type="row", id="traces-table")
        table.add_column("Span", key="span")
        table.add_column("Duration", key="dur")
        table.add_column("Waterfall", key="bar")
        table.add_column("Status", key="status")
        yield table
        with VerticalScroll(id="span-detail-box"):
            yield Static("Select a span to see its details.", id="span-detail")

    def focus_main(self) -> None:
        self.query_one("#traces-table", DataTable).focus()

    def _select_spans(self) -> list[Span]:
        gg = self.gg
        state = gg.state
        run_id = state.run_of(gg.selected)
        if run_id is None:
            run_id = next(reversed(state.runs), None) if state.runs else None
        if run_id is None:
            return []
        spans = [state.spans[s] for s in state.spans_by_run.get(run_id, ())]
        if gg.selected and state.nodes.get(gg.selected, None) and state.nodes[gg.selected].kind != "run":
            spans = [s for s in spans if gg.selected in state.ancestors(s.span_id)]
        return [s for s in spans if self.matches(s.name, s.kind, s.status, s.error, *s.detail.values())]

    def redraw(self, force: bool = False) -> None:
        table = self.query_one("#traces-table", DataTable)
        state = self.gg.state
        spans = self._select_spans()
        now = time.time() if self.gg.live_clock else state.last_ts
        cursor_key = None
        if table.row_count and table.cursor_row >= 0:
            try:
                cursor_key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
            except Exception:
                cursor_key = None
        table.clear()
        self._spans = {}
        if not spans:
            self.border_title = self.TITLE
            return
        t0 = min(s.start for s in spans)
        t1 = max((s.end if s.end is not None else now) for s in spans)
        total = max(t1 - t0, 1e-6)
        bar_width = max(10, min(60, self.size.width - 58))
        depth_cache: dict[str, int] = {}
        for s in spans[:MAX_ROWS]:
            depth = depth_cache.get(s.parent or "", -1) + 1
            depth_cache[s.span_id] = depth
            end = s.end if s.end is not None else now
            off = min(int((s.start - t0) / total * bar_width), bar_width - 1)
            length = min(max(1, round((end - s.start) / total * bar_width)), bar_width - off)
            bad = s.error is not None or s.status not in ("ok", "succeeded", "running")
            bar = Text(" " * off)
            bar.append("█" * length, style="red" if bad else KIND_STYLE.get(s.kind, ""))
            bar.append(" " * (bar_width - off - length))
            name = Text("  " * depth)
            name.append(s.name, style=KIND_STYLE.get(s.kind, ""))
            if s.retries:
                name.append(f" ↻{s.retries}", style="yellow")
            if bad:
                name.append(" ✗", style="bold red")
            status = Text(s.status, style=status_style(s.status))
            table.add_row(name, duration(end - s.start) if s.end is not None else "…", bar, status, key=s.span_id)
            self._spans[s.span_id] = s
        more = len(spans) - MAX_ROWS
        self.border_title = f"{self.TITLE} [{len(spans)} spans, {duration(t1 - t0)}]" + (f" (first {MAX_ROWS})" if more > 0 else "")
        if cursor_key in self._spans:
            table.move_cursor(row=table.get_row_index(cursor_key), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key is not None else None
        span = self._spans.get(key or "")
        if span is not None:
            self.query_one("#span-detail", Static).update(describe(span))


def describe(span: Span) -> Text:
    t = Text()
    t.append(f"{span.kind} {span.name}\n", style="bold")
    t.append(f"status {span.status}", style=status_style(span.status))
    if span.end is not None:
        t.append(f"  duration {duration(span.end - span.start)}")
    t.append("\n")
    if span.error:
        t.append(f"error: {span.error}\n", style="red")
    d = span.detail
    if span.kind == "model":
        t.append(f"tokens in {d.get('input_tokens', d.get('prompt_tokens', 0))} out {d.get('output_tokens', 0)}")
        t.append(f" ({d.get('token_count', d.get('prompt_count', ''))})  cost {usd(d.get('cost_usd'))}\n")
    for label in ("input", "arguments", "output", "result"):
        if d.get(label) not in (None, ""):
            value = d[label] if isinstance(d[label], str) else json.dumps(d[label], default=str)
            t.append(f"{label}: ", style="bold")
            t.append(one_line(value, 600) + "\n")
    for a in span.attempts:
        t.append(f"attempt {a['attempt']} {a['provider']}/{a['model']}: {a['outcome']}", style="yellow" if a["outcome"] != "ok" else "")
        if a.get("http_status"):
            t.append(f" HTTP {a['http_status']}")
        if a.get("error"):
            t.append(f" {one_line(a['error'], 80)}")
        t.append(f" {duration(a.get('latency_s'))}\n")
    return t
