"""Running a real manifest against a loopback provider server, and reading what happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from gogrid.engine.bus import Collector
from gogrid.engine.runtime import RunResult, Runtime
from gogrid.events import Event
from providers.wire import WireServer

TOOLS = '''
from gogrid.tools.base import tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b
'''

FAST_RETRIES = {"retry_backoff": 0.01, "retry_backoff_max": 0.05}


def model_entry(server: WireServer, **extra: Any) -> dict[str, Any]:
    """A `models:` entry pointing at `server`, with quick retries unless told otherwise."""
    settings = {**FAST_RETRIES, **extra.pop("settings", {})}
    return {"model": f"{server.dialect.provider}/{server.model}", "base_url": server.base_url,
            "api_key_env": server.dialect.key_env, "settings": settings, **extra}


def write_manifest(tmp_path: Path, models: dict[str, Any], agent: dict[str, Any], name: str = "m.yaml") -> Path:
    """A manifest with one agent `a` (the workflow) and the `add` tool available. JSON is YAML."""
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "testtools.py").write_text(TOOLS)
    agent = {"instructions": "You are terse.", **agent}
    doc = {"version": 1, "name": "providers", "models": models, "agents": {"a": agent}, "workflow": {"agent": "a"}}
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def run(path: Path, text: str = "What is 2+3?") -> tuple[RunResult, list[Event]]:
    async def go() -> tuple[RunResult, list[Event]]:
        rt = Runtime.from_file(path)
        seen = rt.bus.subscribe(Collector())
        async with rt:
            result = await rt.run(text)
        return result, seen.events  # type: ignore[attr-defined]

    return anyio.run(go)


def of_kind(events: list[Event], kind: str) -> list[Any]:
    return [e for e in events if e.kind == kind]


def attempts(events: list[Event]) -> list[tuple[str, str, int | None]]:
    """(provider, outcome, http status) of every model.attempt event, in order."""
    return [(e.provider, e.outcome, e.http_status) for e in of_kind(events, "model.attempt")]
