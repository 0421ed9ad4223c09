"""`gogrid cost RUN`: what a run spent, by agent, by model and by workflow node (from llm_calls)."""

from __future__ import annotations

import argparse
from typing import Any

from gogrid.cli._store import add_db_argument, aligned, money, run_report
from gogrid.store.client import Reader

COMMAND = "cost"
HELP = "show what a run spent, by agent, model and workflow node"

# One row per model call, with the path of the agent that made it.
_CALLS = """
SELECT l.provider || '/' || l.model AS model, coalesce(a.path, l.agent) AS agent_path,
       l.input_tokens, l.output_tokens, l.cost_usd, l.cost_known, l.status
FROM llm_calls l LEFT JOIN agents a ON a.span_id = l.parent_span_id
WHERE l.run_id = ?
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run id (a unique prefix is enough)")
    p.add_argument("--json", action="store_true", help="print the breakdown as JSON")
    add_db_argument(p)


def main(args: argparse.Namespace) -> int:
    return run_report(args, collect, render)


def collect(r: Reader, run_id: str) -> dict[str, Any]:
    run = r.rows("SELECT run_id, workflow, status FROM runs WHERE run_id = ?", [run_id])[0]
    calls = r.rows(_CALLS, [run_id])
    nodes = [row["path"] for row in r.rows("SELECT DISTINCT path FROM nodes WHERE run_id = ? ORDER BY path", [run_id])]
    by_agent = _group(calls, lambda c: [c["agent_path"] or "?"])
    by_model = _group(calls, lambda c: [c["model"]])
    # A node's spend is every call made by an agent inside it (its path is a prefix).
    by_node = _group(calls, lambda c: [n for n in nodes if (c["agent_path"] or "").startswith(n + "/")])
    kills = r.rows("SELECT scope, spent, reason, actor FROM budget_events WHERE run_id = ? AND action = 'kill' ORDER BY ts", [run_id])
    return {
        "run_id": run_id, "workflow": run["workflow"], "status": run["status"],
        "total": _totals(calls), "by_agent": by_agent, "by_model": by_model, "by_node": by_node, "kills": kills,
    }


def _totals(calls: list[dict[str, Any]]) -> dict[str, Any]:
    known = [c["cost_usd"] for c in calls if c["cost_usd"] is not None]
    return {
        "calls": len(calls),
        "input_tokens": sum(c["input_tokens"] or 0 for c in calls),
        "output_tokens": sum(c["output_tokens"] or 0 for c in calls),
        "cost_usd": sum(known) if known or not calls else None,
        "unknown_cost_calls": len(calls) - len(known),
    }


def _group(calls: list[dict[str, Any]], keys: Any) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in calls:
        for k in keys(c):
            groups.setdefault(k, []).append(c)
    return [{"name": k, **_totals(v)} for k, v in sorted(groups.items())]


def render(report: dict[str, Any]) -> str:
    t = report["total"]
    head = (f"run {report['run_id']} ({report['workflow']}, {report['status']}): "
            f"{money(t['cost_usd'], t['unknown_cost_calls'] == 0)} in {t['calls']} call(s), "
            f"{t['input_tokens']:,} input + {t['output_tokens']:,} output tokens")
    parts = [head]
    if t["unknown_cost_calls"]:
        parts.append(f"{t['unknown_cost_calls']} call(s) have no known price: their cost is not included")
    for title, key in (("agent", "by_agent"), ("model", "by_model"), ("node", "by_node")):
        rows = [[g["name"], g["calls"], g["input_tokens"], g["output_tokens"], money(g["cost_usd"], g["unknown_cost_calls"] == 0)] for g in report[key]]
        if rows:
            parts.append("\nby " + title + "\n" + aligned([title, "calls", "input", "output", "cost"], rows))
    for k in report["kills"]:
        parts.append(f"\nkilled {k['scope']} by {k['actor']} ({k['reason']}) with {money(k['spent'])} spent at the time")
    return "\n".join(parts)
