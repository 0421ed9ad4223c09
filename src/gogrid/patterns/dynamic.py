"""Dynamic: an orchestrator agent spawns children (agents, teams, pipelines, graphs) at run time.

The orchestrator gets spawn tools: `spawn_agent`, `spawn_team`, `spawn_pipeline`, `spawn_graph`
(specs are validated exactly like the manifest's sections) and `await_children` (futures).
Children run concurrently in a task group owned by the orchestrator's node, each through
`run_node` under the orchestrator's scope: killing the orchestrator (or anything above it) stops
every descendant, and budgets on the way up apply to them. Limits (depth, children in total,
children at once) answer the orchestrator with a clear error instead of spawning. Permissions
only narrow: a child's agents keep only the tools the orchestrator itself was granted.
Children the orchestrator never awaited are cancelled when it gives its final answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic import ConfigDict, Field, ValidationError, create_model

from gogrid.config.workflows import DynamicSpec, WorkflowSpec
from gogrid.config.yaml_source import Path_, dotted
from gogrid.engine.agent import AgentWorkflow
from gogrid.events import Log
from gogrid.governance import spawn_share, with_budget
from gogrid.messages import Message
from gogrid.patterns.build import Builder, builder
from gogrid.patterns.common import Conversation, as_text, is_child_failure
from gogrid.tools.base import Tool

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from gogrid.engine.context import RunContext, Workflow


class SpawnRefused(Exception):
    """A spawn the limits or the spec do not allow; the message goes back to the orchestrator."""


@dataclass(frozen=True)
class SpawnInfo:
    """Kept on an orchestrator's scope so that dynamic nodes inside its children inherit it."""

    child_depth: int  # depth of the children this orchestrator spawns (1 = top level)
    max_depth: int  # absolute, the tightest of every orchestrator above
    tools: frozenset[str] | None  # tools a child may use; None = no restriction from above


@dataclass
class Child:
    id: str
    name: str
    kind: str
    done: anyio.Event = field(default_factory=anyio.Event)
    status: str = "running"
    output: Any = None
    error: str | None = None
    awaited: bool = False

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"child": self.id, "name": self.name, "status": self.status}
        if self.status == "succeeded":
            out["output"] = self.output
        elif self.error:
            out["error"] = self.error
        return out


@dataclass(eq=False)
class Dynamic:
    name: str
    orchestrator: AgentWorkflow
    max_depth: int = 2
    max_children: int = 10
    max_concurrent: int = 4
    allow: tuple[str, ...] = ("agent", "team", "pipeline", "graph")
    agents: list[str] | None = None  # agents a child may be; default: all but the orchestrator
    pattern: str = "dynamic"

    async def run(self, input: Any, ctx: RunContext) -> Any:
        above = next((s.state["spawn"] for s in ctx.scope.ancestors() if "spawn" in s.state), None)
        own_tools = frozenset(self.orchestrator.tools)
        if above is None:
            info = SpawnInfo(1, self.max_depth, own_tools)
        else:
            tools = own_tools if above.tools is None else own_tools & above.tools
            info = SpawnInfo(above.child_depth + 1, min(above.max_depth, above.child_depth + self.max_depth), tools)
        node = _Orchestrator(self, info)
        return await ctx.run_node(node, input, name=self.orchestrator.name)


@dataclass(eq=False)
class _Orchestrator:
    """The orchestrator agent's node: its conversation with spawn tools, and its children."""

    dyn: Dynamic
    info: SpawnInfo
    name: str = ""
    model_label: str = ""
    pattern: str = "agent"

    def __post_init__(self) -> None:
        self.name = self.dyn.orchestrator.name
        self.model_label = self.dyn.orchestrator.model_label

    async def run(self, input: Any, ctx: RunContext) -> Any:
        ctx.scope.state["spawn"] = self.info
        spawner = _Spawner(self.dyn, self.info, ctx)
        async with anyio.create_task_group() as tg:
            spawner.tg = tg
            talk = Conversation(self.dyn.orchestrator, self.name, [Message("user", as_text(input))], spawner.tools())
            answer = await talk.run(input, ctx)
            left = [c.name for c in spawner.children.values() if c.status == "running"]
            if left:
                ctx.emit(Log(run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id, level="warning", message=f"cancelling children never awaited: {', '.join(left)}"))
            tg.cancel_scope.cancel()
        if spawner.fatal is not None:
            raise spawner.fatal
        return answer


@dataclass(eq=False)
class _Spawner:
    dyn: Dynamic
    info: SpawnInfo
    ctx: RunContext
    tg: TaskGroup | None = None
    children: dict[str, Child] = field(default_factory=dict)
    fatal: BaseException | None = None

    @property
    def running(self) -> int:
        return sum(1 for c in self.children.values() if c.status == "running")

    def agent_names(self) -> list[str]:
        manifest = self.ctx.runtime.loaded.manifest
        names = self.dyn.agents if self.dyn.agents is not None else [a for a in manifest.agents if a != self.dyn.orchestrator.name]
        return names or [self.dyn.orchestrator.name]

    # --- tools ---------------------------------------------------------------------------------

    def tools(self) -> dict[str, Tool]:
        out: dict[str, Tool] = {}
        wait_field = (bool, Field(False, description="wait for the child and return its result"))
        input_field = (str, Field(description="the child's input (its task)"))
        if "agent" in self.dyn.allow:
            names = tuple(self.agent_names())
            out["spawn_agent"] = _tool(
                "spawn_agent", "Start an agent as a child working on a task. Returns a child id to await, or the result with wait=true.",
                self._spawn_agent, agent=(Literal[names], Field(description="which agent")), input=input_field, wait=wait_field,
            )
        for kind in ("team", "pipeline", "graph"):
            if kind in self.dyn.allow:
                out[f"spawn_{kind}"] = _tool(
                    f"spawn_{kind}", f"Start a {kind} as a child. `{kind}` is a spec written exactly like a `{kind}:` section of a manifest.",
                    self._spawner_for(kind), **{kind: (dict[str, Any], Field(description=f"the {kind} spec"))}, input=input_field, wait=wait_field,
                )
        out["await_children"] = _tool(
            "await_children", "Wait for children and return their results (all running or unread children when none are named).",
            self._await, children=(list[str] | None, Field(None, description="child ids; default all")),
        )
        return out

    async def _spawn_agent(self, agent: str, input: str, wait: bool = False) -> Any:
        return await self._spawn("agent", {"agent": agent}, input, wait)

    def _spawner_for(self, kind: str) -> Any:
        async def spawn(input: str, wait: bool = False, **spec: Any) -> Any:
            return await self._spawn(kind, {kind: spec[kind]}, input, wait)

        return spawn

    async def _await(self, children: list[str] | None = None) -> Any:
        wanted = children or [c.id for c in self.children.values() if not c.awaited]
        results = []
        for cid in wanted:
            child = self.children.get(cid)
            if child is None:
                results.append({"child": cid, "error": f"no child {cid!r}; spawned: {', '.join(self.children) or 'none'}"})
                continue
            await child.done.wait()
            child.awaited = True
            results.append(child.result())
        return results

    # --- spawning ------------------------------------------------------------------------------

    async def _spawn(self, kind: str, raw: dict[str, Any], input: str, wait: bool) -> Any:
        d, info = self.dyn, self.info
        if info.child_depth > info.max_depth:
            raise SpawnRefused(f"max depth {info.max_depth} reached: this orchestrator is itself at depth {info.child_depth - 1} and cannot spawn")
        if len(self.children) >= d.max_children:
            raise SpawnRefused(f"limit reached: max_children is {d.max_children} and {len(self.children)} were already spawned; use their results")
        if self.running >= d.max_concurrent:
            raise SpawnRefused(f"limit reached: {self.running} children running and max_concurrent is {d.max_concurrent}; await one with await_children first")
        workflow, dropped = self._build(kind, raw)
        n = len(self.children) + 1
        child = Child(f"c{n}", f"child{n}-{raw['agent'] if kind == 'agent' else kind}", kind)
        self.children[child.id] = child
        assert self.tg is not None
        self.tg.start_soon(self._run_child, child, workflow, input)
        if wait:
            await child.done.wait()
            child.awaited = True
            return child.result()
        out: dict[str, Any] = {"child": child.id, "name": child.name, "status": "running"}
        if dropped:
            out["note"] = f"tools not granted to this orchestrator were removed from the child: {', '.join(sorted(dropped))}"
        return out

    def _build(self, kind: str, raw: dict[str, Any]) -> tuple[Workflow, set[str]]:
        try:
            spec = WorkflowSpec.model_validate(raw)
        except ValidationError as e:
            problems = "; ".join(f"{dotted(tuple(err['loc'])) or kind}: {err['msg'].removeprefix('Value error, ')}" for err in e.errors(include_url=False))
            raise SpawnRefused(f"invalid {kind} spec: {problems}") from None
        rt = self.ctx.runtime
        b = Builder(rt.loaded, rt.tools, rt.models)
        names = set(self.agent_names())
        if kind == "agent" and raw["agent"] not in names:
            raise SpawnRefused(f"agent {raw['agent']!r} may not be spawned; choose from {', '.join(sorted(names))}")
        workflow = b.workflow(spec, ("spawn",))
        if b.issues:
            problems = "; ".join(f"{i.field.removeprefix('spawn.') or kind}: {i.message}" for i in b.issues)
            raise SpawnRefused(f"invalid {kind} spec: {problems}")
        dropped: set[str] = set()
        if self.info.tools is not None:
            for agent in b._agents.values():  # fresh instances of this builder: safe to narrow
                keep = {k: v for k, v in agent.tools.items() if k in self.info.tools}
                dropped |= set(agent.tools) - set(keep)
                agent.tools, agent._specs = keep, None
        return workflow, dropped

    async def _run_child(self, child: Child, workflow: Workflow, input: str) -> None:
        share = spawn_share(self.ctx)
        if share is not None:  # the child draws on a slice of what the budgets above have left
            workflow = with_budget(workflow, share=share)
        try:
            child.output = await self.ctx.run_node(workflow, input, name=child.name)
            child.status = "succeeded"
        except Exception as e:
            child.status, child.error = "failed", str(e)
            if not is_child_failure(e):  # e.g. a budget above the orchestrator: stop it all
                self.fatal = e
                assert self.tg is not None
                self.tg.cancel_scope.cancel()
        except BaseException:
            child.status, child.error = "cancelled", "cancelled"
            raise
        finally:
            child.done.set()


def _tool(name: str, description: str, fn: Any, **fields: Any) -> Tool:
    args = create_model(f"{name}_args", __config__=ConfigDict(extra="forbid"), **fields)
    return Tool(name=name, description=description, fn=fn, args_model=args, timeout=None, source="gogrid.patterns.dynamic")


@builder("dynamic")
def _dynamic(b: Builder, spec: WorkflowSpec, path: Path_) -> Workflow:
    d: DynamicSpec | None = spec.dynamic
    assert d is not None
    dpath: Path_ = (*path, "dynamic")
    orchestrator = b.agent(d.orchestrator, (*dpath, "orchestrator"))
    for i, name in enumerate(d.agents or []):
        if name not in b.manifest.agents:
            b.agent(name, (*dpath, "agents", i))  # reports the unknown agent at its line
    return Dynamic(
        name=spec.name or "dynamic", orchestrator=orchestrator, max_depth=d.max_depth,
        max_children=d.max_children, max_concurrent=d.max_concurrent, allow=tuple(d.allow),
        agents=list(d.agents) if d.agents is not None else None,
    )

