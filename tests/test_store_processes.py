"""Two real processes: one owns the database while a run is live, another queries it; hard kill."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from gogrid.store.client import NoOwner, owner_pid, query
from gogrid.store.store import socket_path
from store_helpers import gogrid, slow_manifest, start, stop, wait_for


def count(db: Path, sql: str) -> int:
    return int(query(db, sql).rows[0][0])


def test_a_second_process_sees_a_live_run_through_the_owner(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    run = start("run", str(slow_manifest(tmp_path)), "-i", "go", "--db", str(db), "-q", "--json")
    try:
        pid = wait_for(lambda: owner_pid(db), what="the owner's socket")
        assert pid == run.pid
        assert socket_path(db).stat().st_mode & 0o777 == 0o600
        wait_for(lambda: count(db, "SELECT count(*) FROM llm_calls") >= 2, what="model calls")

        first = gogrid("sql", "--db", str(db), "--format", "json", "SELECT count(*) AS calls FROM llm_calls")
        assert first.returncode == 0, first.stderr
        seen = json.loads(first.stdout)[0]["calls"]
        assert seen >= 2
        # the second process reads current results, not a snapshot: the count keeps growing
        wait_for(lambda: json.loads(gogrid("sql", "--db", str(db), "-f", "json", "SELECT count(*) AS n FROM llm_calls").stdout)[0]["n"] > seen,
                 what="newer model calls")

        runs = gogrid("runs", "--db", str(db), "--json")
        assert runs.returncode == 0, runs.stderr
        [row] = json.loads(runs.stdout)
        assert row["status"] == "running" and row["tokens"] > 0
        table = gogrid("runs", "--db", str(db))
        assert "running" in table.stdout and "slow.yaml" in table.stdout
        show = gogrid("show", row["run_id"][:8], "--db", str(db))
        assert show.returncode == 0, show.stderr
        assert "called calculate" in show.stdout

        second = gogrid("run", "sample_configs/demo.yaml", "-i", "hi", "-q", "--db", str(db))
        assert second.returncode == 1 and "owned by another GoGrid process" in second.stderr
        assert f"(PID {run.pid})" in second.stderr and "Traceback" not in second.stderr

        run.send_signal(signal.SIGINT)  # ends the run cleanly: recorded as cancelled
        out, err = run.communicate(timeout=60)
        assert json.loads(out)["status"] == "cancelled", err
    finally:
        stop(run)
    assert not socket_path(db).exists()  # the owner removed its socket on the way out
    assert query(db, "SELECT status FROM runs").rows == [("cancelled",)]  # and now from the file


def test_hard_kill_keeps_flushed_events_and_marks_the_run_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "killed.duckdb"
    run = start("run", str(slow_manifest(tmp_path)), "-i", "go", "--db", str(db), "-q")
    try:
        wait_for(lambda: owner_pid(db), what="the owner's socket")
        wait_for(lambda: count(db, "SELECT count(*) FROM tool_calls") >= 3, what="tool calls")
        committed = count(db, "SELECT count(*) FROM events")  # what the owner had flushed
        run_id = query(db, "SELECT run_id FROM runs").rows[0][0]
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        stop(run)
    assert socket_path(db).exists()  # the dead owner's socket is left behind
    with contextlib.suppress(NoOwner):
        owner_pid(db)

    result = gogrid("runs", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["run_id"] == run_id and row["status"] == "interrupted"
    assert not socket_path(db).exists()  # the stale socket was cleared once the file was free
    # every event flushed before the kill is there (plus the closing run.finished)
    assert count(db, "SELECT count(*) FROM events") >= committed + 1
    assert count(db, "SELECT count(*) FROM events WHERE kind = 'run.finished' AND payload->>'status' = 'interrupted'") == 1
    assert count(db, "SELECT count(*) FROM spans WHERE status = 'running'") == 0
    assert query(db, "SELECT error FROM runs").rows[0][0].startswith(f"the process (PID {run.pid})")
    show = gogrid("show", run_id, "--db", str(db))
    assert "interrupted" in show.stdout


def test_a_database_held_by_another_program_gives_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    assert gogrid("run", "sample_configs/demo.yaml", "-i", "hi", "-q", "--db", str(db)).returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        result = gogrid("sql", "--db", str(db), "SELECT 1")
        assert result.returncode == 1
        assert f"(PID {holder.pid})" in result.stderr and "does not answer" in result.stderr
        assert "Traceback" not in result.stderr
        ran = gogrid("run", "sample_configs/demo.yaml", "-i", "hi", "-q", "--db", str(db))
        assert ran.returncode == 1 and f"(PID {holder.pid})" in ran.stderr and "Traceback" not in ran.stderr
    finally:
        holder.communicate(input="", timeout=30)
