"""Cost governance: hard budgets that fail closed, rolling budgets from the database, thresholds
with an optional webhook, and the budget side of the kill switch."""

from gogrid.governance.governor import BudgetGovernor, Reservation, SpendHistory
from gogrid.governance.ledger import BudgetStatus, Ledger
from gogrid.governance.slices import Budgeted, spawn_share, with_budget

__all__ = [
    "BudgetGovernor", "BudgetStatus", "Budgeted", "Ledger", "Reservation", "SpendHistory", "spawn_share", "with_budget",
]
