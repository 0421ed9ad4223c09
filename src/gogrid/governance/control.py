"""Commands other processes send to the process that owns the database (over its local
channel): `gogrid kill` and `gogrid budget set|show`. Each handler is `async (params, host)`."""

from __future__ import annotations

import dataclasses
from typing import Any

from gogrid.config.budgets import METRICS, parse_usd
from gogrid.governance.governor import BudgetGovernor


async def kill(params: dict[str, Any], host: Any) -> dict[str, Any]:
    target = str(params.get("run") or "")
    node = params.get("node") or None
    reason = str(params.get("reason") or "killed by operator")
    actor = str(params.get("actor") or "cli")
    scope = host.kill(target, node=node, reason=reason, actor=actor)
    if scope is None:
        live = [h.run_id for rt in host.runtimes for h in rt.live_runs() if h.run_id.startswith(target)]
        if len(live) > 1:
            return {"killed": None, "message": f"{target!r} matches {len(live)} live runs ({', '.join(sorted(live))}); give more of the id"}
        what = f"run {target!r}" + (f" node {node!r}" if node else "")
        return {"killed": None, "message": f"nothing live matches {what} in process {host_pid()}"}
    return {"killed": scope.path, "run_id": scope.run_id, "span_id": scope.span_id,
            "spent_usd": scope.state.get("spent_usd", 0.0)}


async def budget_set(params: dict[str, Any], host: Any) -> dict[str, Any]:
    governor = _governor(host)
    scope = str(params.get("scope") or "")
    metric = str(params.get("metric") or "usd")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    raw = params.get("limit")
    limit = None if raw in (None, "none") else float(parse_usd(raw) if metric == "usd" else raw)
    actor = str(params.get("actor") or "cli")
    keyed = [s for s in governor.snapshot() if s.scope == scope and s.metric == metric]
    if scope == "process" or len(keyed) == 1:
        ledger = governor.set_limit(scope, metric, limit, actor=actor)  # type: ignore[arg-type]
    else:
        run, _, node = scope.partition("/")
        found = host.find_scope(run, node or None)
        if found is None:
            known = sorted({s.scope for s in governor.snapshot()})
            raise ValueError(f"no live run, scope or budget {scope!r}" + (f"; budgets: {', '.join(known)}" if known else ""))
        runtime, target = found
        ledger = governor.set_limit(target.path, metric, limit, runtime=runtime, actor=actor, target=target)  # type: ignore[arg-type]
    return {"scope": ledger.key, "label": ledger.label, "metric": ledger.metric, "limit": ledger.limit,
            "spent": ledger.history + ledger.spent, "reserved": ledger.reserved}


async def budget_show(params: dict[str, Any], host: Any) -> dict[str, Any]:
    return {"budgets": [dataclasses.asdict(s) for s in _governor(host).snapshot()]}


def _governor(host: Any) -> BudgetGovernor:
    governor = getattr(host, "governor", None)
    if not isinstance(governor, BudgetGovernor):
        raise ValueError("this process runs without budgets")
    return governor


def host_pid() -> int:
    import os

    return os.getpid()


COMMANDS = {"kill": kill, "budget.set": budget_set, "budget.show": budget_show}


def install(host: Any) -> None:
    for op, handler in COMMANDS.items():
        host.register_command(op, handler)
