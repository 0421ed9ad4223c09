"""The console's reads from the database it owns (SQL pane, runs history, replays).

Everything here blocks (DuckDB), so the App calls it from worker threads only. The store is the
Host's own (this process owns the database), which is why the SQL pane works while runs are live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gogrid.events import Event, event_from_dict


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class SqlError(Exception):
    """The database's own message for a bad query."""


class NoDatabase(SqlError):
    pass


RUNS_SQL = """
SELECT r.run_id, coalesce(r.workflow, '') AS workflow, coalesce(r.manifest, '') AS manifest, r.status,
       r.started_at, r.finished_at,
       epoch(r.finished_at) - epoch(r.started_at) AS duration_s,
       coalesce(sum(coalesce(l.input_tokens, 0) + coalesce(l.output_tokens, 0)), 0) AS tokens,
       sum(l.cost_usd) AS cost_usd
FROM runs r LEFT JOIN llm_calls l ON l.run_id = r.run_id
GROUP BY ALL ORDER BY r.started_at DESC LIMIT 1000
"""

SAVED_QUERIES: dict[str, str] = {
    "recent runs": "SELECT run_id, workflow, status, started_at, finished_at FROM runs ORDER BY started_at DESC LIMIT 50",
    "cost by model": "SELECT provider, model, count(*) AS calls, sum(input_tokens) AS tokens_in, sum(output_tokens) AS tokens_out, sum(cost_usd) AS cost_usd FROM llm_calls GROUP BY ALL ORDER BY cost_usd DESC NULLS LAST",
    "cost by agent": "SELECT run_id, agent, count(*) AS calls, sum(cost_usd) AS cost_usd FROM llm_calls GROUP BY ALL ORDER BY cost_usd DESC NULLS LAST LIMIT 100",
    "slowest tool calls": "SELECT run_id, tool, status, duration_s FROM tool_calls ORDER BY duration_s DESC LIMIT 50",
    "runs that hit a budget or were killed": "SELECT run_id, workflow, status, error FROM runs WHERE status IN ('budget_exceeded', 'killed') ORDER BY started_at DESC",
    "events by kind": "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY n DESC",
}


class DataSource:
    """Queries through the Host's store when it has one."""

    def __init__(self, host: Any) -> None:
        self.host = host
        # Set when another process owns the database: reads then go through its local channel.
        self.remote_db: Path | None = None

    @property
    def store(self) -> Any:
        return getattr(self.host, "store", None)

    @property
    def available(self) -> bool:
        return self.store is not None or self.remote_db is not None

    def _source(self) -> Any:
        if self.store is not None:
            return self.store
        if self.remote_db is not None:
            return self.remote_db
        raise NoDatabase("no database: start gogrid-tui with --db FILE (or GOGRID_DB), not --no-db")

    def query(self, sql: str, params: list[Any] | None = None) -> SqlResult:
        source = self._source()
        try:
            if isinstance(source, Path):
                from gogrid.store.client import query

                res = query(source, sql, params)
            else:
                res = source.query(sql, params)
        except Exception as e:  # the store's QueryError carries DuckDB's message
            raise SqlError(str(e)) from None
        return SqlResult(list(res.columns), list(res.rows))

    def saved_queries(self) -> dict[str, str]:
        try:
            from gogrid.store import saved

            extra = getattr(saved, "SAVED_QUERIES", None) or getattr(saved, "QUERIES", None)
            if isinstance(extra, dict):
                out = {str(k): str(getattr(v, "sql", v)) for k, v in extra.items()}
                return {**out, **{k: v for k, v in SAVED_QUERIES.items() if k not in out}}
        except ImportError:
            pass
        return dict(SAVED_QUERIES)

    def runs(self) -> SqlResult:
        return self.query(RUNS_SQL)

    def read_events(self, run_id: str) -> list[Event]:
        from gogrid.store.replay import read_events

        try:
            return read_events(self._source(), run_id)
        except SqlError:
            raise
        except Exception as e:
            raise SqlError(str(e)) from None


def read_jsonl(path: str | Path) -> list[Event]:
    """Events from a JSONL event log (`gogrid run --log-file`), for replaying without a database."""
    events: list[Event] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(event_from_dict(json.loads(line)))
    return events
