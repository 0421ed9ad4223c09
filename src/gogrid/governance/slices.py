"""Budgets for children spawned at run time: a child draws on a slice of its parent's budget.

The dynamic pattern wraps what it spawns:

    child = with_budget(workflow, share=0.5)          # half of what every budget above has left
    child = with_budget(workflow, usd=0.10, share=0.5)  # and never more than $0.10
    await ctx.run_node(child, task)

The child's scope gets its own hard limits; its calls still count against every budget above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext, Workflow


@dataclass(eq=False)
class Budgeted:
    inner: Workflow
    usd: float | None = None
    tokens: float | None = None
    requests: float | None = None
    share: float | None = None
    name: str = field(init=False)
    pattern: str = field(init=False)

    def __post_init__(self) -> None:
        self.name, self.pattern = str(self.inner.name), str(self.inner.pattern)

    @property
    def model_label(self) -> str:
        return str(getattr(self.inner, "model_label", ""))

    async def run(self, input: Any, ctx: RunContext) -> Any:
        allot = getattr(ctx.runtime.governor, "allot", None)
        if allot is not None:
            allot(ctx.scope, usd=self.usd, tokens=self.tokens, requests=self.requests, share=self.share, runtime=ctx.runtime)
        return await self.inner.run(input, ctx)


def with_budget(workflow: Workflow, *, usd: float | None = None, tokens: float | None = None,
                requests: float | None = None, share: float | None = None) -> Budgeted:
    return Budgeted(workflow, usd, tokens, requests, share)


def spawn_share(ctx: RunContext) -> float | None:
    """The manifest's `budgets.spawn_share`, or None when it declares no budgets."""
    budgets = ctx.runtime.loaded.manifest.budgets
    return budgets.spawn_share if budgets is not None else None
