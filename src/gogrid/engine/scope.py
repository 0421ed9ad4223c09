"""Scopes: the unit of cancellation, kill and budgeting (a run, a workflow node, an agent).

Each scope owns an anyio CancelScope. Killing a scope cancels it, which stops every task inside
it (children, in-flight HTTP requests, tool calls) and nothing outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from gogrid.events import RunStatus


@dataclass(eq=False)
class Scope:
    run_id: str
    span_id: str
    kind: str  # "run" | "node" | "agent"
    name: str
    path: str
    parent: Scope | None = None
    cancel_scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    status: RunStatus = RunStatus.PENDING
    kill_reason: str | None = None
    kill_actor: str | None = None
    budget_exceeded: str | None = None
    children: list[Scope] = field(default_factory=list)
    # Free-form per-scope state for patterns and governance (e.g. budget ledgers, agent turns).
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def parent_span_id(self) -> str | None:
        return self.parent.span_id if self.parent else None

    def ancestors(self) -> list[Scope]:
        """This scope and every scope above it, innermost first."""
        out: list[Scope] = []
        s: Scope | None = self
        while s is not None:
            out.append(s)
            s = s.parent
        return out

    def kill(self, reason: str, actor: str = "user") -> None:
        if self.status.is_final:
            return
        self.kill_reason = reason
        self.kill_actor = actor
        self.cancel_scope.cancel()

    def exceed(self, reason: str) -> None:
        """End this scope because one of its hard budgets would be crossed."""
        if self.status.is_final:
            return
        self.budget_exceeded = reason
        self.cancel_scope.cancel()

    def walk(self) -> list[Scope]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out
