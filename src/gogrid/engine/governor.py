"""The hook through which budgets see every model call: reserve before, settle after.

The engine calls `reserve` before each model call with the worst case of that call, and `settle`
with the real usage when it ends (or what was received before a kill). A governor that refuses
raises BudgetExceeded, and the call is not made. `NullGovernor` is the default: no limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from gogrid.messages import Usage

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext
    from gogrid.models.registry import ModelHandle


class Governor(Protocol):
    @property
    def active(self) -> bool:
        """Whether any limit applies (the engine skips exact prompt counting when none does)."""

    def reserve(
        self, ctx: RunContext, model: ModelHandle, prompt_tokens: int, max_output_tokens: int
    ) -> Any:
        """Reserve the worst case of one call against every budget above `ctx`; raise
        BudgetExceeded when it does not fit. Returns a token passed back to settle."""

    def settle(self, reservation: Any, usage: Usage, cost_usd: float | None) -> None:
        """Replace the reservation with what the call really used."""


class NullGovernor:
    active = False

    def reserve(self, ctx: RunContext, model: ModelHandle, prompt_tokens: int, max_output_tokens: int) -> Any:
        return None

    def settle(self, reservation: Any, usage: Usage, cost_usd: float | None) -> None:
        return None
