"""Small helpers the patterns share: text of a value, the agent behind a node, member failures."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gogrid.engine.agent import AgentWorkflow
from gogrid.engine.errors import BudgetExceeded, WorkflowError
from gogrid.messages import Message
from gogrid.models.base import ModelError
from gogrid.tools.base import Tool

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext


def as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def agent_behind(workflow: Any) -> tuple[AgentWorkflow | None, str | None]:
    """The AgentWorkflow a node runs (seen through a NodeView), and the node's input template."""
    template = getattr(workflow, "template", None)
    inner = getattr(workflow, "inner", workflow)
    return (inner if isinstance(inner, AgentWorkflow) else None), template


# What a pattern treats as one child failing (the pattern decides what follows). A budget
# stop that belongs to an ancestor is not one: it must reach the scope that owns the budget.
CHILD_FAILURES: tuple[type[BaseException], ...] = (WorkflowError, ModelError)


def is_child_failure(e: BaseException) -> bool:
    if isinstance(e, BudgetExceeded):
        return False
    return isinstance(e, CHILD_FAILURES)


@dataclass(eq=False)
class Conversation:
    """Runs an agent on a prepared conversation (a team member seeing the room, an orchestrator
    with spawn tools) as an ordinary agent node: same events, same scope, extra tools."""

    agent: AgentWorkflow
    name: str
    messages: list[Message]
    extra_tools: dict[str, Tool] | None = None
    pattern: str = "agent"

    @property
    def model_label(self) -> str:
        return self.agent.model_label

    async def run(self, input: Any, ctx: RunContext) -> Any:
        agent = self.agent
        if self.extra_tools:
            agent = replace(agent, tools={**agent.tools, **self.extra_tools}, _specs=None)
        agent._post(ctx, self.messages[-1])  # the new prompt; the rest is already on record
        return await agent.converse(list(self.messages), ctx)
