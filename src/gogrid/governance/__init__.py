"""Cost governance: hard budgets that fail closed, rolling budgets from the database, thresholds
with an optional webhook, and the budget side of the kill switch."""

from gogrid.governance.governor import BudgetGovernor, Reservation, SpendHistory
from gogrid.governance.ledger import BudgetStatus, Ledger

__all__ = ["BudgetGovernor", "BudgetStatus", "Ledger", "Reservation", "SpendHistory"]
