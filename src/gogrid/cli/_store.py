"""What the database commands (runs, show, sql, export) share: `--db`, run-id prefixes, output."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from gogrid.cli.common import UsageError, db_path
from gogrid.store.client import Reader

FORMATS = ("table", "csv", "json", "parquet")


def add_db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="FILE", help="database (default: $GOGRID_DB or ./.gogrid/gogrid.duckdb)")


def reader(args: argparse.Namespace) -> Reader:
    return Reader(db_path(args.db))


def run_report(args: argparse.Namespace, collect: Callable[[Reader, str], dict[str, Any]], render: Callable[[dict[str, Any]], str]) -> int:
    """What `show` and `cost` share: resolve RUN (a unique prefix), collect a report from the
    store, print it as text or, with --json, as JSON."""
    from gogrid.cli.common import fail
    from gogrid.store.store import StoreError

    try:
        with reader(args) as r:
            report = collect(r, resolve_run(r, args.run))
    except StoreError as e:
        return fail(str(e), 1)
    print(json.dumps(report, default=str, indent=2) if args.json else render(report))
    return 0


def resolve_run(r: Reader, prefix: str) -> str:
    """A run id from a unique prefix; no match or several are usage errors naming the choices."""
    rows = r.arrow(
        "SELECT run_id, workflow, started_at FROM runs WHERE starts_with(run_id, ?) ORDER BY started_at DESC LIMIT 11",
        [prefix],
    ).to_pylist()
    if any(row["run_id"] == prefix for row in rows):
        return prefix
    if not rows:
        raise UsageError(f"RUN: no run id starts with {prefix!r} (see `gogrid runs`)")
    if len(rows) > 1:
        listed = "\n".join(f"  {row['run_id']}  {row['workflow']}  {row['started_at']:%Y-%m-%d %H:%M:%S}" for row in rows[:10])
        more = "\n  ..." if len(rows) > 10 else ""
        raise UsageError(f"RUN: {prefix!r} matches several runs; give more of the id:\n{listed}{more}")
    return str(rows[0]["run_id"])


# --- output -------------------------------------------------------------------------------------


def cell(value: Any, width: int | None = None) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, float):
        text = f"{value:.6g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.3e}"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def aligned(columns: list[str], rows: list[list[Any]], *, max_width: int = 60) -> str:
    """A plain aligned table: numbers right-aligned, long cells cut with an ellipsis."""
    texts = [[cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(t[i]) for t in texts]) for i, c in enumerate(columns)]
    numeric = [bool(rows) and all((isinstance(r[i], int | float | Decimal) and not isinstance(r[i], bool)) or r[i] is None for r in rows) for i in range(len(columns))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out.extend(line(t) for t in texts)
    return "\n".join(out)


def write_table(table: pa.Table, fmt: str, output: str | None) -> None:
    """Write a query result as an aligned table, CSV, JSON (records) or Parquet."""
    if fmt == "parquet":
        if not output:
            raise UsageError("--format parquet needs --output FILE")
        import pyarrow.parquet as pq

        pq.write_table(table, output)
        print(f"wrote {table.num_rows} row(s) to {output}", file=sys.stderr)
        return
    if fmt == "table":
        rows = [list(r) for r in zip(*[c.to_pylist() for c in table.columns], strict=True)] if table.num_columns else []
        text = aligned(table.column_names, rows) + f"\n({table.num_rows} row{'s' if table.num_rows != 1 else ''})\n"
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(table.column_names)
        for row in zip(*[c.to_pylist() for c in table.columns], strict=True):
            w.writerow(["" if v is None else (json.dumps(v, default=str) if isinstance(v, dict | list) else v) for v in row])
        text = buf.getvalue()
    elif fmt == "json":
        text = json.dumps(table.to_pylist(), default=str, indent=2) + "\n"
    else:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {table.num_rows} row(s) to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def money(cost: float | None, complete: bool | None = True) -> str:
    if cost is None:
        return "unknown"
    return f"${cost:.6f}" + ("" if complete in (True, None) else "+?")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"
