"""One budget: a limit on one metric, what is spent, what is reserved for calls in flight.

A ledger never lets `spent + reserved` pass its limit: a reservation that would not fit is
refused before the call is made, so what is settled later (at most what was reserved) cannot pass
it either.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Metric = Literal["usd", "tokens", "requests"]

# Float sums of many small costs drift by a few ulps; a reservation that fits up to this much is
# treated as fitting so an exactly-sized budget is not refused by rounding.
EPSILON = 1e-12
# Burn rate looks at settlements over the last minute.
BURN_WINDOW_S = 60.0


@dataclass(eq=False)
class Ledger:
    key: str  # "process", a scope path, "agent:<run>:<name>", "model:<run>:<label>", "rolling:..."
    label: str  # how people read it: "run demo", "agent writer", "rolling $5/day (manifest demo)"
    metric: Metric
    limit: float | None
    on_exceed: str = "stop"
    thresholds: tuple[float, ...] = (0.5, 0.8, 1.0)
    run_id: str | None = None  # None for process-wide and rolling budgets
    spent: float = 0.0
    reserved: float = 0.0
    history: float = 0.0  # spend before this process started (rolling budgets)
    since: float | None = None  # start of a rolling window, for messages
    crossed: list[float] = field(default_factory=list)
    # Rolling budgets: the window, whose runs count, and what this process settled in it.
    window: float | None = None
    over_manifest: bool = True
    local: list[tuple[float, float]] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    _recent: deque[tuple[float, float]] = field(default_factory=deque)

    @property
    def used(self) -> float:
        return self.history + self.spent + self.reserved

    def fits(self, amount: float) -> bool:
        return self.limit is None or self.used + amount <= self.limit * (1 + EPSILON) + EPSILON

    def room(self) -> float:
        """What may still be reserved (inf without a limit)."""
        if self.limit is None:
            return float("inf")
        return max(0.0, self.limit - self.used)

    def reserve(self, amount: float) -> None:
        self.reserved += amount

    def settle(self, reserved: float, actual: float, now: float) -> list[float]:
        """Swap a reservation for the real amount; return thresholds newly crossed, in order."""
        self.reserved = max(0.0, self.reserved - reserved)
        self.spent += actual
        if actual:
            self._recent.append((now, actual))
        return self.cross(self.history + self.spent)

    def cross(self, level: float) -> list[float]:
        if self.limit is None or self.limit <= 0 or len(self.crossed) >= len(self.thresholds):
            return []
        bar = self.limit * (1 - EPSILON)
        new = []
        for t in self.thresholds:  # increasing: stop at the first one not reached
            if level < t * bar:
                break
            if t not in self.crossed:
                new.append(t)
        self.crossed.extend(new)
        return new

    def burn_rate(self, now: float) -> float:
        """Spend per second over the last minute (what the console turns into $/min)."""
        recent = self._recent
        while recent and recent[0][0] < now - BURN_WINDOW_S:
            recent.popleft()
        if not recent:
            return 0.0
        span = max(1.0, min(BURN_WINDOW_S, now - self.created))
        return sum(a for _, a in recent) / span


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """What the console's budgets pane shows for one budget."""

    scope: str
    label: str
    metric: Metric
    spent: float
    reserved: float
    limit: float | None
    thresholds_crossed: tuple[float, ...]
    burn_rate: float  # per second
    run_id: str | None = None
    history: float = 0.0

    @property
    def fraction(self) -> float | None:
        if not self.limit:
            return None
        return (self.history + self.spent) / self.limit


def status_of(ledger: Ledger, now: float) -> BudgetStatus:
    return BudgetStatus(
        scope=ledger.key, label=ledger.label, metric=ledger.metric, spent=ledger.spent,
        reserved=ledger.reserved, limit=ledger.limit, thresholds_crossed=tuple(ledger.crossed),
        burn_rate=ledger.burn_rate(now), run_id=ledger.run_id, history=ledger.history,
    )


def fmt(metric: str, amount: float) -> str:
    if metric == "usd":
        # Cents at least, and down to a millionth where small amounts need it: $5.00, $0.084, $0.000135.
        if 0 < abs(amount) < 5e-7:  # below a millionth: say so rather than print $0.00
            return f"${amount:.1e}"
        text = f"{amount:.6f}".rstrip("0")
        whole, _, frac = text.partition(".")
        return f"${whole}.{frac.ljust(2, '0')}"
    if metric == "tokens":
        return f"{amount:,.0f} tokens"
    return f"{amount:,.0f} requests"
