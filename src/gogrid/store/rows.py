"""From events to table rows: which event fills which typed table.

A batch of events becomes, per table, a list of new rows plus a list of updates (a `*.finished`
whose `*.started` was written by an earlier batch). When both halves of a life-cycle pair are in
the same batch, the finish is folded into the new row, so most spans are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic_core import to_json

from gogrid.events import Event

# Column kinds: s string, i integer, f float, b boolean, t timestamp (epoch seconds), j JSON text.
_ARROW = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_(), "j": pa.string()}


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[tuple[str, str], ...]
    key: str | None = None  # column a `*.finished` update matches on
    updates: tuple[str, ...] = ()  # columns a `*.finished` sets

    def index(self, column: str) -> int:
        return [c for c, _ in self.columns].index(column)


def _spec(name: str, cols: str, key: str | None = None, updates: str = "") -> TableSpec:
    columns = tuple((c.split(":")[0], c.split(":")[1]) for c in cols.split())
    return TableSpec(name, columns, key, tuple(updates.split()))


EVENTS = _spec("events", "seq:i event_id:s ts:t run_id:s span_id:s parent_span_id:s kind:s payload:j")
RUNS = _spec(
    "runs",
    "run_id:s span_id:s workflow:s manifest:s input:s labels:j status:s started_at:t finished_at:t output:j error:s owner_pid:i owner_host:s",
    "run_id", "status finished_at output error",
)
SPANS = _spec("spans", "span_id:s parent_span_id:s run_id:s kind:s name:s start_ts:t end_ts:t status:s error:s", "span_id", "end_ts status error")
AGENTS = _spec(
    "agents",
    "span_id:s parent_span_id:s run_id:s name:s path:s model:s status:s turns:i input:j output:j error:s started_at:t finished_at:t",
    "span_id", "status turns output error finished_at",
)
NODES = _spec(
    "nodes",
    "span_id:s parent_span_id:s run_id:s name:s pattern:s path:s status:s input:j output:j error:s started_at:t finished_at:t",
    "span_id", "status output error finished_at",
)
TOOL_CALLS = _spec(
    "tool_calls",
    "span_id:s parent_span_id:s run_id:s call_id:s agent:s tool:s arguments:j status:s result:j error:s duration_s:f started_at:t finished_at:t",
    "span_id", "status result error duration_s finished_at",
)
LLM_CALLS = _spec(
    "llm_calls",
    "span_id:s parent_span_id:s run_id:s call_id:s agent:s provider:s model:s turn:i status:s input_tokens:i output_tokens:i cached_tokens:i "
    "token_count:s cost_usd:f cost_known:b latency_s:f finish_reason:s tool_calls:i attempts:i error:s text:s finished_at:t",
)
MODEL_ATTEMPTS = _spec("model_attempts", "span_id:s run_id:s call_id:s provider:s model:s attempt:i outcome:s http_status:i error:s wait_s:f latency_s:f ts:t")
MESSAGES = _spec(
    "messages",
    "message_id:s run_id:s span_id:s parent_span_id:s ts:t role:s sender:s content:s room:s round:i reply_to:s tool_call_id:s tool_calls:j",
)
BUDGET_EVENTS = _spec("budget_events", 'run_id:s span_id:s ts:t action:s scope:s metric:s amount:f spent:f reserved:f "limit":f threshold:f reason:s actor:s')
GUARD_EVENTS = _spec("guard_events", "run_id:s span_id:s ts:t guard:s action:s tool:s detail:s")
MEMORY_WRITES = _spec("memory_writes", "run_id:s span_id:s ts:t namespace:s key:s op:s agent:s bytes:i total_bytes:i entries:i")
VOTES = _spec("votes", "run_id:s span_id:s ts:t room:s round:i voter:s choice:s reason:s kind:s strategy:s reached:b")
KILLS = _spec("kills", "run_id:s span_id:s ts:t target:s reason:s actor:s")

ALL = (EVENTS, RUNS, SPANS, AGENTS, NODES, TOOL_CALLS, LLM_CALLS, MODEL_ATTEMPTS, MESSAGES, BUDGET_EVENTS, GUARD_EVENTS, MEMORY_WRITES, VOTES, KILLS)


def js(value: Any) -> str | None:
    """A JSON column value; anything that is not JSON-native is written as its string form."""
    if value is None:
        return None
    return to_json(value, fallback=str).decode()


class Batch:
    """Rows for one flush, built from events in order."""

    def __init__(self, owner: tuple[int, str]) -> None:
        self.owner = owner
        self.rows: dict[str, list[list[Any]]] = {t.name: [] for t in ALL}
        self.updates: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in ALL if t.key}
        self._open: dict[str, dict[str, list[Any]]] = {t.name: {} for t in ALL if t.key}
        self._update_index = {t.name: [t.index(c) for c in t.updates] for t in ALL if t.key}

    def add(self, e: Event, seq: int, payload: bytes) -> None:
        self.rows["events"].append([seq, e.event_id, e.ts, e.run_id, e.span_id, e.parent_span_id, e.kind, payload])
        handler = _HANDLERS.get(e.kind)
        if handler is not None:
            handler(self, e)

    def start(self, table: str, key: str, row: list[Any]) -> None:
        self.rows[table].append(row)
        self._open[table][key] = row

    def finish(self, table: str, key: str, *values: Any) -> None:
        row = self._open[table].pop(key, None)
        if row is None:
            self.updates[table].append((key, *values))
            return
        for i, v in zip(self._update_index[table], values, strict=True):
            row[i] = v

    def insert(self, table: str, row: list[Any]) -> None:
        self.rows[table].append(row)


def to_arrow(spec: TableSpec, rows: list[list[Any]]) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    return pa.table({name.strip('"'): _column(kind, col) for (name, kind), col in zip(spec.columns, cols, strict=True)})


def updates_to_arrow(spec: TableSpec, rows: list[tuple[Any, ...]]) -> pa.Table:
    assert spec.key is not None
    kinds = dict(spec.columns)
    names = (spec.key, *spec.updates)
    cols = list(zip(*rows, strict=True))
    return pa.table({n.strip('"'): _column(kinds[n], c) for n, c in zip(names, cols, strict=True)})


def _column(kind: str, values: tuple[Any, ...]) -> pa.Array:
    if kind == "t":
        seconds = pa.array(values, pa.float64())
        return pc.cast(pc.multiply(seconds, 1e6), pa.int64(), safe=False).cast(pa.timestamp("us"))
    return pa.array(values, _ARROW[kind])


# --- which event fills which table ---------------------------------------------------------------


def _run_started(b: Batch, e: Any) -> None:
    pid, host = b.owner
    b.start("runs", e.run_id, [e.run_id, e.span_id, e.workflow, e.manifest, e.input, js(e.labels), "running", e.ts, None, None, None, pid, host])
    b.start("spans", e.span_id, [e.span_id, e.parent_span_id, e.run_id, "run", e.workflow, e.ts, None, "running", None])


def _run_finished(b: Batch, e: Any) -> None:
    b.finish("runs", e.run_id, str(e.status), e.ts, js(e.output), e.error)
    b.finish("spans", e.span_id, e.ts, str(e.status), e.error)


def _node_started(b: Batch, e: Any) -> None:
    b.start("nodes", e.span_id, [e.span_id, e.parent_span_id, e.run_id, e.name, e.pattern, e.path, "running", js(e.input), None, None, e.ts, None])
    b.start("spans", e.span_id, [e.span_id, e.parent_span_id, e.run_id, "node", e.name, e.ts, None, "running", None])


def _node_finished(b: Batch, e: Any) -> None:
    b.finish("nodes", e.span_id, str(e.status), js(e.output), e.error, e.ts)
    b.finish("spans", e.span_id, e.ts, str(e.status), e.error)


def _agent_started(b: Batch, e: Any) -> None:
    b.start("agents", e.span_id, [e.span_id, e.parent_span_id, e.run_id, e.name, e.path, e.model, "running", 0, js(e.input), None, None, e.ts, None])
    b.start("spans", e.span_id, [e.span_id, e.parent_span_id, e.run_id, "agent", e.name, e.ts, None, "running", None])


def _agent_finished(b: Batch, e: Any) -> None:
    b.finish("agents", e.span_id, str(e.status), e.turns, js(e.output), e.error, e.ts)
    b.finish("spans", e.span_id, e.ts, str(e.status), e.error)


def _model_started(b: Batch, e: Any) -> None:
    b.start("spans", e.span_id, [e.span_id, e.parent_span_id, e.run_id, "model", f"{e.provider}/{e.model}", e.ts, None, "running", None])


def _model_finished(b: Batch, e: Any) -> None:
    b.insert("llm_calls", [
        e.span_id, e.parent_span_id, e.run_id, e.call_id, e.agent, e.provider, e.model, e.turn, e.status,
        e.input_tokens, e.output_tokens, e.cached_tokens, e.token_count, e.cost_usd, e.cost_known,
        e.latency_s, e.finish_reason, e.tool_calls, e.attempts, e.error, e.text, e.ts,
    ])
    b.finish("spans", e.span_id, e.ts, e.status, e.error)


def _model_attempt(b: Batch, e: Any) -> None:
    b.insert("model_attempts", [e.span_id, e.run_id, e.call_id, e.provider, e.model, e.attempt, e.outcome, e.http_status, e.error, e.wait_s, e.latency_s, e.ts])


def _tool_started(b: Batch, e: Any) -> None:
    b.start("tool_calls", e.span_id, [e.span_id, e.parent_span_id, e.run_id, e.call_id, e.agent, e.tool, js(e.arguments), "running", None, None, None, e.ts, None])
    b.start("spans", e.span_id, [e.span_id, e.parent_span_id, e.run_id, "tool", e.tool, e.ts, None, "running", None])


def _tool_finished(b: Batch, e: Any) -> None:
    b.finish("tool_calls", e.span_id, e.status, js(e.result), e.error, e.duration_s, e.ts)
    b.finish("spans", e.span_id, e.ts, e.status, e.error)


def _message(b: Batch, e: Any) -> None:
    b.insert("messages", [
        e.message_id, e.run_id, e.span_id, e.parent_span_id, e.ts, e.role, e.sender, e.content, e.room,
        e.round, e.reply_to, e.tool_call_id, js(e.tool_calls) if e.tool_calls else None,
    ])


def _budget(b: Batch, e: Any) -> None:
    b.insert("budget_events", [e.run_id, e.span_id, e.ts, e.action, e.scope, e.metric, e.amount, e.spent, e.reserved, e.limit, e.threshold, e.reason, e.actor])


def _guard(b: Batch, e: Any) -> None:
    b.insert("guard_events", [e.run_id, e.span_id, e.ts, e.guard, e.action, e.tool, e.detail])


def _memory(b: Batch, e: Any) -> None:
    b.insert("memory_writes", [e.run_id, e.span_id, e.ts, e.namespace, e.key, e.op, e.agent, e.bytes, e.total_bytes, e.entries])


def _vote(b: Batch, e: Any) -> None:
    b.insert("votes", [e.run_id, e.span_id, e.ts, e.room, e.round, e.voter, e.choice, e.reason, "vote", None, None])


def _consensus(b: Batch, e: Any) -> None:
    b.insert("votes", [e.run_id, e.span_id, e.ts, e.room, e.round, None, e.decision, None, "consensus", e.strategy, e.reached])


def _killed(b: Batch, e: Any) -> None:
    b.insert("kills", [e.run_id, e.span_id, e.ts, e.target, e.reason, e.actor])


_HANDLERS: dict[str, Callable[[Batch, Any], None]] = {
    "run.started": _run_started,
    "run.finished": _run_finished,
    "node.started": _node_started,
    "node.finished": _node_finished,
    "agent.started": _agent_started,
    "agent.finished": _agent_finished,
    "model.started": _model_started,
    "model.finished": _model_finished,
    "model.attempt": _model_attempt,
    "tool.started": _tool_started,
    "tool.finished": _tool_finished,
    "message": _message,
    "budget": _budget,
    "guard": _guard,
    "memory.write": _memory,
    "team.vote": _vote,
    "team.consensus": _consensus,
    "scope.killed": _killed,
}
