"""Turn workflow specs from a manifest into runnable workflows.

Each pattern registers a builder for its key in `BUILDERS`; a builder receives the `Builder` (to
build nested workflows and agents) and the location of its spec, so that every reference error
names the file, line and field. Problems are collected, not raised one at a time, so that
`gogrid validate` reports them all at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gogrid.config.errors import ManifestError, ManifestIssue
from gogrid.config.loader import LoadedManifest, did_you_mean
from gogrid.config.schema import ModelDef
from gogrid.config.workflows import WorkflowSpec
from gogrid.config.yaml_source import Path_
from gogrid.engine.agent import AgentWorkflow
from gogrid.models.registry import ModelConfigError, ModelFactory, ModelHandle
from gogrid.models.sim import SimModel, SimStep
from gogrid.tools.plugins import ToolRegistry

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext, Workflow

BuildFn = Callable[["Builder", WorkflowSpec, Path_], "Workflow"]
BUILDERS: dict[str, BuildFn] = {}


def builder(pattern: str) -> Callable[[BuildFn], BuildFn]:
    def register(fn: BuildFn) -> BuildFn:
        BUILDERS[pattern] = fn
        return fn

    return register


@dataclass(eq=False)
class NodeView:
    """A workflow seen under another name, or with its input formatted from a template first.
    Built workflows are shared (an agent used in two places is built once), so a node's own
    name and template live here, not on the workflow."""

    inner: Any
    name: str
    template: str | None = None

    @property
    def pattern(self) -> str:
        return str(self.inner.pattern)

    @property
    def model_label(self) -> str:
        return str(getattr(self.inner, "model_label", ""))

    async def run(self, input: Any, ctx: RunContext) -> Any:
        if self.template is not None:
            text = input if isinstance(input, str) else json.dumps(input, default=str)
            input = self.template.replace("{input}", text)
        return await self.inner.run(input, ctx)


@dataclass(eq=False)
class Builder:
    loaded: LoadedManifest
    tools: ToolRegistry
    models: ModelFactory
    issues: list[ManifestIssue] = field(default_factory=list)
    _agents: dict[str, AgentWorkflow] = field(default_factory=dict)
    _named: dict[str, Workflow] = field(default_factory=dict)
    _building: set[str] = field(default_factory=set)

    @property
    def manifest(self) -> Any:
        return self.loaded.manifest

    def problem(self, path: Path_, message: str) -> None:
        self.issues.append(self.loaded.issue(path, message))

    def raise_problems(self) -> None:
        if self.issues:
            raise ManifestError(self.issues)

    # --- workflows ---------------------------------------------------------------------------

    def workflow(self, spec: WorkflowSpec, path: Path_) -> Workflow:
        pattern = spec.pattern
        build = BUILDERS.get(pattern)
        if build is None:  # pragma: no cover - every pattern key has a builder
            raise KeyError(pattern)
        wf = build(self, spec, path)
        if spec.input is not None or spec.name:
            wf = NodeView(wf, spec.name or wf.name, spec.input)
        return wf

    def root(self) -> Workflow:
        wf = self.workflow(self.manifest.workflow, ("workflow",))
        # Named workflows are built too, so that unused ones are still checked.
        for key, spec in self.manifest.workflows.items():
            self.named(key, ("workflows", key), spec)
        return wf

    def named(self, key: str, path: Path_, spec: WorkflowSpec | None = None) -> Workflow:
        if key in self._named:
            return self._named[key]
        spec = spec or self.manifest.workflows.get(key)
        if spec is None:
            self.problem(path, f"unknown workflow {key!r}{did_you_mean(key, self.manifest.workflows)}; define it under `workflows:`")
            return _Broken(key)
        if key in self._building:
            self.problem(path, f"workflow {key!r} refers to itself")
            return _Broken(key)
        self._building.add(key)
        wf = self.workflow(spec, ("workflows", key))
        self._building.discard(key)
        if not spec.name and wf.name != key:
            wf = NodeView(wf, key)
        self._named[key] = wf
        return wf

    # --- agents ------------------------------------------------------------------------------

    def agent(self, name: str, path: Path_) -> AgentWorkflow:
        if name in self._agents:
            return self._agents[name]
        adef = self.manifest.agents.get(name)
        if adef is None:
            self.problem(path, f"unknown agent {name!r}{did_you_mean(name, self.manifest.agents)}; define it under `agents:`")
            adef_missing = AgentWorkflow(name, _NO_MODEL)
            return adef_missing
        apath: Path_ = ("agents", name)
        try:
            handle = self.models.handle(adef.model)
        except ModelConfigError as e:
            self._model_problem(adef.model, (*apath, "model"), str(e))
            handle = _NO_MODEL
        tools = {}
        for i, tname in enumerate(adef.tools):
            t = self.tools.get(tname)
            if t is None:
                known = self.tools.names()
                self.problem((*apath, "tools", i), f"unknown tool {tname!r}{did_you_mean(tname, known)}; loaded tools: {', '.join(sorted(known)) or 'none'}")
            else:
                tools[tname] = t
        if adef.script is not None:
            self._attach_script(name, adef.script, handle, (*apath, "script"))
        agent = AgentWorkflow(
            name=name, model=handle, instructions=adef.instructions, tools=tools,
            max_turns=adef.max_turns, temperature=adef.temperature, max_tokens=adef.max_tokens,
            output_schema=adef.output_schema, output_retries=adef.output_retries,
            stream=adef.stream, tool_timeout=adef.tool_timeout,
        )
        self._agents[name] = agent
        return agent

    def _attach_script(self, agent: str, script: list[Any], handle: ModelHandle, path: Path_) -> None:
        sims = [h.model for h in getattr(handle.model, "chain", [handle])] if handle is not _NO_MODEL else []
        sims = [m for m in sims if isinstance(m, SimModel)]
        if not sims and handle is not _NO_MODEL:
            self.problem(path, "a script only drives sim/ models; this agent's model is " + handle.label)
            return
        steps = []
        for i, raw in enumerate(script):
            try:
                steps.append(SimStep.model_validate({"say": raw} if isinstance(raw, str) else raw))
            except ValidationError as e:
                for err in e.errors(include_url=False):
                    self.problem((*path, i, *err["loc"]), _step_message(err))
        for m in sims:
            m.scripts[agent] = steps


    def _model_problem(self, ref: str | list[str], agent_path: Path_, message: str) -> None:
        """Point at the model's own definition when the problem is in it (`models.<key>.settings`
        ...), else at the agent's `model:`; report each problem once even when shared."""
        where = agent_path
        field_path = _FIELD_PREFIX.match(message)
        refs = [ref] if isinstance(ref, str) else ref
        defined = [r for r in refs if r in self.manifest.models]
        if field_path and len(defined) == 1 and field_path.group(1).split(".")[0].split("[")[0] in ModelDef.model_fields:
            parts: list[str | int] = [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", field_path.group(1)) if p]
            where = ("models", defined[0], *parts)
            message = field_path.group(2)
        issue = self.loaded.issue(where, message)
        if issue not in self.issues:
            self.issues.append(issue)


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.DOTALL)


def _step_message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else ""
        fields = [f.alias or name for name, f in SimStep.model_fields.items()]
        hint = did_you_mean(key, fields) or f"; a step takes: {', '.join(fields)}"
        return f"unknown key {key!r} in a script step{hint}"
    got = err.get("input")
    suffix = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    return f"invalid script step: {err['msg']}{suffix}"


class _NoModel:
    provider = "none"
    name = "none"

    async def request(self, *a: Any, **k: Any) -> Any:  # pragma: no cover - never built into a run
        raise RuntimeError("no model")

    async def aclose(self) -> None:
        return None


_NO_MODEL = ModelHandle(_NoModel(), "none", None)


@dataclass(eq=False)
class _Broken:
    """Stands in for a workflow that failed to build, so that checking can go on."""

    name: str
    pattern: str = "broken"

    async def run(self, input: Any, ctx: RunContext) -> Any:  # pragma: no cover - never run
        raise RuntimeError("broken workflow")


@builder("agent")
def _agent(b: Builder, spec: WorkflowSpec, path: Path_) -> Workflow:
    assert spec.agent is not None
    return b.agent(spec.agent, (*path, "agent"))


@builder("ref")
def _ref(b: Builder, spec: WorkflowSpec, path: Path_) -> Workflow:
    assert spec.ref is not None
    return b.named(spec.ref, (*path, "ref"))
