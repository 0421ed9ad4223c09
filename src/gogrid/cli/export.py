"""`gogrid export RUN`: one run's events, as JSON lines (replayable) or Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gogrid.cli._store import add_db_argument, reader, resolve_run
from gogrid.cli.common import fail
from gogrid.store.store import StoreError

COMMAND = "export"
HELP = "export one run's events as JSON lines or Parquet"

_SQL = "SELECT seq, event_id, ts, run_id, span_id, parent_span_id, kind, payload FROM events WHERE run_id = ? ORDER BY seq"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run id (a unique prefix is enough)")
    p.add_argument("--format", "-f", choices=("jsonl", "parquet"), default="jsonl", help="jsonl (default): one event per line; parquet: the events table")
    p.add_argument("--output", "-o", metavar="FILE", help="file to write (default: standard output for jsonl, RUN.parquet for parquet)")
    add_db_argument(p)


def main(args: argparse.Namespace) -> int:
    try:
        with reader(args) as r:
            run_id = resolve_run(r, args.run)
            table = r.arrow(_SQL, [run_id])
    except StoreError as e:
        return fail(str(e), 1)
    if args.format == "parquet":
        import pyarrow.parquet as pq

        output = args.output or f"{run_id}.parquet"
        pq.write_table(table, output)
    else:
        lines = "".join(str(p) + "\n" for p in table.column("payload").to_pylist())
        if args.output is None:
            sys.stdout.write(lines)
            return 0
        output = args.output
        Path(output).write_text(lines, encoding="utf-8")
    print(f"wrote {table.num_rows} event(s) of run {run_id} to {output}", file=sys.stderr)
    return 0
