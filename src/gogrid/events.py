"""Typed events: the one stream from the engine to the store, the console and the exporters.

Every event carries the same envelope (`event_id`, `ts`, `run_id`, `span_id`, `parent_span_id`,
`kind`) and a few typed payload fields. Events are plain JSON-safe data so that a past run can be
replayed from the database, and a remote worker could one day stream them back.

Life-cycle pairs (`*.started` / `*.finished`) share one `span_id`; the parent link of the started
event is what rebuilds the tree of who ran inside what.
"""

from __future__ import annotations

import itertools
import os
import time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    KILLED = "killed"
    BUDGET_EXCEEDED = "budget_exceeded"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        return self not in (RunStatus.PENDING, RunStatus.RUNNING)


# Ids are cheap and unique within a process; the process prefix keeps them unique across processes
# writing into the same database over time.
_PREFIX = f"{os.getpid() & 0xFFFF:04x}{int(time.time()) & 0xFFFFFF:06x}"
_counter = itertools.count(1)


def new_id(prefix: str = "") -> str:
    return f"{prefix}{_PREFIX}{next(_counter):08x}"


class Event(BaseModel):
    """The envelope shared by every event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    run_id: str
    span_id: str
    parent_span_id: str | None = None
    event_id: str = Field(default_factory=new_id)
    ts: float = Field(default_factory=time.time)


# --- runs ------------------------------------------------------------------------------------


class RunStarted(Event):
    kind: Literal["run.started"] = "run.started"
    workflow: str
    manifest: str | None = None
    input: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


class RunFinished(Event):
    kind: Literal["run.finished"] = "run.finished"
    status: RunStatus
    output: Any = None
    error: str | None = None
    reason: str | None = None


# --- workflow nodes (team, pipeline stage, graph node, spawned child) -------------------------


class NodeStarted(Event):
    kind: Literal["node.started"] = "node.started"
    name: str
    pattern: str
    path: str
    input: Any = None


class NodeFinished(Event):
    kind: Literal["node.finished"] = "node.finished"
    name: str
    pattern: str
    path: str
    status: RunStatus
    output: Any = None
    error: str | None = None


# --- agents -----------------------------------------------------------------------------------


class AgentStarted(Event):
    kind: Literal["agent.started"] = "agent.started"
    name: str
    path: str
    model: str
    input: Any = None


class AgentFinished(Event):
    kind: Literal["agent.finished"] = "agent.finished"
    name: str
    path: str
    status: RunStatus
    output: Any = None
    turns: int = 0
    error: str | None = None


# --- model calls ------------------------------------------------------------------------------

CountKind = Literal["exact", "counted", "estimated"]


class ModelCallStarted(Event):
    kind: Literal["model.started"] = "model.started"
    call_id: str
    agent: str
    provider: str
    model: str
    turn: int
    prompt_tokens: int = 0
    prompt_count: CountKind = "estimated"


class ModelDelta(Event):
    """A piece of streamed output (text or tool-call arguments)."""

    kind: Literal["model.delta"] = "model.delta"
    call_id: str
    text: str


class ModelAttempt(Event):
    """One try of a model call against one provider (retries and fallbacks show here)."""

    kind: Literal["model.attempt"] = "model.attempt"
    call_id: str
    provider: str
    model: str
    attempt: int
    outcome: Literal["ok", "retry", "error", "fallback"]
    http_status: int | None = None
    error: str | None = None
    wait_s: float = 0.0
    latency_s: float = 0.0


class ModelCallFinished(Event):
    kind: Literal["model.finished"] = "model.finished"
    call_id: str
    agent: str
    provider: str
    model: str
    turn: int
    status: Literal["ok", "error", "cancelled", "killed", "budget_exceeded"]
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    token_count: CountKind = "exact"
    cost_usd: float | None = None
    cost_known: bool = True
    latency_s: float = 0.0
    finish_reason: str | None = None
    text: str = ""
    tool_calls: int = 0
    attempts: int = 1
    error: str | None = None


# --- tool calls -------------------------------------------------------------------------------


class ToolCallStarted(Event):
    kind: Literal["tool.started"] = "tool.started"
    call_id: str
    agent: str
    tool: str
    arguments: Any = None


class ToolCallFinished(Event):
    kind: Literal["tool.finished"] = "tool.finished"
    call_id: str
    agent: str
    tool: str
    status: Literal["ok", "error", "timeout", "denied", "invalid", "cancelled"]
    result: Any = None
    error: str | None = None
    duration_s: float = 0.0


# --- messages (agent conversations and team rooms) ----------------------------------------------


class MessagePosted(Event):
    kind: Literal["message"] = "message"
    message_id: str
    role: Literal["system", "user", "assistant", "tool"]
    sender: str
    content: str
    room: str | None = None
    round: int | None = None
    reply_to: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)


class Vote(Event):
    kind: Literal["team.vote"] = "team.vote"
    room: str
    round: int
    voter: str
    choice: str
    reason: str = ""


class Consensus(Event):
    kind: Literal["team.consensus"] = "team.consensus"
    room: str
    round: int
    strategy: str
    reached: bool
    decision: str | None = None


class MemoryWrite(Event):
    kind: Literal["memory.write"] = "memory.write"
    namespace: str
    key: str
    op: Literal["set", "append", "delete"]
    agent: str
    bytes: int = 0
    total_bytes: int = 0
    entries: int = 0


# --- governance, security, diagnostics -------------------------------------------------------


class BudgetEvent(Event):
    kind: Literal["budget"] = "budget"
    action: Literal["reserve", "settle", "release", "threshold", "exceeded", "kill", "set"]
    scope: str
    metric: Literal["usd", "tokens", "requests"] = "usd"
    amount: float = 0.0
    spent: float = 0.0
    reserved: float = 0.0
    limit: float | None = None
    threshold: float | None = None
    reason: str | None = None
    actor: str | None = None


class GuardEvent(Event):
    kind: Literal["guard"] = "guard"
    guard: str
    action: Literal["allow", "deny", "redact", "flag", "approve", "ask"]
    tool: str | None = None
    detail: str = ""


class ScopeKilled(Event):
    kind: Literal["scope.killed"] = "scope.killed"
    target: str
    reason: str
    actor: str = "user"


class Log(Event):
    kind: Literal["log"] = "log"
    level: Literal["debug", "info", "warning", "error"] = "info"
    message: str


AnyEvent = Annotated[
    RunStarted
    | RunFinished
    | NodeStarted
    | NodeFinished
    | AgentStarted
    | AgentFinished
    | ModelCallStarted
    | ModelDelta
    | ModelAttempt
    | ModelCallFinished
    | ToolCallStarted
    | ToolCallFinished
    | MessagePosted
    | Vote
    | Consensus
    | MemoryWrite
    | BudgetEvent
    | GuardEvent
    | ScopeKilled
    | Log,
    Field(discriminator="kind"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(AnyEvent)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        RunStarted, RunFinished, NodeStarted, NodeFinished, AgentStarted, AgentFinished,
        ModelCallStarted, ModelDelta, ModelAttempt, ModelCallFinished, ToolCallStarted,
        ToolCallFinished, MessagePosted, Vote, Consensus, MemoryWrite, BudgetEvent, GuardEvent,
        ScopeKilled, Log,
    )
}


def event_from_json(data: str | bytes) -> Event:
    """Parse one event back from its JSON form (replay, exporters, remote workers)."""
    return EVENT_ADAPTER.validate_json(data)


def event_from_dict(data: dict[str, Any]) -> Event:
    return EVENT_ADAPTER.validate_python(data)
