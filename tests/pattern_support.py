"""Helpers for the pattern tests: write a manifest, run it on sim models, collect its events."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import anyio

from gogrid.engine.bus import Collector
from gogrid.engine.runtime import RunResult, Runtime
from gogrid.events import Event

HEADER = """\
version: 1
plugins: []
models:
  fast:
    model: sim/fast
    settings: {seed: 3, latency_ms: [1, 3]}
"""


def write_manifest(tmp_path: Path, body: str, *, name: str = "m.yaml", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + textwrap.dedent(body))
    return path


def run_manifest(path: Path, input: Any = "Plan the launch", **options: Any) -> tuple[RunResult, list[Event]]:
    async def go() -> tuple[RunResult, list[Event]]:
        rt = Runtime.from_file(path, **options)
        seen = Collector()
        rt.bus.subscribe(seen)
        async with rt:
            result = await rt.run(input)
        return result, seen.events

    return anyio.run(go)


def of_kind(events: list[Event], kind: str) -> list[Any]:
    return [e for e in events if e.kind == kind]


def finished(events: list[Event], path_suffix: str) -> list[Any]:
    """node/agent finished events whose path ends with `path_suffix`."""
    return [e for e in events if e.kind in ("node.finished", "agent.finished") and e.path.endswith(path_suffix)]  # type: ignore[attr-defined]
