"""Acceptance 2: a rolling daily budget blocks the next run once earlier runs' spend (read from a
real DuckDB file) reaches it, and says how much was spent since when."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import anyio
import duckdb

from gogrid.events import RunStatus
from gogrid.host import Host

GOGRID = [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]

MANIFEST = """\
version: 1
name: daily
plugins: []
models:
  m: {model: sim/m, settings: {seed: 5, latency_ms: 0, price_input: 100, price_output: 200}}
agents:
  writer: {model: m, max_tokens: 100}
workflow: {agent: writer}
budgets:
  rolling:
    - {usd: 0.1, per: day}
"""


def _run(manifest: Path, db: Path) -> tuple[RunStatus, str | None]:
    async def go() -> tuple[RunStatus, str | None]:
        async with Host(db=db) as host:
            rt = host.load(manifest)
            result = await rt.run("Draft the note")
        return result.status, result.error

    return anyio.run(go)


def _spent(db: Path) -> float:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return float(con.execute("SELECT coalesce(sum(cost_usd), 0) FROM llm_calls").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def test_rolling_budget_blocks_the_next_run_with_spend_and_since(tmp_path: Path) -> None:
    manifest = tmp_path / "daily.yaml"
    manifest.write_text(MANIFEST)
    db = tmp_path / "spend.duckdb"
    started = time.time()

    outcomes = []
    for _ in range(20):
        status, error = _run(manifest, db)
        outcomes.append(status)
        if status != RunStatus.SUCCEEDED:
            break
    assert outcomes[-1] == RunStatus.BUDGET_EXCEEDED, outcomes
    assert len(outcomes) >= 3  # earlier runs went through; the history is what stopped this one
    spent = _spent(db)
    assert spent <= 0.1  # across every run, the rolling limit held

    assert error is not None and "rolling budget $0.10 per day (manifest daily)" in error
    m = re.search(r"\$(\d+\.\d+) spent since (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", error)
    assert m, error
    assert float(m.group(1)) == round(spent, 6) or abs(float(m.group(1)) - spent) < 5e-7
    since = time.mktime(time.strptime(m.group(2), "%Y-%m-%d %H:%M")) - time.timezone
    assert abs(since - (started - 86400)) < 120  # a day before now, to the minute

    # The same refusal from the command line: exit status 1 and the message, no call made.
    out = subprocess.run([*GOGRID, "run", str(manifest), "-q", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "budget_exceeded" in out.stderr and "spent since" in out.stderr and "Traceback" not in out.stderr
    assert _spent(db) == spent

    # Spend older than the window no longer counts: the next run goes through.
    con = duckdb.connect(str(db))
    con.execute("UPDATE llm_calls SET finished_at = finished_at - INTERVAL 2 DAY")
    con.close()
    status, error = _run(manifest, db)
    assert status == RunStatus.SUCCEEDED, error


def test_rolling_budget_over_manifest_ignores_other_manifests(tmp_path: Path) -> None:
    db = tmp_path / "spend.duckdb"
    other = tmp_path / "other.yaml"
    other.write_text(MANIFEST.replace("name: daily", "name: other").split("budgets:")[0])
    for _ in range(8):  # spend well past $0.10 under another manifest
        assert _run(other, db)[0] == RunStatus.SUCCEEDED
    assert _spent(db) > 0.1
    manifest = tmp_path / "daily.yaml"
    manifest.write_text(MANIFEST)
    assert _run(manifest, db)[0] == RunStatus.SUCCEEDED
    project = tmp_path / "project.yaml"
    project.write_text(MANIFEST.replace("{usd: 0.1, per: day}", "{usd: 0.1, per: 24h, over: project}"))
    status, error = _run(project, db)
    assert status == RunStatus.BUDGET_EXCEEDED and error is not None and "(project)" in error
