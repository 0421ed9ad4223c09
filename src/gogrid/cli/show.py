"""`gogrid show RUN`: one run's summary, tree, transcript (messages and tool calls) and errors."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gogrid.cli._store import add_db_argument, cell, duration, money, run_report
from gogrid.store.client import Reader

COMMAND = "show"
HELP = "show one run: summary, agent tree, transcript of messages and tool calls, errors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run id (a unique prefix is enough)")
    p.add_argument("--full", action="store_true", help="do not shorten long messages")
    p.add_argument("--json", action="store_true", help="print the summary, tree, transcript and errors as JSON")
    add_db_argument(p)


def main(args: argparse.Namespace) -> int:
    return run_report(args, collect, lambda report: render(report, width=None if args.full else 300))


def collect(r: Reader, run_id: str) -> dict[str, Any]:
    summary = r.rows("SELECT * FROM run_summary WHERE run_id = ?", [run_id])[0]
    run = r.rows("SELECT input, output FROM runs WHERE run_id = ?", [run_id])[0]
    spans = r.rows(
        "SELECT span_id, parent_span_id, kind, name, status, start_ts, end_ts, error FROM spans "
        "WHERE run_id = ? AND kind IN ('run', 'node', 'agent') ORDER BY start_ts",
        [run_id],
    )
    transcript = r.rows(
        """SELECT ts, 'message' AS what, sender AS who, role AS detail,
                  CASE WHEN coalesce(content, '') = '' AND tool_calls IS NOT NULL
                       THEN '(asks for ' || array_to_string(json_extract_string(tool_calls, '$[*].name'), ', ') || ')'
                       ELSE content END AS text,
                  NULL AS status, NULL AS ms
           FROM messages WHERE run_id = ?
           UNION ALL
           SELECT started_at, 'tool', agent, tool, coalesce(CAST(arguments AS VARCHAR), '') || ' -> ' ||
                  coalesce(CAST(result AS VARCHAR), error, ''), status, round(duration_s * 1000, 1)
           FROM tool_calls WHERE run_id = ?
           ORDER BY 1""",
        [run_id, run_id],
    )
    errors = r.rows(
        """SELECT 'agent' AS what, path AS name, status, error FROM agents WHERE run_id = ? AND error IS NOT NULL
           UNION ALL SELECT 'node', path, status, error FROM nodes WHERE run_id = ? AND error IS NOT NULL
           UNION ALL SELECT 'model', call_id, status, error FROM llm_calls WHERE run_id = ? AND error IS NOT NULL
           UNION ALL SELECT 'tool', call_id, status, error FROM tool_calls WHERE run_id = ? AND error IS NOT NULL""",
        [run_id] * 4,
    )
    return {"summary": summary, "input": run["input"], "output": run["output"], "tree": spans, "transcript": transcript, "errors": errors}


def render(report: dict[str, Any], *, width: int | None) -> str:
    s = report["summary"]
    out = [
        f"run       {s['run_id']}",
        f"manifest  {s['manifest'] or '-'} (workflow {s['workflow']})",
        f"status    {s['status']}" + (f" - {s['error']}" if s["error"] else ""),
        f"started   {s['started_at']:%Y-%m-%d %H:%M:%S} UTC, took {duration(s['duration_s'])}",
        f"usage     {s['llm_calls']} model call(s), {s['tool_calls']} tool call(s), {s['agents']} agent(s), "
        f"{s['tokens']} tokens, cost {money(s['cost_usd'], s['cost_complete'])}",
        f"input     {cell(report['input'], width)}",
        "",
        "tree",
    ]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in report["tree"]:
        children.setdefault(span["parent_span_id"], []).append(span)
    ids = {span["span_id"] for span in report["tree"]}

    def walk(span: dict[str, Any], depth: int) -> None:
        out.append(f"{'  ' * (depth + 1)}{span['kind']} {span['name']} [{span['status']}]")
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1)

    for root in [sp for sp in report["tree"] if sp["parent_span_id"] not in ids]:
        walk(root, 0)
    out += ["", "transcript"]
    for t in report["transcript"]:
        if t["what"] == "message":
            out.append(f"  [{t['ts']:%H:%M:%S}] {t['who']} ({t['detail']}): {cell(t['text'], width)}")
        else:
            out.append(f"  [{t['ts']:%H:%M:%S}] {t['who']} called {t['detail']} [{t['status']}, {t['ms']} ms]: {cell(t['text'], width)}")
    if report["errors"]:
        out += ["", "errors"]
        out += [f"  {e['what']} {e['name']} [{e['status']}]: {cell(e['error'], width)}" for e in report["errors"]]
    out += ["", f"output    {cell(_unjson(report['output']), width)}"]
    return "\n".join(out)


def _unjson(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
