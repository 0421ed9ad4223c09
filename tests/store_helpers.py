"""Helpers for the store tests: the real CLI in a subprocess, and a slow manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import ROOT

CLI = [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]


def gogrid(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, cwd=ROOT)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def slow_manifest(folder: Path, *, rounds: int = 400, latency_ms: int = 40) -> Path:
    """One agent that calls a tool `rounds` times, each model turn taking `latency_ms`."""
    path = folder / "slow.yaml"
    path.write_text(f"""\
version: 1
name: slow
plugins: [{json.dumps(str(ROOT / "plugins"))}]
models:
  slow:
    model: sim/slow
    settings: {{seed: 5, latency_ms: {latency_ms}, tool_rounds: {rounds}}}
agents:
  worker:
    model: slow
    instructions: Work through the numbers one at a time.
    tools: [calculate]
    max_turns: {rounds + 5}
workflow:
  agent: worker
""")
    return path


def wait_for(predicate: Any, *, timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)
