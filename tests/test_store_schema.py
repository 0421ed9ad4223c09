"""Schema, migrations, the writer's table mapping and replay, against real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import anyio
import duckdb
import pytest

from gogrid.engine.bus import EventBus
from gogrid.events import (
    AgentFinished,
    AgentStarted,
    BudgetEvent,
    Consensus,
    Event,
    GuardEvent,
    Log,
    MemoryWrite,
    MessagePosted,
    ModelAttempt,
    ModelCallFinished,
    ModelCallStarted,
    ModelDelta,
    NodeFinished,
    NodeStarted,
    RunFinished,
    RunStarted,
    RunStatus,
    ScopeKilled,
    ToolCallFinished,
    ToolCallStarted,
    Vote,
)
from gogrid.store import Store, StoreWriter
from gogrid.store.replay import read_events
from gogrid.store.schema import LATEST, MIGRATIONS, TABLES, VIEWS
from gogrid.store.store import migrate


def one_run(run: str = "r1") -> list[Event]:
    """Every kind of event, as a small team run would publish them."""
    c = {"run_id": run}
    return [
        RunStarted(span_id="S", workflow="team", manifest="team.yaml", input="go", labels={"env": "test"}, **c),
        NodeStarted(span_id="N", parent_span_id="S", name="room", pattern="team", path="t/room", input="go", **c),
        AgentStarted(span_id="A", parent_span_id="N", name="alice", path="t/room/alice", model="sim/a", input="go", **c),
        MessagePosted(span_id="A", parent_span_id="N", message_id="m1", role="user", sender="user", content="go", room="room", round=1, **c),
        ModelCallStarted(span_id="M", parent_span_id="A", call_id="t/room/alice#1", agent="alice", provider="sim", model="a", turn=1, **c),
        ModelDelta(span_id="M", parent_span_id="A", call_id="t/room/alice#1", text="hel", **c),
        ModelAttempt(span_id="M", parent_span_id="A", call_id="t/room/alice#1", provider="sim", model="a", attempt=1, outcome="retry", http_status=429, wait_s=0.5, **c),
        ModelCallFinished(span_id="M", parent_span_id="A", call_id="t/room/alice#1", agent="alice", provider="sim", model="a", turn=1, status="ok",
                          input_tokens=10, output_tokens=5, cached_tokens=2, token_count="counted", cost_usd=None, cost_known=False, latency_s=0.2, attempts=2, **c),
        ToolCallStarted(span_id="T", parent_span_id="A", call_id="t/room/alice#c1", agent="alice", tool="calc", arguments={"x": 1}, **c),
        GuardEvent(span_id="T", parent_span_id="A", guard="policy", action="allow", tool="calc", **c),
        ToolCallFinished(span_id="T", parent_span_id="A", call_id="t/room/alice#c1", agent="alice", tool="calc", status="ok", result={"y": 2}, duration_s=0.01, **c),
        Vote(span_id="N", parent_span_id="S", room="room", round=1, voter="alice", choice="yes", reason="fine", **c),
        Consensus(span_id="N", parent_span_id="S", room="room", round=1, strategy="majority", reached=True, decision="yes", **c),
        MemoryWrite(span_id="A", parent_span_id="N", namespace="room", key="k", op="set", agent="alice", bytes=3, total_bytes=3, entries=1, **c),
        BudgetEvent(span_id="S", action="exceeded", scope="S", amount=1.0, spent=2.0, limit=1.5, reason="over", **c),
        ScopeKilled(span_id="A", parent_span_id="N", target="t/room/alice", reason="stop", actor="user", **c),
        Log(span_id="S", message="note", **c),
        AgentFinished(span_id="A", parent_span_id="N", name="alice", path="t/room/alice", status=RunStatus.KILLED, turns=1, error="stop", **c),
        NodeFinished(span_id="N", parent_span_id="S", name="room", pattern="team", path="t/room", status=RunStatus.SUCCEEDED, output={"d": "yes"}, **c),
        RunFinished(span_id="S", status=RunStatus.BUDGET_EXCEEDED, error="over", **c),
    ]


def write(store: Store, events: list[Event], *, batches: int = 1) -> StoreWriter:
    writer = StoreWriter(store)
    size = max(1, len(events) // batches + 1)
    for i in range(0, len(events), size):
        writer.write(events[i : i + size])
    return writer


def scalar(store: Store, sql: str) -> object:
    return store.query(sql).rows[0][0]


def test_new_database_has_every_table_and_view_at_the_latest_version(tmp_path: Path) -> None:
    with Store(tmp_path / "g.duckdb") as store:
        assert store.version == LATEST == len(MIGRATIONS)
        names = {r[0] for r in store.query("SELECT table_name FROM information_schema.tables").rows}
        assert set(TABLES) | set(VIEWS) <= names
        assert [r[0] for r in store.query("SELECT version FROM schema_version ORDER BY version").rows] == list(range(1, LATEST + 1))


def test_a_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    assert migrate(con, target=1) == [1]
    con.execute("INSERT INTO runs VALUES ('r-old', 's-old', 'wf', 'old.yaml', 'in', '{}', 'succeeded', TIMESTAMP '2025-01-01 10:00:00', TIMESTAMP '2025-01-01 10:00:05', '\"out\"', NULL)")
    con.execute("INSERT INTO llm_calls (span_id, parent_span_id, run_id, call_id, provider, model, status, input_tokens, output_tokens, cost_usd, cost_known, finished_at) "
                "VALUES ('m', 'a', 'r-old', 'c', 'sim', 'x', 'ok', 7, 3, 0.5, true, TIMESTAMP '2025-01-01 10:00:04')")
    con.execute("CHECKPOINT")
    con.close()
    inode = db.stat().st_ino

    with Store(db) as store:
        assert store.version == LATEST
        assert db.stat().st_ino == inode  # upgraded in place, not rebuilt elsewhere
        assert store.query("SELECT run_id, status, owner_pid FROM runs").rows == [("r-old", "succeeded", None)]
        summary = store.query("SELECT run_id, tokens, cost_usd, duration_s FROM run_summary").rows
        assert summary == [("r-old", 10, 0.5, 5.0)]
        assert scalar(store, "SELECT count(*) FROM nodes") == 0  # a table version 2 added
        # the upgraded database takes new events like a new one
        write(store, one_run("r-new"))
        assert scalar(store, "SELECT count(*) FROM runs") == 2


def test_migrations_run_once(tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    Store(db).close()
    with Store(db) as store:
        assert scalar(store, "SELECT count(*) FROM schema_version") == LATEST


@pytest.mark.parametrize("batches", [1, 3, 20])
def test_each_event_fills_its_typed_table(tmp_path: Path, batches: int) -> None:
    """Same result whether a started/finished pair lands in one flush or in two."""
    events = one_run()
    with Store(tmp_path / "g.duckdb") as store:
        write(store, events, batches=batches)
        q = store.query
        assert q("SELECT run_id, status, error, labels->>'env', owner_pid IS NOT NULL FROM runs").rows == [("r1", "budget_exceeded", "over", "test", True)]
        assert q("SELECT span_id, status, output->>'d' FROM nodes").rows == [("N", "succeeded", "yes")]
        assert q("SELECT span_id, parent_span_id, status, turns, error FROM agents").rows == [("A", "N", "killed", 1, "stop")]
        assert q("SELECT input_tokens, output_tokens, cached_tokens, token_count, cost_usd, cost_known, attempts FROM llm_calls").rows == [(10, 5, 2, "counted", None, False, 2)]
        assert q("SELECT outcome, http_status, wait_s FROM model_attempts").rows == [("retry", 429, 0.5)]
        assert q("SELECT tool, arguments->>'x', status, result->>'y', duration_s IS NOT NULL, finished_at IS NOT NULL FROM tool_calls").rows == [("calc", "1", "ok", "2", True, True)]
        assert q("SELECT role, content, room, round FROM messages").rows == [("user", "go", "room", 1)]
        assert q("SELECT kind, voter, choice, reached FROM votes ORDER BY kind DESC").rows == [("vote", "alice", "yes", None), ("consensus", None, "yes", True)]
        assert q("SELECT action, spent, \"limit\" FROM budget_events").rows == [("exceeded", 2.0, 1.5)]
        assert q("SELECT guard, action, tool FROM guard_events").rows == [("policy", "allow", "calc")]
        assert q("SELECT namespace, key, op, total_bytes FROM memory_writes").rows == [("room", "k", "set", 3)]
        assert q("SELECT target, actor FROM kills").rows == [("t/room/alice", "user")]
        spans = q("SELECT span_id, parent_span_id, kind, status, end_ts IS NOT NULL FROM spans ORDER BY start_ts").rows
        assert spans == [("S", None, "run", "budget_exceeded", True), ("N", "S", "node", "succeeded", True), ("A", "N", "agent", "killed", True),
                         ("M", "A", "model", "ok", True), ("T", "A", "tool", "ok", True)]
        assert q("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM events").rows == [(len(events), len(events), 1, len(events))]
        # views
        assert q("SELECT calls, input_tokens, cost_usd, cost_complete FROM cost_by_agent").rows == [(1, 10, None, False)]
        assert q("SELECT provider, model, calls FROM cost_by_model").rows == [("sim", "a", 1)]


def test_replay_returns_the_same_typed_events_in_order(tmp_path: Path) -> None:
    events = one_run() + one_run("r2")
    db = tmp_path / "g.duckdb"
    with Store(db) as store:
        write(store, events, batches=4)
        assert read_events(store, "r1") == events[: len(events) // 2]
    assert read_events(db, "r2") == events[len(events) // 2 :]  # from the file, no owner
    assert read_events(db, "nope") == []


def test_unknown_event_kinds_still_land_in_the_event_log(tmp_path: Path) -> None:
    class Custom(Event):
        kind: str = "plugin.custom"
        detail: str

    with Store(tmp_path / "g.duckdb") as store:
        write(store, [Custom(run_id="r", span_id="s", detail="kept")])
        assert store.query("SELECT kind, payload->>'detail' FROM events").rows == [("plugin.custom", "kept")]
        assert read_events(store, "r") == []  # not a known typed event: queryable, not replayed


def test_writer_service_flushes_within_its_interval_and_records_its_counters(tmp_path: Path) -> None:
    async def go() -> None:
        with Store(tmp_path / "g.duckdb") as store:
            bus = EventBus()
            writer = bus.subscribe(StoreWriter(store, interval=0.05, capacity=5))
            assert isinstance(writer, StoreWriter)
            async with anyio.create_task_group() as tg:
                tg.start_soon(writer.run)
                for e in one_run()[:3]:
                    bus.publish(e)
                with anyio.fail_after(10):  # generous: durable after one flush
                    while scalar(store, "SELECT count(*) FROM events") != 3:
                        await anyio.sleep(0.01)
                for e in one_run("r2"):  # more than the buffer holds before the next flush
                    bus.publish(e)
                await writer.close()
                tg.cancel_scope.cancel()
            stats = store.query("SELECT received, written, dropped FROM writer_stats").rows
            assert stats == [(3 + 20, 3 + 5, 15)]
            assert writer.dropped == 15

    anyio.run(go)


def test_writer_rejects_an_interval_longer_than_the_durability_promise() -> None:
    with Store() as store, pytest.raises(ValueError, match="interval"):
        StoreWriter(store, interval=1.0)


def test_the_store_benchmark_runs_and_drops_nothing() -> None:
    """A tiny run of bench/bench_store.py, so the script keeps working (figures come from full runs)."""
    import subprocess
    import sys

    from conftest import ROOT

    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_store.py"), "--rates", "2000", "--seconds", "0.3", "--burst", "3000", "--repeat", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "sustained ingest:" in result.stdout and "drain throughput:" in result.stdout
    assert "dropped: 0 " in result.stdout


def test_an_idle_writer_folds_the_write_ahead_log_into_the_file(tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    wal = Path(f"{db}.wal")

    async def go() -> None:
        with Store(db) as store:
            writer = StoreWriter(store, interval=0.05)
            async with anyio.create_task_group() as tg:
                tg.start_soon(writer.run)
                for e in one_run():
                    writer.put(e)
                with anyio.fail_after(20):
                    while writer.written < 20:
                        await anyio.sleep(0.02)
                assert wal.exists() and wal.stat().st_size > 0  # committed, in the log so far
                with anyio.fail_after(20):  # about a second of quiet, then a checkpoint
                    while wal.exists() and wal.stat().st_size > 0:
                        await anyio.sleep(0.05)
                await writer.close()
                tg.cancel_scope.cancel()

    anyio.run(go)
    with Store(db, read_only=True) as store:
        assert scalar(store, "SELECT count(*) FROM events") == 20
