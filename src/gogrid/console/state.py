"""What the console knows, rebuilt from the event stream (live or replayed).

Plain Python with no Textual import: the App drains the bus buffer a few times per second and
calls `apply` for each event; panes read the result when they redraw. `apply` only updates
dictionaries and records which panes changed, so a burst of thousands of events costs little.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gogrid.events import Event, RunStatus

# Panes that a change can concern; the App redraws only the dirty ones.
PANES = ("agents", "chat", "budgets", "traces", "memory", "runs")

FINAL = {s.value for s in RunStatus if s.is_final}


@dataclass(slots=True, eq=False)
class Node:
    """A run, a workflow node or an agent: one row of the agents tree."""

    span_id: str
    run_id: str
    parent: str | None
    kind: str  # "run" | "node" | "agent"
    name: str
    path: str
    pattern: str = ""
    model: str = ""
    status: str = "running"
    started: float = 0.0
    finished: float | None = None
    turns: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    cost_unknown: bool = False
    error: str | None = None
    children: list[str] = field(default_factory=list)
    depth: int = 0

    @property
    def live(self) -> bool:
        return self.status not in FINAL

    def elapsed(self, now: float) -> float:
        return (self.finished if self.finished is not None else now) - self.started


@dataclass(slots=True, eq=False)
class ChatItem:
    """One line of the chat room: a message, a tool call/result, a vote or a consensus."""

    run_id: str
    span_id: str
    kind: str  # "message" | "tool" | "vote" | "consensus"
    sender: str
    text: str
    role: str = "assistant"
    room: str | None = None
    round: int | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    # An agent's own copy of a conversation that happens in a team's room: its prompt (built from
    # the transcript) and its reply (also posted to the room) are hidden at team level.
    in_room: bool = False


@dataclass(slots=True, eq=False)
class Stream:
    """Model output arriving token by token (shown until its message is posted)."""

    call_id: str
    run_id: str
    agent_span: str | None
    agent: str
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(slots=True, eq=False)
class Span:
    """One bar of the traces waterfall."""

    span_id: str
    run_id: str
    parent: str | None
    kind: str  # run | node | agent | model | tool
    name: str
    start: float
    end: float | None = None
    status: str = "running"
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0


@dataclass(slots=True, eq=False)
class Budget:
    """One budget as the governance events (or the governor's snapshot) describe it."""

    key: str
    run_id: str
    scope: str
    metric: str
    spent: float = 0.0
    reserved: float = 0.0
    limit: float | None = None
    thresholds: list[float] = field(default_factory=list)
    exceeded: bool = False
    history: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=64))

    def burn_rate(self) -> float | None:
        """Spend per second over the recent history, or None with too little data."""
        if len(self.history) < 2:
            return None
        (t0, s0), (t1, s1) = self.history[0], self.history[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None

    def time_to_limit(self) -> float | None:
        rate = self.burn_rate()
        if self.limit is None or not rate or rate <= 0:
            return None
        return max(0.0, (self.limit - self.spent) / rate)


@dataclass(slots=True, eq=False)
class MemoryNamespace:
    name: str
    run_id: str
    entries: int = 0
    bytes: int = 0
    keys: dict[str, int] = field(default_factory=dict)
    writes_by_agent: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class RunInfo:
    run_id: str
    name: str
    manifest: str | None
    status: str
    started: float
    finished: float | None = None
    replayed: bool = False
    error: str | None = None
    span_id: str = ""


class ConsoleState:
    """Everything the panes show, folded from events. `dirty` names the panes to redraw."""

    def __init__(self, chat_limit: int = 5000) -> None:
        self.nodes: dict[str, Node] = {}
        self.roots: list[str] = []
        self.runs: dict[str, RunInfo] = {}
        self.chat: deque[ChatItem] = deque(maxlen=chat_limit)
        self.chat_seq = 0
        self.streams: dict[str, Stream] = {}
        self.spans: dict[str, Span] = {}
        self.spans_by_run: dict[str, list[str]] = {}
        self.budgets: dict[str, Budget] = {}
        self.memory: dict[tuple[str, str], MemoryNamespace] = {}
        self.dirty: set[str] = set(PANES)
        self.structure_changed = True  # rows added to the agents tree (not just values)
        self.changed_nodes: set[str] = set()
        self.events_seen = 0
        self.last_ts = 0.0

    # --- queries used by the panes ---------------------------------------------------------------

    def ordered_nodes(self) -> list[Node]:
        """Depth-first order of the tree, for the agents pane."""
        out: list[Node] = []
        stack = [self.nodes[s] for s in reversed(self.roots) if s in self.nodes]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(self.nodes[c] for c in reversed(node.children) if c in self.nodes)
        return out

    def ancestors(self, span_id: str | None) -> list[str]:
        out: list[str] = []
        seen = 0
        while span_id is not None and seen < 256:
            out.append(span_id)
            node = self.nodes.get(span_id)
            span_id = node.parent if node else (self.spans[span_id].parent if span_id in self.spans else None)
            seen += 1
        return out

    def under(self, span_id: str | None, selected: str | None) -> bool:
        return selected is None or selected in self.ancestors(span_id)

    def subtree(self, span_id: str) -> list[Node]:
        root = self.nodes.get(span_id)
        if root is None:
            return []
        out, stack = [], [root]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(self.nodes[c] for c in n.children if c in self.nodes)
        return out

    def run_of(self, span_id: str | None) -> str | None:
        node = self.nodes.get(span_id or "")
        return node.run_id if node else None

    # --- folding events --------------------------------------------------------------------------

    def apply_all(self, events: list[Event], *, replayed: bool = False) -> None:
        for e in events:
            self.apply(e, replayed=replayed)

    def apply(self, e: Event, *, replayed: bool = False) -> None:
        self.events_seen += 1
        if e.ts > self.last_ts:
            self.last_ts = e.ts
        handler = _HANDLERS.get(e.kind)
        if handler is not None:
            handler(self, e, replayed)

    def _room(self, room: str | None) -> str | None:
        """Teams name their room by their span id; show the team's name instead."""
        node = self.nodes.get(room or "")
        return node.name if node is not None else room

    def _post(self, item: ChatItem) -> None:
        item.room = self._room(item.room)
        if item.kind == "consensus" and item.role != "system":
            item.sender = item.room or item.sender
        self.chat_seq += 1
        item.seq = self.chat_seq
        self.chat.append(item)
        self.dirty.add("chat")

    def _add_node(self, node: Node) -> None:
        parent = self.nodes.get(node.parent or "")
        if parent is not None:
            node.depth = parent.depth + 1
            parent.children.append(node.span_id)
        else:
            self.roots.append(node.span_id)
        self.nodes[node.span_id] = node
        self.structure_changed = True
        self.dirty.update(("agents", "traces"))

    def _touch(self, span_id: str | None) -> None:
        if span_id in self.nodes:
            self.changed_nodes.add(span_id)
            self.dirty.add("agents")

    def _span(self, e: Event, kind: str, name: str, **detail: Any) -> Span:
        span = Span(e.span_id, e.run_id, e.parent_span_id, kind, name, e.ts, detail=detail)
        self.spans[e.span_id] = span
        self.spans_by_run.setdefault(e.run_id, []).append(e.span_id)
        self.dirty.add("traces")
        return span

    def _end_span(self, e: Event, status: str, error: str | None = None, **detail: Any) -> None:
        span = self.spans.get(e.span_id)
        if span is None:
            return
        span.end, span.status, span.error = e.ts, status, error
        span.detail.update(detail)
        self.dirty.add("traces")

    def _on_run_started(self, e: Any, replayed: bool) -> None:
        name = (e.labels or {}).get("name") or e.workflow
        self.runs[e.run_id] = RunInfo(e.run_id, name, e.manifest, "running", e.ts, replayed=replayed, span_id=e.span_id)
        self._add_node(Node(e.span_id, e.run_id, None, "run", name, name, pattern="run", started=e.ts))
        self._span(e, "run", name, input=e.input, manifest=e.manifest)
        self.dirty.add("runs")

    def _on_run_finished(self, e: Any, replayed: bool) -> None:
        status = str(e.status)
        run = self.runs.get(e.run_id)
        if run is not None:
            run.status, run.finished, run.error = status, e.ts, e.error or e.reason
        node = self.nodes.get(e.span_id)
        if node is not None:
            node.status, node.finished, node.error = status, e.ts, e.error
            self._touch(e.span_id)
        # Anything still marked live under a finished run ended with it.
        for n in self.subtree(e.span_id):
            if n.live:
                n.status, n.finished = status, e.ts
                self._touch(n.span_id)
        for sid in self.spans_by_run.get(e.run_id, ()):
            s = self.spans[sid]
            if s.end is None:
                s.end, s.status = e.ts, status
        self._end_span(e, status, e.error, output=e.output)
        self.dirty.update(("runs", "chat", "budgets"))

    def _on_node_started(self, e: Any, replayed: bool) -> None:
        self._add_node(Node(e.span_id, e.run_id, e.parent_span_id, "node", e.name, e.path, pattern=e.pattern, started=e.ts))
        self._span(e, "node", f"{e.pattern} {e.name}", input=e.input)

    def _on_node_finished(self, e: Any, replayed: bool) -> None:
        node = self.nodes.get(e.span_id)
        if node is not None:
            node.status, node.finished, node.error = str(e.status), e.ts, e.error
            self._touch(e.span_id)
        self._end_span(e, str(e.status), e.error, output=e.output)

    def _on_agent_started(self, e: Any, replayed: bool) -> None:
        self._add_node(Node(e.span_id, e.run_id, e.parent_span_id, "agent", e.name, e.path, pattern="agent", model=e.model, started=e.ts))
        self._span(e, "agent", e.name, input=e.input, model=e.model)

    def _on_agent_finished(self, e: Any, replayed: bool) -> None:
        node = self.nodes.get(e.span_id)
        if node is not None:
            node.status, node.finished, node.error = str(e.status), e.ts, e.error
            node.turns = max(node.turns, e.turns)
            self._touch(e.span_id)
        self._end_span(e, str(e.status), e.error, output=e.output, turns=e.turns)

    def _on_model_started(self, e: Any, replayed: bool) -> None:
        self._span(e, "model", f"{e.provider}/{e.model} turn {e.turn}", agent=e.agent, prompt_tokens=e.prompt_tokens, prompt_count=e.prompt_count)
        self.streams[e.call_id] = Stream(e.call_id, e.run_id, e.parent_span_id, e.agent)
        node = self.nodes.get(e.parent_span_id or "")
        if node is not None:
            node.turns = max(node.turns, e.turn)
            self._touch(node.span_id)

    def _on_model_delta(self, e: Any, replayed: bool) -> None:
        stream = self.streams.get(e.call_id)
        if stream is not None:
            stream.parts.append(e.text)
            self.dirty.add("chat")

    def _on_model_attempt(self, e: Any, replayed: bool) -> None:
        span = self.spans.get(e.span_id)
        if span is not None:
            span.attempts.append({"attempt": e.attempt, "provider": e.provider, "model": e.model, "outcome": e.outcome, "http_status": e.http_status, "error": e.error, "wait_s": e.wait_s, "latency_s": e.latency_s})
            if e.outcome in ("retry", "fallback"):
                span.retries += 1
            self.dirty.add("traces")

    def _on_model_finished(self, e: Any, replayed: bool) -> None:
        self.streams.pop(e.call_id, None)
        self._end_span(
            e, "ok" if e.status == "ok" else e.status, e.error, input_tokens=e.input_tokens,
            output_tokens=e.output_tokens, cost_usd=e.cost_usd, output=e.text, attempts=e.attempts,
            token_count=e.token_count,
        )
        cost = e.cost_usd or 0.0
        for sid in self.ancestors(e.parent_span_id):
            node = self.nodes.get(sid)
            if node is None:
                continue
            node.tokens_in += e.input_tokens
            node.tokens_out += e.output_tokens
            node.cost += cost
            node.cost_unknown = node.cost_unknown or not e.cost_known
            self._touch(sid)
        self.dirty.update(("chat", "budgets"))

    def _on_tool_started(self, e: Any, replayed: bool) -> None:
        self._span(e, "tool", e.tool, agent=e.agent, arguments=e.arguments)

    def _on_tool_finished(self, e: Any, replayed: bool) -> None:
        self._end_span(e, "ok" if e.status == "ok" else e.status, e.error, result=e.result, duration_s=e.duration_s)

    def _on_message(self, e: Any, replayed: bool) -> None:
        if e.role == "system":
            return
        kind = "tool" if e.role == "tool" else "message"
        item = ChatItem(e.run_id, e.span_id, kind, e.sender, e.content, e.role, e.room, e.round, list(e.tool_calls))
        if e.room is None:
            node = self.nodes.get(e.span_id)
            parent = self.nodes.get(node.parent or "") if node is not None else None
            item.in_room = parent is not None and parent.pattern == "team"
        self._post(item)

    def _on_vote(self, e: Any, replayed: bool) -> None:
        text = e.choice + (f" - {e.reason}" if e.reason else "")
        self._post(ChatItem(e.run_id, e.span_id, "vote", e.voter, text, room=e.room, round=e.round))

    def _on_consensus(self, e: Any, replayed: bool) -> None:
        text = (f"reached: {e.decision}" if e.reached else "not reached") + f" ({e.strategy})"
        self._post(ChatItem(e.run_id, e.span_id, "consensus", e.room, text, room=e.room, round=e.round))

    def _on_memory(self, e: Any, replayed: bool) -> None:
        key = (e.run_id, e.namespace)
        ns = self.memory.get(key)
        if ns is None:
            ns = self.memory[key] = MemoryNamespace(e.namespace, e.run_id)
        if e.op == "delete":
            ns.keys.pop(e.key, None)
        else:
            ns.keys[e.key] = e.bytes
        ns.entries = e.entries or len(ns.keys)
        ns.bytes = e.total_bytes or sum(ns.keys.values())
        ns.writes_by_agent[e.agent] = ns.writes_by_agent.get(e.agent, 0) + 1
        self.dirty.add("memory")

    def _on_budget(self, e: Any, replayed: bool) -> None:
        key = f"{e.run_id}:{e.scope}:{e.metric}"
        b = self.budgets.get(key)
        if b is None:
            b = self.budgets[key] = Budget(key, e.run_id, e.scope, e.metric)
        if e.action in ("settle", "reserve", "release", "set", "threshold", "exceeded"):
            b.spent, b.reserved = e.spent, e.reserved
        if e.limit is not None:
            b.limit = e.limit
        if e.action == "threshold" and e.threshold is not None and e.threshold not in b.thresholds:
            b.thresholds.append(e.threshold)
        if e.action == "exceeded":
            b.exceeded = True
        b.history.append((e.ts, b.spent))
        self.dirty.add("budgets")

    def _on_killed(self, e: Any, replayed: bool) -> None:
        self._post(ChatItem(e.run_id, e.span_id, "consensus", "operator", f"killed {e.target}: {e.reason} (by {e.actor})", role="system"))


_HANDLERS: dict[str, Any] = {
    "run.started": ConsoleState._on_run_started,
    "run.finished": ConsoleState._on_run_finished,
    "node.started": ConsoleState._on_node_started,
    "node.finished": ConsoleState._on_node_finished,
    "agent.started": ConsoleState._on_agent_started,
    "agent.finished": ConsoleState._on_agent_finished,
    "model.started": ConsoleState._on_model_started,
    "model.delta": ConsoleState._on_model_delta,
    "model.attempt": ConsoleState._on_model_attempt,
    "model.finished": ConsoleState._on_model_finished,
    "tool.started": ConsoleState._on_tool_started,
    "tool.finished": ConsoleState._on_tool_finished,
    "message": ConsoleState._on_message,
    "team.vote": ConsoleState._on_vote,
    "team.consensus": ConsoleState._on_consensus,
    "memory.write": ConsoleState._on_memory,
    "budget": ConsoleState._on_budget,
    "scope.killed": ConsoleState._on_killed,
}
