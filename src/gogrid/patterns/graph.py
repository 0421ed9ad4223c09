"""Graph: nodes (any workflow) joined by edges with conditions on the source's output.

After a node finishes, its outgoing edges are tried in order and the first that holds is taken
(an edge without `when` always holds, so it serves as the default). An edge to several nodes
fans out: they run at once. A join node waits until every node it lists has delivered, then
merges (list, concatenate, last, or its workflow merges); a join still waiting when nothing else
runs (a feeding branch was killed) fires with what arrived. Loops are bounded: an edge into a node
that has used up its `max_visits` is passed over (the next edge is tried), and the whole graph
stops with an error after `max_steps` node runs. A node with a `router` asks that agent to pick
among its outgoing `choice` edges. The output is that of the last node to end a branch.

The shape is checked when the manifest loads (see `check_graph`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from gogrid.config.workflows import Condition, GraphSpec, WorkflowSpec
from gogrid.config.yaml_source import Path_
from gogrid.engine.agent import AgentWorkflow
from gogrid.engine.errors import ScopeKilledError, WorkflowError
from gogrid.events import Log
from gogrid.patterns.build import Builder, builder
from gogrid.patterns.common import as_text, is_child_failure
from gogrid.patterns.team import match_option

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from gogrid.engine.context import RunContext, Workflow

MERGES = ("list", "concatenate", "last", "agent")


@dataclass
class Edge:
    source: str
    targets: list[str]
    when: Condition | None = None


@dataclass(eq=False)
class Node:
    name: str
    workflow: Workflow | None = None
    max_visits: int | None = None
    router: AgentWorkflow | None = None
    join: list[str] | None = None
    merge: str = "list"
    timeout: float | None = None


@dataclass(eq=False)
class Graph:
    name: str
    nodes: dict[str, Node]
    edges: list[Edge]
    start: str
    max_steps: int = 100
    pattern: str = "graph"

    def outgoing(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.source == name]

    async def run(self, input: Any, ctx: RunContext) -> Any:
        walk = _Walk(self, ctx)
        ready: list[tuple[str, Any]] = [(self.start, input)]
        while ready:
            async with anyio.create_task_group() as tg:
                walk.tg = tg
                for name, value in ready:
                    walk.activate(name, value)
            if walk.error is not None:
                raise walk.error
            ready = walk.partial_joins()
        return walk.output


@dataclass(eq=False)
class _Walk:
    """One run of a graph: visits, steps, join arrivals, the first failure."""

    graph: Graph
    ctx: RunContext
    tg: TaskGroup | None = None
    visits: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    arrivals: dict[str, dict[str, Any]] = field(default_factory=dict)
    output: Any = None
    error: BaseException | None = None

    def activate(self, name: str, input: Any) -> None:
        self.steps += 1
        if self.steps > self.graph.max_steps:
            self.fail(WorkflowError(f"{self.ctx.path}: max_steps ({self.graph.max_steps}) reached before the graph ended"))
            return
        self.visits[name] = self.visits.get(name, 0) + 1
        assert self.tg is not None
        self.tg.start_soon(self._run, name, input)

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        assert self.tg is not None
        self.tg.cancel_scope.cancel()

    def has_visits_left(self, name: str) -> bool:
        limit = self.graph.nodes[name].max_visits
        return limit is None or self.visits.get(name, 0) < limit

    async def _run(self, name: str, input: Any) -> None:
        node = self.graph.nodes[name]
        ctx = self.ctx
        try:
            workflow = node.workflow if node.workflow is not None else _Merge(name)
            output = await ctx.run_node(workflow, input, name=name, timeout=node.timeout)
            await self._follow(node, output)
        except ScopeKilledError as e:
            ctx.emit(Log(run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id, level="warning", message=f"branch at {name} ends: {e}"))
        except Exception as e:
            if is_child_failure(e):
                self.fail(WorkflowError(f"{ctx.path}: node {name} failed: {e}"))
            else:
                self.fail(e)

    async def _follow(self, node: Node, output: Any) -> None:
        edges = self.graph.outgoing(node.name)
        choice = await self._route(node, edges, output) if node.router is not None else None
        for edge in edges:
            if not holds(edge.when, output, choice):
                continue
            if not all(self.has_visits_left(t) for t in edge.targets):
                continue  # a loop that has used up its visits: try the next edge
            for target in edge.targets:
                if self.graph.nodes[target].join is not None:
                    self._deliver(target, node.name, output)
                else:
                    self.activate(target, output)
            return
        self.output = output  # no edge taken: this branch ends here

    async def _route(self, node: Node, edges: list[Edge], output: Any) -> str | None:
        assert node.router is not None
        options = [e.when.choice for e in edges if e.when is not None and e.when.choice is not None]
        prompt = (
            f"The step {node.name!r} produced:\n{as_text(output)}\n\n"
            f"Pick what happens next.\nCHOOSE ONE OF: {' | '.join(options)}"
        )
        answer = await self.ctx.run_node(node.router, prompt, name=f"{node.name}-router")
        return match_option(as_text(answer), options)

    def partial_joins(self) -> list[tuple[str, Any]]:
        """Joins left waiting once nothing else runs (a branch feeding them was killed or went
        another way): they fire with what did arrive, so the graph can finish its work."""
        out = []
        for join, waiting in self.arrivals.items():
            node = self.graph.nodes[join]
            if waiting and self.has_visits_left(join):
                missing = [s for s in node.join or [] if s not in waiting]
                self.ctx.emit(Log(
                    run_id=self.ctx.run_id, span_id=self.ctx.span_id, parent_span_id=self.ctx.scope.parent_span_id,
                    level="warning", message=f"join {join} fires without {', '.join(missing)}: nothing more can arrive",
                ))
                out.append((join, merge(node, waiting)))
        self.arrivals = {}
        return out

    def _deliver(self, join: str, source: str, output: Any) -> None:
        waiting = self.arrivals.setdefault(join, {})
        waiting.pop(source, None)  # re-insert so the dict keeps arrival order
        waiting[source] = output
        node = self.graph.nodes[join]
        assert node.join is not None
        if all(s in waiting for s in node.join):
            self.arrivals[join] = {}
            self.activate(join, merge(node, waiting))


def merge(node: Node, arrived: dict[str, Any]) -> Any:
    """Merge a join's inputs (`arrived` is in arrival order)."""
    assert node.join is not None
    ordered = [arrived[s] for s in node.join if s in arrived]
    if node.merge == "concatenate":
        return "\n\n".join(as_text(v) for v in ordered)
    if node.merge == "last":
        return list(arrived.values())[-1]
    if node.merge == "agent":
        parts = "\n\n".join(f"[{s}]\n{as_text(arrived[s])}" for s in node.join if s in arrived)
        return f"Merge these results into one answer:\n\n{parts}"
    return ordered


@dataclass(eq=False)
class _Merge:
    """A join without a workflow of its own: its output is the merged input."""

    name: str
    pattern: str = "join"

    async def run(self, input: Any, ctx: RunContext) -> Any:
        return input


def holds(cond: Condition | None, output: Any, choice: str | None = None) -> bool:
    """Whether an edge's condition holds for a node's output (and its router's choice)."""
    if cond is None:
        return True
    if cond.choice is not None:
        return choice is not None and cond.choice.lower() == choice.lower()
    value = output
    if cond.field is not None:
        value = _lookup(_as_json(output), cond.field)
        if value is _MISSING:
            return False
    text = as_text(value).strip()
    if cond.equals is not None and not (value == cond.equals or text.lower() == as_text(cond.equals).strip().lower()):
        return False
    if cond.contains is not None and cond.contains.lower() not in text.lower():
        return False
    return not (cond.regex is not None and re.search(cond.regex, text) is None)


_MISSING = object()


def _as_json(value: Any) -> Any:
    if isinstance(value, str):
        candidate = value.strip().strip("`")
        if candidate.startswith("json"):
            candidate = candidate[4:]
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            return value
    return value


def _lookup(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


# --- load-time checks ----------------------------------------------------------------------------


def check_graph(g: GraphSpec, problem: Any, gpath: Path_) -> None:
    """Report unknown nodes, unreachable nodes, loops without a bound and joins that can never
    fire, each at the line of the offending field. `problem(path, message)` records one."""
    nodes = g.nodes
    known = ", ".join(nodes)

    def unknown(name: str, where: Path_, what: str) -> bool:
        if name in nodes:
            return False
        from gogrid.config.loader import did_you_mean

        problem(where, f"{what} {name!r} is not a node of this graph{did_you_mean(name, nodes)}; nodes: {known}")
        return True

    ok = not unknown(g.start_node, (*gpath, "start"), "start node") if g.start else True
    edges: list[tuple[int, str, list[str]]] = []
    for i, e in enumerate(g.edges):
        bad = unknown(e.from_, (*gpath, "edges", i, "from"), "edge source")
        targets = e.targets
        for j, t in enumerate(targets):
            where: Path_ = (*gpath, "edges", i, "to", j) if isinstance(e.to, list) else (*gpath, "edges", i, "to")
            bad = unknown(t, where, "edge target") or bad
        if not bad:
            edges.append((i, e.from_, targets))
        if e.when is not None and e.when.choice is not None and e.from_ in nodes and nodes[e.from_].router is None:
            problem((*gpath, "edges", i, "when", "choice"), f"a `choice` edge needs a router on node {e.from_!r} (`router: <agent>`)")
    for name, n in nodes.items():
        for k, s in enumerate(n.join or []):
            unknown(s, (*gpath, "nodes", name, "join", k), "join source")
    if not ok:
        return

    succ: dict[str, set[str]] = {n: set() for n in nodes}
    for _, src, targets in edges:
        succ[src].update(targets)

    # Unreachable nodes.
    reached = {g.start_node}
    frontier = [g.start_node]
    while frontier:
        for nxt in succ[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    for name in nodes:
        if name not in reached:
            problem((*gpath, "nodes", name), f"node {name!r} is unreachable from the start node {g.start_node!r}; add an edge to it or remove it")

    # Loops without a bound: every cycle needs a node with max_visits on it.
    for component in _cycles(succ):
        if not any(nodes[n].max_visits for n in component):
            back = next((i for i, src, targets in edges if src in component and any(t in component for t in targets)), None)
            where = (*gpath, "edges", back) if back is not None else (*gpath, "nodes", sorted(component)[0])
            loop = " -> ".join(sorted(component))
            problem(where, f"loop through {loop} has no bound; set `max_visits` on one of its nodes")

    # Joins that can never fire.
    in_cycle = {n for c in _cycles(succ) for n in c}
    for name, n in nodes.items():
        if n.join is None:
            continue
        sources = set(n.join)
        for k, s in enumerate(n.join):
            if s in nodes and name not in succ[s]:
                problem((*gpath, "nodes", name, "join", k), f"join {name!r} waits for {s!r}, but no edge goes from {s!r} to {name!r}, so it can never fire")
        for i, src, targets in edges:
            if name in targets and src not in sources:
                problem((*gpath, "edges", i), f"edge from {src!r} into join {name!r}, which only waits for {', '.join(n.join)}; add {src!r} to its `join`")
        # Sources reached only through different edges of one switch node never run together.
        feeders: dict[str, set[tuple[str, int]]] = {}
        for s in n.join:
            feeders[s] = {(src, i) for i, src, targets in edges if s in targets}
        for a in n.join:
            for b in n.join:
                if a >= b or not feeders.get(a) or not feeders.get(b):
                    continue
                fa, fb = feeders[a], feeders[b]
                srcs = {x for x, _ in fa | fb}
                if len(srcs) == 1 and not (fa & fb) and next(iter(srcs)) not in in_cycle:
                    problem((*gpath, "nodes", name, "join"), f"join {name!r} can never fire: {a!r} and {b!r} are alternative edges of {next(iter(srcs))!r} (only one edge is taken); fan out with `to: [{a}, {b}]` instead")


def _cycles(succ: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in succ[v]:
                out.append(comp)

    for v in succ:
        if v not in index:
            visit(v)
    return out


@builder("graph")
def _graph(b: Builder, spec: WorkflowSpec, path: Path_) -> Workflow:
    g = spec.graph
    assert g is not None
    gpath: Path_ = (*path, "graph")
    check_graph(g, b.problem, gpath)
    nodes: dict[str, Node] = {}
    for name, n in g.nodes.items():
        npath: Path_ = (*gpath, "nodes", name)
        workflow = b.workflow(n.workflow(), npath) if n.has_workflow else None
        router = b.agent(n.router, (*npath, "router")) if n.router else None
        nodes[name] = Node(name, workflow, n.max_visits, router, n.join, n.merge, n.timeout)
    edges = [Edge(e.from_, e.targets, e.when) for e in g.edges]
    return Graph(spec.name or "graph", nodes, edges, g.start_node, g.max_steps)
