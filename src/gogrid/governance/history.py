"""Spend recorded in the database, for rolling budgets (`$5 per day` across runs).

The process that owns the database asks its own store; the query runs once per run, when the
run's first model call reserves against a rolling budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gogrid.governance.governor import SpendHistory

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def store_history(query: Query) -> SpendHistory:
    """A SpendHistory over the `llm_calls` and `runs` tables, through `query(sql, params)`."""

    def spent_since(since: float, manifest: str | None, exclude_runs: set[str]) -> float:
        where = ["epoch(l.finished_at) >= ?", "l.cost_usd IS NOT NULL"]
        params: list[Any] = [since]
        if manifest is not None:
            files = same_file(manifest, [r[0] for r in query("SELECT DISTINCT manifest FROM runs WHERE manifest IS NOT NULL", [])])
            if not files:
                return 0.0
            where.append(f"r.manifest IN ({', '.join('?' for _ in files)})")
            params.extend(files)
        if exclude_runs:
            where.append(f"l.run_id NOT IN ({', '.join('?' for _ in exclude_runs)})")
            params.extend(sorted(exclude_runs))
        sql = f"SELECT coalesce(sum(l.cost_usd), 0) FROM llm_calls l JOIN runs r USING (run_id) WHERE {' AND '.join(where)}"
        rows = query(sql, params)
        return float(rows[0][0]) if rows else 0.0

    return spent_since


def same_file(manifest: str, recorded: list[str]) -> list[str]:
    """Recorded manifest paths that name the same file (runs record the path as it was given)."""
    target = _resolve(manifest)
    return [m for m in recorded if m == manifest or _resolve(m) == target]


def _resolve(p: str) -> Path:
    try:
        return Path(p).resolve()
    except OSError:
        return Path(p)


def from_store(store: Any) -> SpendHistory:
    """A SpendHistory over a gogrid.store.Store open in this process."""
    return store_history(lambda sql, params: store.query(sql, list(params)).rows)
