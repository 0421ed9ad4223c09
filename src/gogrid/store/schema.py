"""The database schema as ordered migrations.

Each migration is a list of SQL statements that takes the database from version N-1 to N. A new
database runs them all; an older one runs only the steps it lacks, in place, inside one
transaction each, and `schema_version` records every step applied. Never edit a released
step: append a new one.

All timestamps are UTC (`TIMESTAMP`, microseconds). JSON columns hold the event's own values.
"""

from __future__ import annotations

# Version 1: the raw event log and the first typed tables.
V1 = [
    """CREATE TABLE schema_version (
        version INTEGER NOT NULL,
        applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE events (
        seq BIGINT NOT NULL,          -- write order; replay sorts by it
        event_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,
        kind VARCHAR NOT NULL,
        payload JSON NOT NULL         -- the whole event as JSON (event_from_json reads it back)
    )""",
    """CREATE TABLE runs (
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        workflow VARCHAR,
        manifest VARCHAR,
        input VARCHAR,
        labels JSON,
        status VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        output JSON,
        error VARCHAR
    )""",
    """CREATE TABLE spans (
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,
        run_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,        -- run, node, agent, model, tool
        name VARCHAR,
        start_ts TIMESTAMP NOT NULL,
        end_ts TIMESTAMP,
        status VARCHAR NOT NULL,
        error VARCHAR
    )""",
    """CREATE TABLE agents (
        span_id VARCHAR NOT NULL,     -- one row per agent instance
        parent_span_id VARCHAR,
        run_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        model VARCHAR,
        status VARCHAR NOT NULL,
        turns INTEGER,
        input JSON,
        output JSON,
        error VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP
    )""",
    """CREATE TABLE llm_calls (
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,       -- the agent's span
        run_id VARCHAR NOT NULL,
        call_id VARCHAR NOT NULL,
        agent VARCHAR,
        provider VARCHAR,
        model VARCHAR,
        turn INTEGER,
        status VARCHAR NOT NULL,
        input_tokens BIGINT,
        output_tokens BIGINT,
        cached_tokens BIGINT,
        token_count VARCHAR,          -- exact (provider), counted (tiktoken), estimated
        cost_usd DOUBLE,              -- NULL when the price is unknown, never 0 for unknown
        cost_known BOOLEAN,
        latency_s DOUBLE,
        finish_reason VARCHAR,
        tool_calls INTEGER,
        attempts INTEGER,
        error VARCHAR,
        text VARCHAR,
        finished_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE tool_calls (
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,
        run_id VARCHAR NOT NULL,
        call_id VARCHAR NOT NULL,
        agent VARCHAR,
        tool VARCHAR NOT NULL,
        arguments JSON,
        status VARCHAR NOT NULL,      -- running until tool.finished arrives
        result JSON,
        error VARCHAR,
        duration_s DOUBLE,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP
    )""",
    """CREATE TABLE messages (
        message_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,
        ts TIMESTAMP NOT NULL,
        role VARCHAR NOT NULL,
        sender VARCHAR,
        content VARCHAR,
        room VARCHAR,
        round INTEGER,
        reply_to VARCHAR,
        tool_call_id VARCHAR,
        tool_calls JSON
    )""",
]

# Version 2: owner of each run, workflow nodes, attempts, governance, teams, and the views.
V2 = [
    "ALTER TABLE runs ADD COLUMN owner_pid INTEGER",
    "ALTER TABLE runs ADD COLUMN owner_host VARCHAR",
    """CREATE TABLE nodes (
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR,
        run_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        pattern VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        input JSON,
        output JSON,
        error VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP
    )""",
    """CREATE TABLE model_attempts (
        span_id VARCHAR NOT NULL,     -- the model call's span
        run_id VARCHAR NOT NULL,
        call_id VARCHAR NOT NULL,
        provider VARCHAR,
        model VARCHAR,
        attempt INTEGER,
        outcome VARCHAR,              -- ok, retry, error, fallback
        http_status INTEGER,
        error VARCHAR,
        wait_s DOUBLE,
        latency_s DOUBLE,
        ts TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE budget_events (
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        action VARCHAR NOT NULL,      -- reserve, settle, release, threshold, exceeded, kill, set
        scope VARCHAR,
        metric VARCHAR,
        amount DOUBLE,
        spent DOUBLE,
        reserved DOUBLE,
        "limit" DOUBLE,
        threshold DOUBLE,
        reason VARCHAR,
        actor VARCHAR
    )""",
    """CREATE TABLE guard_events (
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        guard VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        tool VARCHAR,
        detail VARCHAR
    )""",
    """CREATE TABLE memory_writes (
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        namespace VARCHAR,
        key VARCHAR,
        op VARCHAR,
        agent VARCHAR,
        bytes BIGINT,
        total_bytes BIGINT,
        entries INTEGER
    )""",
    """CREATE TABLE votes (
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        room VARCHAR,
        round INTEGER,
        voter VARCHAR,                -- NULL for a consensus row
        choice VARCHAR,               -- the vote, or the decision of a consensus row
        reason VARCHAR,
        kind VARCHAR NOT NULL,        -- vote | consensus
        strategy VARCHAR,
        reached BOOLEAN
    )""",
    """CREATE TABLE kills (
        run_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        target VARCHAR,
        reason VARCHAR,
        actor VARCHAR
    )""",
    """CREATE TABLE writer_stats (
        writer_id VARCHAR NOT NULL,   -- one row per writer (process session), updated each flush
        pid INTEGER,
        host VARCHAR,
        started_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        received BIGINT,              -- events the writer was handed
        written BIGINT,               -- events committed
        dropped BIGINT,               -- events shed because the buffer was full (should stay 0)
        flushes BIGINT,
        last_flush_ms DOUBLE,
        max_flush_ms DOUBLE
    )""",
    """CREATE OR REPLACE VIEW cost_by_run AS
    SELECT run_id,
           count(*) AS calls,
           sum(input_tokens)::BIGINT AS input_tokens,
           sum(output_tokens)::BIGINT AS output_tokens,
           sum(cached_tokens)::BIGINT AS cached_tokens,
           sum(cost_usd) AS cost_usd,
           bool_and(cost_known) AS cost_complete
    FROM llm_calls GROUP BY run_id""",
    """CREATE OR REPLACE VIEW cost_by_agent AS
    SELECT a.run_id, a.span_id, a.path, a.name, a.model,
           count(l.call_id) AS calls,
           coalesce(sum(l.input_tokens), 0)::BIGINT AS input_tokens,
           coalesce(sum(l.output_tokens), 0)::BIGINT AS output_tokens,
           sum(l.cost_usd) AS cost_usd,
           coalesce(bool_and(l.cost_known), true) AS cost_complete
    FROM agents a LEFT JOIN llm_calls l ON l.parent_span_id = a.span_id
    GROUP BY ALL""",
    """CREATE OR REPLACE VIEW cost_by_model AS
    SELECT provider, model,
           count(*) AS calls,
           sum(input_tokens)::BIGINT AS input_tokens,
           sum(output_tokens)::BIGINT AS output_tokens,
           sum(cached_tokens)::BIGINT AS cached_tokens,
           sum(cost_usd) AS cost_usd,
           bool_and(cost_known) AS cost_complete,
           avg(latency_s) AS avg_latency_s
    FROM llm_calls GROUP BY provider, model""",
    """CREATE OR REPLACE VIEW run_summary AS
    SELECT r.run_id, r.workflow, r.manifest, r.status, r.started_at, r.finished_at,
           coalesce(epoch(r.finished_at), epoch(now())) - epoch(r.started_at) AS duration_s,
           coalesce(c.calls, 0) AS llm_calls,
           (coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0))::BIGINT AS tokens,
           c.cost_usd,
           coalesce(c.cost_complete, true) AS cost_complete,
           (SELECT count(*) FROM tool_calls t WHERE t.run_id = r.run_id) AS tool_calls,
           (SELECT count(*) FROM agents a WHERE a.run_id = r.run_id) AS agents,
           r.error, r.owner_pid, r.owner_host
    FROM runs r LEFT JOIN cost_by_run c USING (run_id)""",
]

# Version 3: the raw log's payload is plain text. The writer produces valid JSON by construction,
# and validating it again on insert was a third of the event log's write cost. JSON functions
# (`payload->>'field'`) read it the same.
V3 = [
    "ALTER TABLE events ALTER COLUMN payload SET DATA TYPE VARCHAR",
]

MIGRATIONS: list[list[str]] = [V1, V2, V3]
LATEST = len(MIGRATIONS)

# Tables the replay, CLI and tests rely on, in the order docs/store.md lists them.
TABLES = (
    "runs", "agents", "nodes", "spans", "messages", "llm_calls", "model_attempts", "tool_calls",
    "budget_events", "guard_events", "memory_writes", "votes", "kills", "writer_stats", "events",
)
VIEWS = ("cost_by_run", "cost_by_agent", "cost_by_model", "run_summary")
