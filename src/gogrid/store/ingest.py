"""From events to table rows, in SQL: which event fills which typed table.

The writer hands DuckDB one Arrow table per flush, `_ev`: the envelope as columns and every
event's JSON, and these statements derive every typed table from it inside DuckDB. Python touches
each event only to serialise it and read its envelope; the payload parsing and the inserts run in
DuckDB, which releases the GIL, so the engine's event loop keeps running while a flush is written.

Life-cycle pairs (`*.started` / `*.finished`) share a span id. When both halves are in the same
flush, they are joined into one row; a finish whose start was written by an earlier flush becomes
an `UPDATE ... FROM`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gogrid.events import Event

LIFECYCLES = ("run", "node", "agent", "model", "tool")
STARTED_KINDS = frozenset(f"{k}.started" for k in LIFECYCLES)
FINISHED_KINDS = frozenset(f"{k}.finished" for k in LIFECYCLES)


@dataclass(frozen=True)
class Step:
    """One statement of a flush, and when it has work: events of `kinds` are in the batch
    (None: always), or finishes of `update_of` whose start an earlier flush wrote ("*": any)."""

    sql: str
    kinds: frozenset[str] | None = None
    update_of: str | None = None

    def needed(self, present: set[str], earlier: set[str]) -> bool:
        if self.update_of is not None:
            return bool(earlier) if self.update_of == "*" else self.update_of in earlier
        return self.kinds is None or not self.kinds.isdisjoint(present)


def _struct(fields: str) -> str:
    """`'a:VARCHAR b:JSON'` -> the JSON structure literal `from_json` wants."""
    return json.dumps(dict(f.split(":") for f in fields.split()), separators=(",", ":"))





def _parsed(kinds: str, fields: str) -> str:
    """The events of `kinds`: their envelope columns and the payload `fields`, parsed here."""
    kind_list = ", ".join(f"'{k}'" for k in kinds.split())
    return (
        "(SELECT seq, kind, ts, run_id, span_id, parent_span_id, event_id, "
        f"unnest(from_json(payload, '{_struct(fields)}')) FROM _ev WHERE kind IN ({kind_list}))"
    )


# Every *.started and *.finished event, with the union of their fields (absent ones are NULL).
STARTED = (
    "workflow:VARCHAR manifest:VARCHAR input:JSON labels:JSON name:VARCHAR pattern:VARCHAR path:VARCHAR "
    "model:VARCHAR provider:VARCHAR call_id:VARCHAR agent:VARCHAR tool:VARCHAR arguments:JSON"
)
FINISHED = "status:VARCHAR output:JSON error:VARCHAR turns:INTEGER result:JSON duration_s:DOUBLE"

# `_ev` is the registered Arrow batch: seq, event_id, ts, run_id, span_id, parent_span_id, kind, payload.
STAGE = [
    Step(f"""CREATE OR REPLACE TEMP TABLE _start AS
        SELECT * REPLACE (split_part(kind, '.', 1) AS kind)
        FROM {_parsed(' '.join(sorted(STARTED_KINDS)), STARTED)}""", STARTED_KINDS | FINISHED_KINDS),
    Step(f"""CREATE OR REPLACE TEMP TABLE _fin AS
        SELECT f.* REPLACE (split_part(f.kind, '.', 1) AS kind), s.span_id IS NULL AS earlier
        FROM {_parsed(' '.join(sorted(FINISHED_KINDS)), FINISHED)} f
        LEFT JOIN _start s USING (span_id)""", STARTED_KINDS | FINISHED_KINDS),
]

INSERT_EVENTS = "INSERT INTO events SELECT seq, event_id, ts, run_id, span_id, parent_span_id, kind, payload FROM _ev"


def _lifecycle(table: str, kind: str | None, columns: str, values: str, updates: str) -> list[Step]:
    """Insert the starts of `kind` (every kind when None), joined with their finish when it is
    in the same flush; then update the rows whose start came in an earlier flush."""
    start_filter = "true" if kind is None else f"s.kind = '{kind}'"
    fin_filter = "" if kind is None else f" AND f.kind = '{kind}'"
    return [
        Step(
            f"INSERT INTO {table} ({columns}) SELECT {values} FROM _start s LEFT JOIN _fin f USING (span_id) WHERE {start_filter}",
            STARTED_KINDS if kind is None else frozenset({f"{kind}.started"}),
        ),
        Step(
            f"UPDATE {table} SET {updates} FROM _fin f WHERE f.earlier{fin_filter} AND {table}.span_id = f.span_id",
            update_of=kind or "*",
        ),
    ]


def lifecycle(pid: int, host: str) -> list[Step]:
    owner = f"{int(pid)}, '{host.replace(chr(39), chr(39) * 2)}'"
    return [
        *_lifecycle(
            "spans", None,
            "span_id, parent_span_id, run_id, kind, name, start_ts, end_ts, status, error",
            """s.span_id, s.parent_span_id, s.run_id, s.kind,
               CASE s.kind WHEN 'run' THEN s.workflow WHEN 'model' THEN s.provider || '/' || s.model WHEN 'tool' THEN s.tool ELSE s.name END,
               s.ts, f.ts, coalesce(f.status, 'running'), f.error""",
            "end_ts = f.ts, status = f.status, error = f.error",
        ),
        *_lifecycle(
            "runs", "run",
            "run_id, span_id, workflow, manifest, input, labels, status, started_at, finished_at, output, error, owner_pid, owner_host",
            f"s.run_id, s.span_id, s.workflow, s.manifest, s.input->>'$', s.labels, coalesce(f.status, 'running'), s.ts, f.ts, f.output, f.error, {owner}",
            "status = f.status, finished_at = f.ts, output = f.output, error = f.error",
        ),
        *_lifecycle(
            "nodes", "node",
            "span_id, parent_span_id, run_id, name, pattern, path, status, input, output, error, started_at, finished_at",
            "s.span_id, s.parent_span_id, s.run_id, s.name, s.pattern, s.path, coalesce(f.status, 'running'), s.input, f.output, f.error, s.ts, f.ts",
            "status = f.status, output = f.output, error = f.error, finished_at = f.ts",
        ),
        *_lifecycle(
            "agents", "agent",
            "span_id, parent_span_id, run_id, name, path, model, status, turns, input, output, error, started_at, finished_at",
            "s.span_id, s.parent_span_id, s.run_id, s.name, s.path, s.model, coalesce(f.status, 'running'), coalesce(f.turns, 0), s.input, f.output, f.error, s.ts, f.ts",
            "status = f.status, turns = f.turns, output = f.output, error = f.error, finished_at = f.ts",
        ),
        *_lifecycle(
            "tool_calls", "tool",
            "span_id, parent_span_id, run_id, call_id, agent, tool, arguments, status, result, error, duration_s, started_at, finished_at",
            "s.span_id, s.parent_span_id, s.run_id, s.call_id, s.agent, s.tool, s.arguments, coalesce(f.status, 'running'), f.result, f.error, f.duration_s, s.ts, f.ts",
            "status = f.status, result = f.result, error = f.error, duration_s = f.duration_s, finished_at = f.ts",
        ),
    ]


def _simple(table: str, kinds: str, fields: str, values: str) -> Step:
    """One row per event of `kinds`: the envelope plus the payload fields named in `fields`."""
    return Step(f"INSERT INTO {table} BY NAME SELECT {values} FROM {_parsed(kinds, fields)}", frozenset(kinds.split()))


SIMPLE = [
    _simple(
        "llm_calls", "model.finished",
        "call_id:VARCHAR agent:VARCHAR provider:VARCHAR model:VARCHAR turn:INTEGER status:VARCHAR input_tokens:BIGINT "
        "output_tokens:BIGINT cached_tokens:BIGINT token_count:VARCHAR cost_usd:DOUBLE cost_known:BOOLEAN latency_s:DOUBLE "
        "finish_reason:VARCHAR tool_calls:INTEGER attempts:INTEGER error:VARCHAR text:VARCHAR",
        "span_id, parent_span_id, run_id, call_id, agent, provider, model, turn, status, input_tokens, output_tokens, "
        "cached_tokens, token_count, cost_usd, cost_known, latency_s, finish_reason, tool_calls, attempts, error, text, ts AS finished_at",
    ),
    _simple(
        "model_attempts", "model.attempt",
        "call_id:VARCHAR provider:VARCHAR model:VARCHAR attempt:INTEGER outcome:VARCHAR http_status:INTEGER error:VARCHAR wait_s:DOUBLE latency_s:DOUBLE",
        "span_id, run_id, call_id, provider, model, attempt, outcome, http_status, error, wait_s, latency_s, ts",
    ),
    _simple(
        "messages", "message",
        "message_id:VARCHAR role:VARCHAR sender:VARCHAR content:VARCHAR room:VARCHAR round:INTEGER reply_to:VARCHAR tool_call_id:VARCHAR tool_calls:JSON",
        "message_id, run_id, span_id, parent_span_id, ts, role, sender, content, room, round, reply_to, tool_call_id, "
        "CASE WHEN json_array_length(tool_calls) > 0 THEN tool_calls END AS tool_calls",
    ),
    _simple(
        "budget_events", "budget",
        "action:VARCHAR scope:VARCHAR metric:VARCHAR amount:DOUBLE spent:DOUBLE reserved:DOUBLE limit:DOUBLE threshold:DOUBLE reason:VARCHAR actor:VARCHAR",
        'run_id, span_id, ts, action, scope, metric, amount, spent, reserved, "limit", threshold, reason, actor',
    ),
    _simple("guard_events", "guard", "guard:VARCHAR action:VARCHAR tool:VARCHAR detail:VARCHAR", "run_id, span_id, ts, guard, action, tool, detail"),
    _simple(
        "memory_writes", "memory.write",
        "namespace:VARCHAR key:VARCHAR op:VARCHAR agent:VARCHAR bytes:BIGINT total_bytes:BIGINT entries:INTEGER",
        "run_id, span_id, ts, namespace, key, op, agent, bytes, total_bytes, entries",
    ),
    _simple(
        "votes", "team.vote team.consensus",
        "room:VARCHAR round:INTEGER voter:VARCHAR choice:VARCHAR decision:VARCHAR reason:VARCHAR strategy:VARCHAR reached:BOOLEAN",
        "run_id, span_id, ts, room, round, voter, coalesce(choice, decision) AS choice, reason, "
        "CASE kind WHEN 'team.vote' THEN 'vote' ELSE 'consensus' END AS kind, strategy, reached",
    ),
    _simple("kills", "scope.killed", "target:VARCHAR reason:VARCHAR actor:VARCHAR", "run_id, span_id, ts, target, reason, actor"),
]



def statements(pid: int, host: str) -> list[Step]:
    """Everything a flush may run, in order, once the batch is registered as `_ev`."""
    return [*STAGE, Step(INSERT_EVENTS), *lifecycle(pid, host), *SIMPLE]


def seen(events: list[Event], kinds: list[str]) -> tuple[set[str], set[str]]:
    """The kinds in a batch, and the life-cycles with a finish whose start came earlier."""
    present = set(kinds)
    earlier: set[str] = set()
    if not present.isdisjoint(FINISHED_KINDS):
        started = {e.span_id for e in events if e.kind in STARTED_KINDS}
        earlier = {e.kind.partition(".")[0] for e in events if e.kind in FINISHED_KINDS and e.span_id not in started}
    return present, earlier
