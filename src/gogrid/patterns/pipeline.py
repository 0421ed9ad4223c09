"""Pipeline: stages in order, each handing a typed state to the next.

The state is a JSON object: `input` (what the pipeline received), one key per finished stage
(its output) and `last` (the latest output). With a `state_schema` it is validated after every
stage. A stage's input is the previous output, or its `transform` (a template with `{input}`,
`{state}` and `{state.<key>}`) or `transform_tool` (a plugin tool called with `input` and, if it
takes it, `state`). On failure a stage aborts the pipeline, is skipped, or is retried with
exponential backoff up to `retries` times; `timeout` bounds each attempt.

    pipe = Pipeline("report", [Stage(research), Stage(write, on_error="retry", retries=2)])
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio

from gogrid.config.workflows import WorkflowSpec
from gogrid.config.yaml_source import Path_
from gogrid.engine.agent import check_schema
from gogrid.engine.errors import ScopeKilledError, WorkflowError
from gogrid.events import Log
from gogrid.messages import ToolCall
from gogrid.patterns.build import Builder, builder
from gogrid.patterns.common import as_text, is_child_failure
from gogrid.tools.base import Tool

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext, Workflow

_STATE_KEY = re.compile(r"\{state\.([A-Za-z0-9_.-]+)\}")


@dataclass(eq=False)
class Stage:
    workflow: Workflow
    name: str = ""
    transform: str | None = None
    transform_tool: Tool | None = None
    on_error: Literal["abort", "skip", "retry"] = "abort"
    retries: int = 2
    backoff: float = 0.5
    timeout: float | None = None

    def __post_init__(self) -> None:
        self.name = self.name or self.workflow.name


@dataclass(eq=False)
class Pipeline:
    name: str
    stages: list[Stage]
    state_schema: dict[str, Any] | None = None
    pattern: str = "pipeline"

    async def run(self, input: Any, ctx: RunContext) -> Any:
        state: dict[str, Any] = {"input": input, "last": input}
        self._check(ctx, state, "input")
        for i, stage in enumerate(self.stages, 1):
            try:
                stage_input = await self._stage_input(ctx, stage, state)
            except WorkflowError as e:
                if stage.on_error == "skip":
                    self._log(ctx, f"stage {stage.name} skipped: {e}")
                    continue
                raise
            output = await self._run_stage(ctx, i, stage, stage_input)
            if output is _SKIPPED:
                continue
            state[stage.name] = output
            state["last"] = output
            self._check(ctx, state, stage.name)
        return state["last"]

    async def _run_stage(self, ctx: RunContext, index: int, stage: Stage, stage_input: Any) -> Any:
        attempts = 1 + (stage.retries if stage.on_error == "retry" else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await ctx.run_node(stage.workflow, stage_input, name=stage.name, timeout=stage.timeout)
            except Exception as e:
                if not is_child_failure(e):
                    raise
                killed = isinstance(e, ScopeKilledError)
                if stage.on_error == "retry" and attempt < attempts and not killed:
                    wait = stage.backoff * 2 ** (attempt - 1)
                    self._log(ctx, f"stage {stage.name} failed (attempt {attempt} of {attempts}), retrying in {wait:g}s: {e}")
                    await anyio.sleep(wait)
                    continue
                if stage.on_error == "skip":
                    self._log(ctx, f"stage {stage.name} skipped: {e}")
                    return _SKIPPED
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise WorkflowError(f"{ctx.path}: stage {index} ({stage.name}) failed{tries}: {e}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    async def _stage_input(self, ctx: RunContext, stage: Stage, state: dict[str, Any]) -> Any:
        if stage.transform is not None:
            return render(stage.transform, state)
        if stage.transform_tool is not None:
            tool = stage.transform_tool
            args: dict[str, Any] = {"input": state["last"]}
            if "state" in tool.args_model.model_fields:
                args["state"] = state
            call = ToolCall(f"transform_{stage.name}", tool.name, args, json.dumps(args, default=str))
            msg = await ctx.runtime.gate.call(ctx, call, {tool.name: tool})
            if msg.is_error:
                raise WorkflowError(f"{ctx.path}: transform for stage {stage.name}: {msg.content}")
            try:
                return json.loads(msg.content)
            except json.JSONDecodeError:
                return msg.content
        return state["last"]

    def _check(self, ctx: RunContext, state: dict[str, Any], after: str) -> None:
        if self.state_schema is None:
            return
        problem = check_schema(_jsonable(state), self.state_schema)
        if problem is not None:
            raise WorkflowError(f"{ctx.path}: state after {after} does not match state_schema: {problem}")

    def _log(self, ctx: RunContext, message: str) -> None:
        ctx.emit(Log(run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id, level="warning", message=message))


_SKIPPED = object()


def render(template: str, state: dict[str, Any]) -> str:
    """Fill `{input}` (the latest output), `{state}` (all of it, JSON) and `{state.key.sub}`."""

    def field_of(m: re.Match[str]) -> str:
        value: Any = state
        for part in m.group(1).split("."):
            value = _parse(value).get(part) if isinstance(_parse(value), dict) else None
        return as_text(value)

    text = _STATE_KEY.sub(field_of, template)
    text = text.replace("{state}", json.dumps(_jsonable(state), ensure_ascii=False))
    return text.replace("{input}", as_text(state["last"]))


def _parse(value: Any) -> Any:
    """Stage outputs that are JSON text are read as JSON when a template looks inside them."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@builder("pipeline")
def _pipeline(b: Builder, spec: WorkflowSpec, path: Path_) -> Workflow:
    p = spec.pipeline
    assert p is not None
    ppath: Path_ = (*path, "pipeline")
    stages: list[Stage] = []
    for i, s in enumerate(p.stages):
        spath: Path_ = (*ppath, "stages", i)
        wf = b.workflow(s.workflow(), spath)
        tool = None
        if s.transform_tool is not None:
            tool = b.tools.get(s.transform_tool)
            if tool is None:
                b.problem((*spath, "transform_tool"), f"unknown tool {s.transform_tool!r}; loaded tools: {', '.join(sorted(b.tools.names())) or 'none'}")
            elif "input" not in tool.args_model.model_fields:
                b.problem((*spath, "transform_tool"), f"tool {tool.name!r} cannot transform: it takes no `input` parameter")
                tool = None
        stage = Stage(wf, s.name or wf.name, s.transform, tool, s.on_error, s.retries, s.backoff, s.timeout)
        if any(x.name == stage.name for x in stages) or stage.name in ("input", "last"):
            b.problem(spath, f"stage name {stage.name!r} is taken; give this stage a unique `name:`")
        stages.append(stage)
    return Pipeline(spec.name or "pipeline", stages, p.state_schema)
