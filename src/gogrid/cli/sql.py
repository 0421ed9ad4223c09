"""`gogrid sql "SELECT ..."`: query every past and live run.

Works the same whether or not another GoGrid process holds the database: it asks the owner over
the local channel if one answers, else opens the file itself.
"""

from __future__ import annotations

import argparse
import sys

from gogrid.cli._store import FORMATS, add_db_argument, aligned, reader, write_table
from gogrid.cli.common import UsageError, fail
from gogrid.store.saved import SAVED
from gogrid.store.store import QueryError, StoreError

COMMAND = "sql"
HELP = "run SQL over the database of runs (aligned table, csv, json or parquet)"
DESCRIPTION = (
    "Run SQL over the database of runs. Tables: runs, agents, nodes, spans, messages, llm_calls, "
    "model_attempts, tool_calls, budget_events, guard_events, memory_writes, votes, kills, events; "
    "views: cost_by_run, cost_by_agent, cost_by_model, run_summary. `--saved` lists named queries."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="?", metavar="SQL", help="the query; '-' reads it from standard input")
    p.add_argument("--saved", nargs="?", const="", metavar="NAME", help="run a saved query; alone, list them")
    p.add_argument("--format", "-f", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    add_db_argument(p)


def main(args: argparse.Namespace) -> int:
    if args.saved == "":
        if args.query:
            raise UsageError("--saved without a NAME lists the saved queries; give a NAME or drop the SQL")
        rows = [[q.name, q.description] for q in SAVED.values()]
        print(aligned(["name", "description"], rows, max_width=100))
        return 0
    if args.saved is not None:
        if args.query:
            raise UsageError("give either SQL or --saved NAME, not both")
        saved = SAVED.get(args.saved)
        if saved is None:
            raise UsageError(f"--saved: no saved query named {args.saved!r} (known: {', '.join(SAVED)})")
        sql = saved.sql
    elif args.query == "-":
        sql = sys.stdin.read()
    elif args.query:
        sql = args.query
    else:
        raise UsageError("give a query, e.g. gogrid sql \"SELECT * FROM run_summary\", or --saved NAME")
    try:
        with reader(args) as r:
            table = r.arrow(sql)
    except QueryError as e:
        return fail(str(e), 1)
    except StoreError as e:
        return fail(str(e), 1)
    write_table(table, args.format, args.output)
    return 0
