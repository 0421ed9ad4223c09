"""Helpers for the console tests: waiting on the live app, reading widgets, fixed event logs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import RichLog

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Let the app run until `predicate()` is truthy (generous bound: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def log_text(log: RichLog) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in log.lines)


def table_rows(table: Any) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def fixed_events() -> list[dict[str, Any]]:
    """A small finished team run with fixed ids and timestamps: deterministic screens.

    A team of two debaters (one calls a tool, both vote), a shared memory and a budget; the
    events are exactly what the engine publishes, written as a JSONL event log."""
    t0 = 1_700_000_000.0
    run, run_span, team_span, ada_span, bob_span = "rfixed0001", "s-run", "s-team", "s-ada", "s-bob"
    out: list[dict[str, Any]] = []

    def ev(kind: str, dt: float, span: str, parent: str | None, **payload: Any) -> None:
        out.append({"kind": kind, "run_id": run, "span_id": span, "parent_span_id": parent,
                    "event_id": f"e{len(out):04d}", "ts": t0 + dt, **payload})

    ev("run.started", 0.0, run_span, None, workflow="debate", manifest="sample_configs/demo.yaml", input="Should we ship on Friday?", labels={"name": "demo"})
    ev("node.started", 0.01, team_span, run_span, name="panel", pattern="team", path="demo/panel", input="Should we ship on Friday?")
    ev("agent.started", 0.02, ada_span, team_span, name="ada", path="demo/panel/ada", model="sim/debater", input="Should we ship on Friday?")
    ev("agent.started", 0.02, bob_span, team_span, name="bob", path="demo/panel/bob", model="sim/debater", input="Should we ship on Friday?")
    ev("message", 0.03, team_span, run_span, message_id="m1", role="user", sender="moderator", content="Should we ship on Friday?", room="panel", round=1)
    ev("model.started", 0.05, "s-m1", ada_span, call_id="demo/panel/ada#1", agent="ada", provider="sim", model="debater", turn=1, prompt_tokens=120)
    ev("model.delta", 0.10, "s-m1", ada_span, call_id="demo/panel/ada#1", text="Let me check ")
    ev("model.finished", 0.40, "s-m1", ada_span, call_id="demo/panel/ada#1", agent="ada", provider="sim", model="debater", turn=1, status="ok",
       input_tokens=120, output_tokens=30, cost_usd=0.00018, latency_s=0.35, text="", tool_calls=1)
    ev("message", 0.41, ada_span, team_span, message_id="m2", role="assistant", sender="ada", content="Let me check the release calendar.", room="panel", round=1,
       tool_calls=[{"id": "c1", "name": "days_between", "arguments": {"start": "2026-11-20", "end": "2026-11-27"}}])
    ev("tool.started", 0.42, "s-t1", ada_span, call_id="c1", agent="ada", tool="days_between", arguments={"start": "2026-11-20", "end": "2026-11-27"})
    ev("tool.finished", 0.52, "s-t1", ada_span, call_id="c1", agent="ada", tool="days_between", status="ok", result={"days": 7}, duration_s=0.1)
    ev("message", 0.53, ada_span, team_span, message_id="m3", role="tool", sender="days_between", content='{"days": 7}', room="panel", round=1, tool_call_id="c1")
    ev("model.started", 0.05, "s-m2", bob_span, call_id="demo/panel/bob#1", agent="bob", provider="sim", model="debater", turn=1, prompt_tokens=118)
    ev("model.attempt", 0.30, "s-m2", bob_span, call_id="demo/panel/bob#1", provider="sim", model="debater", attempt=1, outcome="retry", http_status=429, error="rate limited", wait_s=0.1)
    ev("model.finished", 0.80, "s-m2", bob_span, call_id="demo/panel/bob#1", agent="bob", provider="sim", model="debater", turn=1, status="ok",
       input_tokens=118, output_tokens=44, cost_usd=0.0002, latency_s=0.75, text="Friday is risky: nobody is on call over the weekend.", attempts=2)
    ev("message", 0.81, bob_span, team_span, message_id="m4", role="assistant", sender="bob", content="Friday is risky: nobody is on call over the weekend.", room="panel", round=1)
    ev("memory.write", 0.82, bob_span, team_span, namespace="panel", key="risks", op="append", agent="bob", bytes=52, total_bytes=52, entries=1)
    ev("memory.write", 0.90, ada_span, team_span, namespace="panel", key="calendar", op="set", agent="ada", bytes=24, total_bytes=76, entries=2)
    ev("budget", 0.91, team_span, run_span, action="threshold", scope="demo/panel", metric="usd", spent=0.00038, limit=0.0005, threshold=0.5)
    ev("team.vote", 1.00, ada_span, team_span, room="panel", round=1, voter="ada", choice="no", reason="a week gives time to test")
    ev("team.vote", 1.01, bob_span, team_span, room="panel", round=1, voter="bob", choice="no", reason="no weekend cover")
    ev("team.consensus", 1.02, team_span, run_span, room="panel", round=1, strategy="majority", reached=True, decision="no")
    ev("agent.finished", 1.03, ada_span, team_span, name="ada", path="demo/panel/ada", status="succeeded", output="no", turns=2)
    ev("agent.finished", 1.03, bob_span, team_span, name="bob", path="demo/panel/bob", status="succeeded", output="no", turns=1)
    ev("node.finished", 1.04, team_span, run_span, name="panel", pattern="team", path="demo/panel", status="succeeded", output="no")
    ev("run.finished", 1.05, run_span, None, status="succeeded", output="Ship next week, not Friday.")
    return out


def write_fixed_log(path: Path) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in fixed_events()) + "\n", encoding="utf-8")
    return path


def fast_demo(tmp_path: Path) -> Path:
    """sample_configs/demo.yaml as shipped, with the simulated latency taken out (for tests)."""
    import re

    text = (ROOT / "sample_configs" / "demo.yaml").read_text(encoding="utf-8")
    text = re.sub(r"latency_ms: \[[^\]]*\]", "latency_ms: [1, 3]", text)  # whatever the pace setting
    text = text.replace("plugins: [../plugins]", f"plugins: [{ROOT / 'plugins'}]")
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path
