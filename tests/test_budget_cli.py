"""`gogrid run --budget USD`: a hard run limit on top of the manifest's, and its usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOGRID = [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]
MANIFEST = """\
version: 1
name: demo
plugins: []
models:
  m: {model: sim/m, settings: {latency_ms: 1}}
agents:
  assistant: {model: m}
workflow: {agent: assistant}
"""


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(MANIFEST)
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOGRID, "run", *args], capture_output=True, text=True, timeout=120)


def test_budget_flag_stops_a_run_the_manifest_does_not_limit(demo: Path, tmp_path: Path) -> None:
    out = _run(str(demo), "-i", "hello", "--budget", "0.000001", "--json", "--db", str(tmp_path / "a.duckdb"))
    assert out.returncode == 1, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "budget_exceeded"
    assert result["error"].startswith("run demo: the limit of $0.000001 would be exceeded") and "the next call needs up to" in result["error"]


def test_a_generous_budget_lets_the_run_finish(demo: Path, tmp_path: Path) -> None:
    out = _run(str(demo), "-i", "hello", "--budget", "$1", "--json", "--db", str(tmp_path / "b.duckdb"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "succeeded"


def test_the_lower_of_flag_and_manifest_holds(demo: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFEST + "budgets:\n  run: {usd: 0.0000001}\n")
    out = _run(str(manifest), "-i", "hello", "--budget", "5", "--json", "--db", str(tmp_path / "c.duckdb"))
    assert out.returncode == 1 and out.stdout, out.stderr
    assert json.loads(out.stdout)["status"] == "budget_exceeded"


def test_bad_budget_flags_are_usage_errors(demo: Path) -> None:
    for bad, expected in (("abc", "expected an amount in USD"), ("0", "expected an amount above 0"), ("-1", "above 0")):
        out = _run(str(demo), "--budget", bad, "--no-db")
        assert out.returncode == 2 and expected in out.stderr and "Traceback" not in out.stderr


def test_budgets_sample_fits_and_stops_under_a_tighter_flag(tmp_path: Path) -> None:
    from conftest import ROOT

    sample = str(ROOT / "sample_configs" / "budgets.yaml")
    ok = _run(sample, "-i", "Plan a product launch", "--json", "-q", "--db", str(tmp_path / "s.duckdb"))
    assert ok.returncode == 0 and json.loads(ok.stdout)["status"] == "succeeded", ok.stderr
    tight = _run(sample, "-i", "Plan a product launch", "--budget", "0.002", "--json", "-q", "--db", str(tmp_path / "s.duckdb"))
    result = json.loads(tight.stdout)
    assert tight.returncode == 1 and result["status"] == "budget_exceeded"
    assert result["error"].startswith("run launch-budget: the limit of $0.002 would be exceeded")
