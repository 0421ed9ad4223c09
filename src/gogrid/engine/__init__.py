"""The engine: runtime, scopes, the agent loop, the tool gate and the event bus.

Nothing under here imports the console (a test checks it)."""
