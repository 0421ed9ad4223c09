"""`gogrid budget set SCOPE LIMIT` and `gogrid budget show`: change or read the budgets of live
runs in the process that owns the database.

SCOPE is `process`, a budget key from `gogrid budget show`, or RUN[/NODE/PATH] (a run id prefix,
optionally a node path below it) to put a limit on that live scope.
"""

from __future__ import annotations

import argparse
import getpass

from gogrid.cli._store import add_db_argument, aligned
from gogrid.cli.common import UsageError, db_path, fail
from gogrid.config.budgets import METRICS, parse_usd
from gogrid.store.client import NoOwner, RemoteError, request

COMMAND = "budget"
HELP = "change a budget limit on a live run (set) or list live budgets (show)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = sub.add_parser("set", help="set the limit of a live budget")
    s.add_argument("scope", metavar="SCOPE", help="process, a key from `gogrid budget show`, or RUN[/NODE/PATH]")
    s.add_argument("limit", metavar="LIMIT", help="the new limit: USD (0.50 or $0.50), tokens or requests; 'none' removes it")
    s.add_argument("--metric", choices=METRICS, default="usd", help="what the limit counts (default usd)")
    add_db_argument(s)
    show = sub.add_parser("show", help="list the budgets of live runs")
    add_db_argument(show)


def main(args: argparse.Namespace) -> int:
    db = db_path(args.db)
    try:
        if args.action == "set":
            limit = _limit(args.limit, args.metric)
            reply = request(db, "budget.set", timeout=10.0, scope=args.scope, metric=args.metric, limit=limit, actor=f"cli:{getpass.getuser()}")
            shown = "none" if reply["limit"] is None else _fmt(reply["metric"], reply["limit"])
            print(f"{reply['label']}: limit {shown} ({_fmt(reply['metric'], reply['spent'])} spent)")
            return 0
        reply = request(db, "budget.show", timeout=10.0)
    except NoOwner:
        return fail(f"no process owns {db}, so no run there is live", 1)
    except RemoteError as e:
        return fail(str(e), 1)
    rows = [[b["scope"], b["metric"], b["spent"] + b["history"], b["reserved"], b["limit"], ", ".join(f"{t:.0%}" for t in b["thresholds_crossed"])]
            for b in reply["budgets"]]
    print(aligned(["scope", "metric", "spent", "reserved", "limit", "crossed"], rows) if rows else "no budgets")
    return 0


def _limit(text: str, metric: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        value = float(parse_usd(text)) if metric == "usd" else float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise UsageError(f"LIMIT: expected a number ({'USD such as 0.50' if metric == 'usd' else metric}), got {text!r}") from None
    if value <= 0:
        raise UsageError(f"LIMIT: expected a limit above 0, got {text!r}")
    return value


def _fmt(metric: str, v: float) -> str:
    return f"${v:.6f}" if metric == "usd" else f"{v:,.0f} {metric}"
