"""Acceptance 3: `gogrid kill` from another process stops a live `gogrid run` within a second,
aborts its in-flight HTTP request to a slow loopback provider (the server sees the connection
close), and the partial spend is recorded. Two real processes, a real database, real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

GOGRID = [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]
WORDS = ["The", " plan", " holds", " with", " three", " caveats", " worth", " noting"]


class StallingServer:
    """An OpenAI-compatible endpoint that streams a few tokens, then stalls until the client
    hangs up; it records when the connection closed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.streaming = threading.Event()
        self.closed = threading.Event()
        self.closed_at: float | None = None
        self.requests: list[dict[str, object]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            self.requests.append(json.loads(body))
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")
            for w in WORDS:
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
                         "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                conn.sendall(f"data: {json.dumps(chunk)}\n\n".encode())
            self.streaming.set()
            conn.settimeout(0.05)
            while not self._stop.is_set():  # stall: never finish, watch for the client leaving
                try:
                    if conn.recv(1) == b"":
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
            self.closed_at = time.time()
            self.closed.set()

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)


def _manifest(tmp_path: Path, server: StallingServer) -> Path:
    doc = {
        "version": 1, "name": "slow", "plugins": [],
        "models": {"gpt": {"model": "openai/gpt-4o-mini", "base_url": server.base_url, "timeout": 120,
                           "max_retries": 0, "price": {"input": 150, "output": 600}}},
        "agents": {"writer": {"model": "gpt", "max_tokens": 400, "stream": True}},
        "workflow": {"agent": "writer"},
        "budgets": {"run": {"usd": 5}},
    }
    path = tmp_path / "slow.yaml"
    path.write_text(json.dumps(doc))
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def _live_run_id(db: Path, proc: subprocess.Popen[bytes]) -> str:
    """Ask the run's own process (over the database's channel) which run is live."""
    deadline = time.time() + 30
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        out = subprocess.run([*GOGRID, "sql", "SELECT run_id FROM runs WHERE status = 'running'", "--db", str(db), "--format", "json"],
                             capture_output=True, text=True, env=_env(), timeout=30)
        if out.returncode == 0:
            rows = json.loads(out.stdout or "[]")
            if rows:
                return str(rows[0]["run_id"])
        time.sleep(0.1)
    raise AssertionError("the run never showed up as running")


def test_kill_from_another_process_aborts_the_request_and_records_partial_spend(tmp_path: Path) -> None:
    server = StallingServer()
    db = tmp_path / "kill.duckdb"
    run = subprocess.Popen([*GOGRID, "run", str(_manifest(tmp_path, server)), "-i", "Write the plan", "--db", str(db)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        deadline = time.time() + 60
        while not server.streaming.wait(0.1):
            assert run.poll() is None and time.time() < deadline, run.communicate()[1].decode()
        run_id = _live_run_id(db, run)
        assert not server.closed.is_set()

        kill = subprocess.run([*GOGRID, "kill", run_id[:10], "--reason", "operator says stop", "--db", str(db)],
                              capture_output=True, text=True, env=_env(), timeout=60)
        assert kill.returncode == 0, kill.stderr
        assert f"killed slow (run {run_id})" in kill.stdout

        assert server.closed.wait(10), "the in-flight HTTP request was not aborted"
        _, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        server.stop()
    assert run.returncode == 1, err.decode()
    assert "killed" in err.decode()

    con = duckdb.connect(str(db), read_only=True)
    try:
        status, error = con.execute("SELECT status, error FROM runs WHERE run_id = ?", [run_id]).fetchone()  # type: ignore[misc]
        assert status == "killed" and "operator says stop" in error
        killed_ts, actor, reason = con.execute(
            "SELECT epoch(ts), actor, reason FROM kills WHERE run_id = ?", [run_id]).fetchone()  # type: ignore[misc]
        assert actor.startswith("cli:") and reason == "operator says stop"
        finished_ts = con.execute(
            "SELECT epoch(ts) FROM events WHERE run_id = ? AND kind = 'run.finished'", [run_id]).fetchone()[0]  # type: ignore[index]
        # The run stopped, and the server saw its connection close, within a second of the kill.
        assert finished_ts - killed_ts < 1.0, f"run finished {finished_ts - killed_ts:.3f}s after the kill"
        assert server.closed_at is not None, "the server never saw the connection close"
        assert server.closed_at - killed_ts < 1.0, f"connection closed {server.closed_at - killed_ts:.3f}s after the kill"

        # The tokens streamed before the kill are counted and priced.
        call = con.execute("SELECT status, input_tokens, output_tokens, cost_usd, token_count FROM llm_calls WHERE run_id = ?", [run_id]).fetchall()
        assert len(call) == 1
        st, inp, out, cost, count = call[0]
        streamed = len("".join(WORDS).split())
        assert st == "killed" and out >= streamed - 1 and count in ("counted", "estimated")
        assert cost == pytest.approx((inp * 150 + out * 600) / 1e6) and cost > 0

        # The budget record: spend at the moment of the kill, then the partial settlement.
        kill_event = con.execute(
            "SELECT scope, reason, actor FROM budget_events WHERE run_id = ? AND action = 'kill'", [run_id]).fetchone()
        assert kill_event == ("slow", "operator says stop", kill_event[2]) and kill_event[2].startswith("cli:")  # type: ignore[index]
        settled = con.execute(
            "SELECT amount FROM budget_events WHERE run_id = ? AND action = 'settle' AND scope = 'slow' AND reason LIKE 'partial usage after kill%'",
            [run_id]).fetchall()
        assert settled and settled[0][0] == pytest.approx(cost)
    finally:
        con.close()

    cost_out = subprocess.run([*GOGRID, "cost", run_id, "--db", str(db)], capture_output=True, text=True, env=_env(), timeout=60)
    assert cost_out.returncode == 0, cost_out.stderr
    assert f"${cost:.6f}" in cost_out.stdout and "killed slow by cli:" in cost_out.stdout


def test_kill_with_no_owner_says_nothing_is_live(tmp_path: Path) -> None:
    out = subprocess.run([*GOGRID, "kill", "r123", "--db", str(tmp_path / "none.duckdb")], capture_output=True, text=True, env=_env(), timeout=60)
    assert out.returncode == 1
    assert "no process owns" in out.stderr and "Traceback" not in out.stderr


def test_budget_set_from_another_process_stops_a_live_run(tmp_path: Path) -> None:
    stages = [{"name": f"s{i}", "agent": "w"} for i in range(40)]
    doc = {"version": 1, "name": "long", "plugins": [],
           "models": {"m": {"model": "sim/m", "settings": {"latency_ms": 700}}},
           "agents": {"w": {"model": "m", "max_tokens": 200}},
           "workflow": {"pipeline": {"stages": stages}}, "budgets": {"run": {"usd": 5}}}
    path = tmp_path / "long.yaml"
    path.write_text(json.dumps(doc))
    db = tmp_path / "long.duckdb"
    run = subprocess.Popen([*GOGRID, "run", str(path), "-q", "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        run_id = _live_run_id(db, run)
        show = subprocess.run([*GOGRID, "budget", "show", "--db", str(db)], capture_output=True, text=True, env=_env(), timeout=60)
        assert show.returncode == 0, show.stderr
        assert "long" in show.stdout and "usd" in show.stdout
        cut = subprocess.run([*GOGRID, "budget", "set", run_id, "1", "--metric", "requests", "--db", str(db)],
                             capture_output=True, text=True, env=_env(), timeout=60)
        assert cut.returncode == 0, cut.stderr
        assert cut.stdout.startswith("run long: limit 1 requests")
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 1, err.decode()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone() == ("budget_exceeded",)
        calls = con.execute("SELECT count(*) FROM llm_calls WHERE run_id = ?", [run_id]).fetchone()[0]  # type: ignore[index]
        assert 1 <= calls < 40
        set_event = con.execute(
            "SELECT scope, metric, \"limit\", actor FROM budget_events WHERE run_id = ? AND action = 'set'", [run_id]).fetchone()
        assert set_event is not None and set_event[:3] == ("long", "requests", 1.0) and set_event[3].startswith("cli:")
        exceeded = con.execute("SELECT count(*) FROM budget_events WHERE run_id = ? AND action = 'exceeded' AND metric = 'requests'", [run_id]).fetchone()
        assert exceeded == (1,)
    finally:
        con.close()
