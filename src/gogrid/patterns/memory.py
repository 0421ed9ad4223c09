"""Shared memory: a pool of namespaces (one per team, one per run) that agents reach through
memory tools. Every namespace has size limits and keeps accounting (entries, bytes, writes per
agent) that the console shows; every write is a `memory.write` event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gogrid.config.workflows import MemorySpec
from gogrid.events import MemoryWrite
from gogrid.tools.base import Tool, ToolContext, make_tool

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext


Where = Literal["team", "run"]


class MemoryLimitError(ValueError):
    """A write would break a namespace's limits; the message goes back to the agent."""


@dataclass
class Namespace:
    name: str
    limits: MemorySpec
    entries: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)  # per agent

    @property
    def bytes(self) -> int:
        return sum(self.sizes.values())

    def stats(self) -> dict[str, Any]:
        return {"entries": len(self.entries), "bytes": self.bytes, "writes": dict(self.writes)}


class MemoryPool:
    """All namespaces of one run. Values are JSON-safe; sizes are their JSON length in bytes."""

    def __init__(self) -> None:
        self.namespaces: dict[str, Namespace] = {}

    def namespace(self, name: str, limits: MemorySpec | None = None) -> Namespace:
        ns = self.namespaces.get(name)
        if ns is None:
            ns = self.namespaces[name] = Namespace(name, limits or MemorySpec())
        return ns

    def get(self, ns: str, key: str) -> Any:
        return self.namespace(ns).entries.get(key)

    def set(self, ns: str, key: str, value: Any, agent: str) -> int:
        space = self.namespace(ns)
        size = _size(value)
        self._check(space, key, size)
        space.entries[key] = value
        space.sizes[key] = size
        space.writes[agent] = space.writes.get(agent, 0) + 1
        return size

    def append(self, ns: str, key: str, value: Any, agent: str) -> int:
        current = self.namespace(ns).entries.get(key)
        items = list(current) if isinstance(current, list) else ([] if current is None else [current])
        return self.set(ns, key, [*items, value], agent)

    def delete(self, ns: str, key: str, agent: str) -> bool:
        space = self.namespace(ns)
        if key not in space.entries:
            return False
        del space.entries[key]
        del space.sizes[key]
        space.writes[agent] = space.writes.get(agent, 0) + 1
        return True

    def search(self, ns: str, query: str, limit: int = 10) -> list[dict[str, Any]]:
        q = query.lower()
        out = []
        for key, value in self.namespace(ns).entries.items():
            if q in key.lower() or q in json.dumps(value, default=str).lower():
                out.append({"key": key, "value": value})
                if len(out) >= limit:
                    break
        return out

    def _check(self, space: Namespace, key: str, size: int) -> None:
        lim = space.limits
        if size > lim.max_value_bytes:
            raise MemoryLimitError(f"value is {size} bytes; the limit per value is {lim.max_value_bytes}")
        if key not in space.entries and len(space.entries) >= lim.max_entries:
            raise MemoryLimitError(f"namespace {space.name!r} is full ({lim.max_entries} entries); delete some first")
        total = space.bytes - space.sizes.get(key, 0) + size
        if total > lim.max_bytes:
            raise MemoryLimitError(f"namespace {space.name!r} would hold {total} bytes; the limit is {lim.max_bytes}")


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str, ensure_ascii=False).encode())


def run_pool(ctx: RunContext) -> MemoryPool:
    """The run's pool, kept on the run's root scope so every pattern in the run shares it."""
    root = ctx.scope.ancestors()[-1]
    pool = root.state.get("memory")
    if pool is None:
        pool = root.state["memory"] = MemoryPool()
    assert isinstance(pool, MemoryPool)
    return pool


def memory_tools(ctx: RunContext, team_namespace: str, limits: MemorySpec) -> dict[str, Tool]:
    """memory_get/set/append/search/delete over the team's namespace and the run's, for the
    agents of the team whose context is `ctx` (writes are recorded on the team's span)."""
    pool = run_pool(ctx)
    pool.namespace(team_namespace, limits)
    pool.namespace("run", limits)
    names = {"team": team_namespace, "run": "run"}

    def emit(ns: str, key: str, op: Literal["set", "append", "delete"], agent: str, size: int) -> None:
        space = pool.namespace(ns)
        ctx.emit(MemoryWrite(
            run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id,
            namespace=ns, key=key, op=op, agent=agent, bytes=size, total_bytes=space.bytes,
            entries=len(space.entries),
        ))

    def memory_get(key: str, ctx_: ToolContext, namespace: Where = "team") -> Any:
        """Read a value from shared memory.

        Args:
            key: the entry's key
            namespace: "team" (this team's memory) or "run" (shared by the whole run)
        """
        value = pool.get(names[namespace], key)
        return value if value is not None else f"no entry {key!r} in {namespace} memory"

    def memory_set(key: str, value: str, ctx_: ToolContext, namespace: Where = "team") -> str:
        """Store a value in shared memory, replacing any value under that key.

        Args:
            key: the entry's key
            value: what to store
            namespace: "team" or "run"
        """
        ns = names[namespace]
        size = pool.set(ns, key, value, ctx_.agent)
        emit(ns, key, "set", ctx_.agent, size)
        return f"stored {key!r} ({size} bytes)"

    def memory_append(key: str, value: str, ctx_: ToolContext, namespace: Where = "team") -> str:
        """Append a value to a list in shared memory (created if missing).

        Args:
            key: the list's key
            value: the item to append
            namespace: "team" or "run"
        """
        ns = names[namespace]
        size = pool.append(ns, key, value, ctx_.agent)
        emit(ns, key, "append", ctx_.agent, size)
        return f"appended to {key!r} (now {size} bytes)"

    def memory_search(query: str, namespace: Where = "team") -> list[dict[str, Any]]:
        """Find entries whose key or value contains the query text.

        Args:
            query: text to look for (case-insensitive)
            namespace: "team" or "run"
        """
        return pool.search(names[namespace], query)

    def memory_delete(key: str, ctx_: ToolContext, namespace: Where = "team") -> str:
        """Delete an entry from shared memory.

        Args:
            key: the entry's key
            namespace: "team" or "run"
        """
        ns = names[namespace]
        if not pool.delete(ns, key, ctx_.agent):
            return f"no entry {key!r} in {namespace} memory"
        emit(ns, key, "delete", ctx_.agent, 0)
        return f"deleted {key!r}"

    fns = (memory_get, memory_set, memory_append, memory_search, memory_delete)
    return {f.__name__: make_tool(f, timeout=5.0) for f in fns}
