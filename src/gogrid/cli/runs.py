"""`gogrid runs`: the latest runs, newest first."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gogrid.cli._store import add_db_argument, aligned, duration, money, reader
from gogrid.cli.common import UsageError, fail
from gogrid.store.store import StoreError

COMMAND = "runs"
HELP = "list recent runs: id, manifest, status, started, duration, tokens, cost"

_SQL = """
SELECT run_id, manifest, workflow, status, started_at, duration_s, tokens, cost_usd, cost_complete
FROM run_summary {where} ORDER BY started_at DESC LIMIT ?
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", "-n", type=int, default=20, metavar="N", help="how many runs (default: 20)")
    p.add_argument("--status", metavar="STATUS", help="only runs with this status (running, succeeded, failed, interrupted, ...)")
    p.add_argument("--json", action="store_true", help="print JSON records")
    add_db_argument(p)


def main(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError(f"--limit: expected a positive number, got {args.limit}")
    where, params = ("WHERE status = ?", [args.status]) if args.status else ("", [])
    try:
        with reader(args) as r:
            rows = r.rows(_SQL.format(where=where), [*params, args.limit])
    except StoreError as e:
        return fail(str(e), 1)
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    if not rows:
        print("no runs yet")
        return 0
    table = [
        [
            row["run_id"],
            Path(row["manifest"]).name if row["manifest"] else row["workflow"],
            row["status"],
            f"{row['started_at']:%Y-%m-%d %H:%M:%S}",
            duration(row["duration_s"]),
            row["tokens"],
            money(row["cost_usd"], row["cost_complete"]),
        ]
        for row in rows
    ]
    print(aligned(["id", "manifest", "status", "started (UTC)", "duration", "tokens", "cost"], table))
    return 0
