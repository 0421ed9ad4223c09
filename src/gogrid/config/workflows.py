"""Workflow specs: the `workflow:` section and every place a workflow can stand.

A spec names exactly one pattern by its key: `agent`, `ref` (a named workflow), `team`,
`pipeline`, `graph` or `dynamic`. Any place that takes a workflow takes any of them, so patterns
nest: a team member can be a pipeline, a graph node a team, a pipeline stage a graph.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PATTERN_KEYS = ("agent", "ref", "team", "pipeline", "graph", "dynamic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- team ----------------------------------------------------------------------------------------


class MemorySpec(_Strict):
    """Limits of the shared memory a team's members reach through memory tools."""

    enabled: bool = True
    max_entries: int = Field(default=1000, ge=1, description="entries per namespace")
    max_bytes: int = Field(default=1_000_000, ge=1, description="bytes of values per namespace")
    max_value_bytes: int = Field(default=64_000, ge=1, description="bytes of one value")


TeamStrategy = Literal["unanimous", "majority", "first-response", "moderator"]


class TeamSpec(_Strict):
    members: list[WorkflowSpec] = Field(min_length=1, description="agents or any other workflows")
    strategy: TeamStrategy = "majority"
    options: list[str] = Field(
        default_factory=lambda: ["approve", "revise"], min_length=1, description="what members vote on"
    )
    max_rounds: int = Field(default=3, ge=1, le=100)
    moderator: str | None = Field(default=None, description="agent that decides (strategy: moderator)")
    coordinator: str | None = Field(default=None, description="agent that writes the final answer")
    memory: MemorySpec = Field(default_factory=MemorySpec)

    @model_validator(mode="after")
    def _moderator_when_needed(self) -> TeamSpec:
        if self.strategy == "moderator" and not self.moderator:
            raise ValueError("strategy 'moderator' needs `moderator: <agent>`")
        return self


# --- pipeline ------------------------------------------------------------------------------------


class StageSpec(_Strict):
    """A pipeline stage: any workflow, plus how the stage is fed and what happens on failure."""

    name: str | None = None
    agent: str | None = None
    ref: str | None = None
    team: TeamSpec | None = None
    pipeline: PipelineSpec | None = None
    graph: GraphSpec | None = None
    dynamic: DynamicSpec | None = None
    input: str | None = Field(default=None, description="template for this node's input; {input} is what it receives")
    timeout: float | None = Field(default=None, gt=0, description="seconds for this stage")
    transform: str | None = Field(
        default=None, description="template of the stage's input; {input} = previous output, {state} = the state"
    )
    transform_tool: str | None = Field(default=None, description="plugin tool that computes the stage's input")
    on_error: Literal["abort", "skip", "retry"] = "abort"
    retries: int = Field(default=2, ge=0, le=20, description="extra attempts with on_error: retry")
    backoff: float = Field(default=0.5, ge=0, description="seconds before the first retry; doubles each time")

    @model_validator(mode="after")
    def _one_pattern(self) -> StageSpec:
        _check_one_pattern(self)
        if self.transform is not None and self.transform_tool is not None:
            raise ValueError("use either transform or transform_tool, not both")
        return self

    def workflow(self) -> WorkflowSpec:
        return _as_workflow(self)


class PipelineSpec(_Strict):
    stages: list[StageSpec] = Field(min_length=1)
    state_schema: dict[str, Any] | None = Field(
        default=None, description="JSON Schema the state must satisfy after every stage"
    )


# --- graph ---------------------------------------------------------------------------------------


class Condition(_Strict):
    """A test on the source node's output. Several tests in one condition must all hold."""

    equals: Any = None
    contains: str | None = None
    regex: str | None = None
    field: str | None = Field(default=None, description="dotted path into the JSON output tested instead")
    choice: str | None = Field(default=None, description="taken when the source node's router picks this")

    @model_validator(mode="after")
    def _some_test(self) -> Condition:
        if self.choice is None and self.equals is None and self.contains is None and self.regex is None:
            raise ValueError("a condition needs one of: equals, contains, regex, choice")
        if self.choice is not None and (self.equals is not None or self.contains or self.regex or self.field):
            raise ValueError("`choice` cannot be combined with other tests")
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            import re

            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"invalid regex: {e}") from None
        return v


class EdgeSpec(_Strict):
    from_: str = Field(alias="from")
    to: str | list[str] = Field(description="a node, or several that run at once (fan-out)")
    when: Condition | None = None

    @property
    def targets(self) -> list[str]:
        return [self.to] if isinstance(self.to, str) else list(self.to)


MergeStrategy = Literal["list", "concatenate", "last", "agent"]


class GraphNodeSpec(_Strict):
    """A graph node: any workflow, or a join (`join:` the nodes it waits for) that merges."""

    name: str | None = None
    agent: str | None = None
    ref: str | None = None
    team: TeamSpec | None = None
    pipeline: PipelineSpec | None = None
    graph: GraphSpec | None = None
    dynamic: DynamicSpec | None = None
    input: str | None = Field(default=None, description="template for this node's input; {input} is what it receives")
    timeout: float | None = Field(default=None, gt=0)
    max_visits: int | None = Field(default=None, ge=1, description="how many times a loop may come back here")
    router: str | None = Field(default=None, description="agent that picks among outgoing `choice` edges")
    join: list[str] | None = Field(default=None, min_length=1, description="nodes this join waits for")
    merge: MergeStrategy = "list"

    @model_validator(mode="after")
    def _one_pattern(self) -> GraphNodeSpec:
        chosen = [k for k in PATTERN_KEYS if getattr(self, k) is not None]
        if self.join is None:
            _check_one_pattern(self)
        elif len(chosen) > 1:
            raise ValueError(f"a join node runs at most one workflow; got {', '.join(chosen)}")
        if self.merge == "agent" and not chosen:
            raise ValueError("merge: agent needs the workflow that merges (e.g. `agent: merger`)")
        if self.join is None and self.merge != "list":
            raise ValueError("`merge` only applies to a join node (add `join: [...]`)")
        return self

    @property
    def has_workflow(self) -> bool:
        return any(getattr(self, k) is not None for k in PATTERN_KEYS)

    def workflow(self) -> WorkflowSpec:
        return _as_workflow(self)


class GraphSpec(_Strict):
    nodes: dict[str, GraphNodeSpec] = Field(min_length=1)
    edges: list[EdgeSpec] = Field(default_factory=list)
    start: str | None = Field(default=None, description="first node; defaults to the first listed")
    max_steps: int = Field(default=100, ge=1, le=100_000, description="node runs allowed in one graph run")

    @property
    def start_node(self) -> str:
        return self.start or next(iter(self.nodes))


# --- dynamic -------------------------------------------------------------------------------------

SpawnKind = Literal["agent", "team", "pipeline", "graph"]


def _all_kinds() -> list[SpawnKind]:
    return ["agent", "team", "pipeline", "graph"]


class DynamicSpec(_Strict):
    orchestrator: str = Field(description="agent that gets the spawn tools")
    max_depth: int = Field(default=2, ge=1, le=20, description="levels of spawned children")
    max_children: int = Field(default=10, ge=1, le=10_000, description="children in total")
    max_concurrent: int = Field(default=4, ge=1, le=1000, description="children running at once")
    allow: list[SpawnKind] = Field(default_factory=lambda: _all_kinds(), description="what may be spawned")
    agents: list[str] | None = Field(
        default=None, description="agents a child may be (default: every agent in the manifest)"
    )


# --- the spec itself -----------------------------------------------------------------------------


class WorkflowSpec(_Strict):
    name: str | None = Field(default=None, description="a display name for the node")
    agent: str | None = Field(default=None, description="run one agent defined under `agents:`")
    ref: str | None = Field(default=None, description="run a workflow defined under `workflows:`")
    team: TeamSpec | None = Field(default=None, description="members talk in a room until they agree")
    pipeline: PipelineSpec | None = Field(default=None, description="stages in order")
    graph: GraphSpec | None = Field(default=None, description="nodes and conditional edges")
    dynamic: DynamicSpec | None = Field(default=None, description="an orchestrator agent spawns children")
    input: str | None = Field(
        default=None, description="template for this node's input; {input} is what it receives"
    )
    timeout: float | None = Field(default=None, gt=0, description="seconds for this node")

    @model_validator(mode="after")
    def _exactly_one_pattern(self) -> WorkflowSpec:
        _check_one_pattern(self)
        return self

    @property
    def pattern(self) -> str:
        return next(k for k in PATTERN_KEYS if getattr(self, k) is not None)

    def body(self) -> Any:
        return getattr(self, self.pattern)


def _check_one_pattern(spec: BaseModel) -> None:
    chosen = [k for k in PATTERN_KEYS if getattr(spec, k) is not None]
    if len(chosen) != 1:
        keys = ", ".join(PATTERN_KEYS)
        got = ", ".join(chosen) if chosen else "none"
        raise ValueError(f"expected exactly one of {keys}; got {got}")


def _as_workflow(spec: BaseModel) -> WorkflowSpec:
    """The plain workflow part of a stage or node spec (already validated, so constructed)."""
    fields = {k: getattr(spec, k) for k in (*PATTERN_KEYS, "name", "input", "timeout")}
    return WorkflowSpec.model_construct(**fields)


for _model in (TeamSpec, StageSpec, PipelineSpec, GraphNodeSpec, GraphSpec, WorkflowSpec):
    _model.model_rebuild()
