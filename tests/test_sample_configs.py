"""The sample manifests validate, and the single-agent ones run offline and do what their
comments promise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from conftest import ROOT
from gogrid.cli import main as cli_main
from gogrid.engine.bus import Collector
from gogrid.engine.runtime import Runtime
from gogrid.events import Event, RunStatus

SAMPLES = ROOT / "sample_configs"


def test_every_sample_config_validates(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in SAMPLES.glob("*.yaml"))
    assert len(files) >= 4
    assert cli_main(["validate", *files]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.count("ok: ") == len(files)


def run_sample(name: str, text: str, workflow: str | None = None) -> tuple[Any, list[Event]]:
    async def go() -> tuple[Any, list[Event]]:
        rt = Runtime.from_file(SAMPLES / name)
        seen = rt.bus.subscribe(Collector())
        async with rt:
            result = await rt.run(text, workflow=workflow)
        return result, seen.events  # type: ignore[attr-defined]

    return anyio.run(go)


def test_single_agent_with_plugin_tools(tmp_path: Path) -> None:
    result, events = run_sample("single_agent_tools.yaml", "What is 17 * (4 + 3), and what time is it in Paris?")
    assert result.status == RunStatus.SUCCEEDED
    tools = [e for e in events if e.kind == "tool.finished"]
    assert len(tools) == 4 and {e.status for e in tools} == {"ok"}  # 2 turns x 2 parallel calls
    assert any(e.tool in result.output for e in tools)  # the answer cites what a tool returned


def test_structured_output_sample(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the run's database goes to ./.gogrid here
    monkeypatch.delenv("GOGRID_DB", raising=False)
    status = cli_main(["run", str(SAMPLES / "structured_output.yaml"), "-q", "--json", "-i", "Triage: the login page times out for EU users"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["status"] == "succeeded"
    assert out["output"]["severity"] in ("low", "medium", "high", "critical")
    assert 1 <= len(out["output"]["next_steps"]) <= 3


def test_scripted_sample_walks_every_path() -> None:
    result, events = run_sample("scripted.yaml", "Check the numbers")
    assert result.status == RunStatus.SUCCEEDED
    statuses = [e.status for e in events if e.kind == "tool.finished"]
    assert statuses[:3] == ["ok", "ok", "ok"] and statuses[3:] == ["invalid", "error"]
    started = [e for e in events if e.kind == "tool.started"][:3]
    finished = [e for e in events if e.kind == "tool.finished"][:3]
    assert max(e.ts for e in started) <= min(e.ts for e in finished)  # the first three overlapped
    assert len(result.output.split()) >= 350  # the long output
    refusal, _ = run_sample("scripted.yaml", "Share the internal price list", workflow="refusal")
    assert refusal.status == RunStatus.SUCCEEDED and refusal.output == "I can't share internal pricing details."
