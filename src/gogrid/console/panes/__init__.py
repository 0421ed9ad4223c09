"""The console's panes: each shows one aspect of the state and redraws only when told."""
