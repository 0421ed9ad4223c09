"""Exceptions that decide how a scope ends."""

from __future__ import annotations


class WorkflowError(Exception):
    """A workflow node failed; the message is for the operator."""


class MaxTurnsExceeded(WorkflowError):
    pass


class OutputValidationError(WorkflowError):
    pass


class ScopeKilledError(WorkflowError):
    """Raised to a parent when one of its children was killed (the parent itself goes on)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} was killed: {reason}")
        self.path = path
        self.reason = reason


class BudgetExceeded(WorkflowError):
    """A hard budget limit would be crossed; the call was not made. `scope` names the budget's
    scope (a span id), so the node that owns that budget ends as budget_exceeded."""

    def __init__(self, message: str, *, scope: str | None = None, finish: bool = False, summary: str | None = None) -> None:
        super().__init__(message)
        self.scope = scope
        # The budget says `on_exceed: finish`: the agent may take one last tool-less turn.
        self.finish = finish
        self.summary = summary


class ChildBudgetExceeded(WorkflowError):
    """What a parent sees when a child scope ended because its own budget would be crossed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
