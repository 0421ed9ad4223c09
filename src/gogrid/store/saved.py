"""Saved queries: named SQL for the questions people ask most (`gogrid sql --saved NAME`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    sql: str


SAVED: dict[str, SavedQuery] = {
    q.name: q
    for q in (
        SavedQuery("recent-runs", "the 20 latest runs with status, duration, tokens and cost", """
            SELECT run_id, workflow, status, started_at, round(duration_s, 3) AS duration_s,
                   llm_calls, tool_calls, tokens, cost_usd, cost_complete
            FROM run_summary ORDER BY started_at DESC LIMIT 20"""),
        SavedQuery("cost-by-model", "calls, tokens and cost per provider/model, most expensive first", """
            SELECT provider, model, calls, input_tokens, output_tokens, cached_tokens,
                   round(cost_usd, 6) AS cost_usd, cost_complete, round(avg_latency_s, 3) AS avg_latency_s
            FROM cost_by_model ORDER BY cost_usd DESC NULLS FIRST, calls DESC"""),
        SavedQuery("cost-by-agent", "cost per agent (by path) over every run, most expensive first", """
            SELECT path AS agent, count(DISTINCT run_id) AS runs, sum(calls)::BIGINT AS calls,
                   sum(input_tokens)::BIGINT AS input_tokens, sum(output_tokens)::BIGINT AS output_tokens,
                   round(sum(cost_usd), 6) AS cost_usd, bool_and(cost_complete) AS cost_complete
            FROM cost_by_agent GROUP BY path ORDER BY cost_usd DESC NULLS FIRST"""),
        SavedQuery("cost-by-day", "cost and tokens per day (UTC)", """
            SELECT finished_at::DATE AS day, count(*) AS calls,
                   sum(input_tokens + output_tokens)::BIGINT AS tokens, round(sum(cost_usd), 6) AS cost_usd
            FROM llm_calls GROUP BY day ORDER BY day DESC"""),
        SavedQuery("slowest-tools", "the 20 slowest tool calls", """
            SELECT tool, agent, status, round(duration_s * 1000, 1) AS ms, run_id, call_id
            FROM tool_calls WHERE duration_s IS NOT NULL ORDER BY duration_s DESC LIMIT 20"""),
        SavedQuery("tool-stats", "per tool: calls, errors, median and p95 duration", """
            SELECT tool, count(*) AS calls, count(*) FILTER (WHERE status <> 'ok') AS failed,
                   round(median(duration_s) * 1000, 1) AS median_ms,
                   round(quantile_cont(duration_s, 0.95) * 1000, 1) AS p95_ms
            FROM tool_calls GROUP BY tool ORDER BY calls DESC"""),
        SavedQuery("slowest-model-calls", "the 20 slowest model calls", """
            SELECT provider, model, agent, status, round(latency_s, 3) AS latency_s,
                   input_tokens, output_tokens, attempts, run_id, call_id
            FROM llm_calls ORDER BY latency_s DESC LIMIT 20"""),
        SavedQuery("budget-exceeded-runs", "runs stopped by a budget, with the budget events that did it", """
            SELECT r.run_id, r.workflow, r.status, r.started_at, b.scope, b.metric, b.spent,
                   b."limit", b.reason
            FROM runs r LEFT JOIN budget_events b
              ON b.run_id = r.run_id AND b.action IN ('exceeded', 'kill')
            WHERE r.status = 'budget_exceeded' OR b.run_id IS NOT NULL
            ORDER BY r.started_at DESC"""),
        SavedQuery("recent-errors", "the 50 latest errors of runs, agents, nodes, model and tool calls", """
            SELECT * FROM (
                SELECT finished_at AS ts, 'run' AS what, run_id, workflow AS name, status, error FROM runs WHERE error IS NOT NULL
                UNION ALL SELECT finished_at, 'agent', run_id, path, status, error FROM agents WHERE error IS NOT NULL
                UNION ALL SELECT finished_at, 'node', run_id, path, status, error FROM nodes WHERE error IS NOT NULL
                UNION ALL SELECT finished_at, 'model', run_id, provider || '/' || model, status, error FROM llm_calls WHERE error IS NOT NULL
                UNION ALL SELECT finished_at, 'tool', run_id, tool, status, error FROM tool_calls WHERE error IS NOT NULL
            ) ORDER BY ts DESC NULLS LAST LIMIT 50"""),
        SavedQuery("model-retries", "model attempts that were retried, failed or fell back", """
            SELECT ts, provider, model, outcome, http_status, attempt, round(wait_s, 3) AS wait_s, error, run_id, call_id
            FROM model_attempts WHERE outcome <> 'ok' ORDER BY ts DESC"""),
        SavedQuery("unknown-cost", "model calls whose price is unknown (cost NULL, never counted as 0)", """
            SELECT provider, model, count(*) AS calls, sum(input_tokens + output_tokens)::BIGINT AS tokens
            FROM llm_calls WHERE NOT cost_known GROUP BY ALL ORDER BY calls DESC"""),
        SavedQuery("estimated-tokens", "model calls whose token counts are counted or estimated, not provider-reported", """
            SELECT token_count, provider, model, count(*) AS calls
            FROM llm_calls WHERE token_count <> 'exact' GROUP BY ALL ORDER BY calls DESC"""),
        SavedQuery("interrupted-runs", "runs whose process ended before they finished", """
            SELECT run_id, workflow, started_at, finished_at, owner_pid, owner_host, error
            FROM runs WHERE status = 'interrupted' ORDER BY started_at DESC"""),
        SavedQuery("writer-health", "the store writer of each process: events received, written, dropped, flush times", """
            SELECT writer_id, pid, host, started_at, updated_at, received, written, dropped, flushes,
                   round(last_flush_ms, 2) AS last_flush_ms, round(max_flush_ms, 2) AS max_flush_ms
            FROM writer_stats ORDER BY updated_at DESC"""),
    )
}
