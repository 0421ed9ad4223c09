"""Store: one DuckDB file, its schema, and the queries everyone shares.

DuckDB lets one process hold a file for writing, and no other process can open it then, not even
to read. The process that opens a Store read-write owns the database: it migrates the schema,
marks runs that a dead process left `running` as `interrupted`, writes events (StoreWriter) and
answers other processes over the local channel (see channel.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from gogrid.events import RunFinished, RunStatus
from gogrid.store.schema import LATEST, MIGRATIONS


class StoreError(Exception):
    """A database problem worth a one-line message (never a traceback)."""


class DatabaseLocked(StoreError):
    """Another process holds the file and does not answer on the local channel."""


class QueryError(StoreError):
    """DuckDB rejected a query; the message is DuckDB's own."""


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


def socket_path(db: str | Path) -> Path:
    """The local channel sits beside the database: `<db>.sock`. Unix socket paths are limited
    to about 100 bytes, so a deeper database gets a socket in the temp folder named after it."""
    beside = Path(f"{db}.sock")
    if len(os.fsencode(beside.absolute())) <= 100:
        return beside
    digest = hashlib.sha1(os.fsencode(Path(db).absolute())).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"gogrid-{os.geteuid()}-{digest}.sock"


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    has = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not has or not has[0]:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection, target: int = LATEST) -> list[int]:
    """Apply the missing migration steps up to `target`, each in its own transaction."""
    applied = []
    current = schema_version(con)
    for version in range(current + 1, target + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[version - 1]:
                con.execute(statement)
            con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


WAL_CHECKPOINT = "256MB"

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the file, turning DuckDB's lock and I/O errors into StoreErrors."""
    target = str(path)
    if target != ":memory:":
        p = Path(target)
        if read_only and not p.exists():
            raise StoreError(f"no database at {p} (run something first, or pass --db / set GOGRID_DB)")
        if not read_only:
            p.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(target, read_only=read_only)
    except duckdb.IOException as e:
        m = _LOCK_HOLDER.search(str(e))
        if m or "lock" in str(e).lower():
            holder = f"{m.group(1)} (PID {m.group(2)})" if m else "another process"
            if _answers(socket_path(target)):
                raise DatabaseLocked(
                    f"{target} is owned by another GoGrid process, {holder}; it answers queries "
                    "(gogrid sql, runs, show) but only it can record runs there: pass another --db, or --no-db"
                ) from None
            raise DatabaseLocked(
                f"{target} is held by {holder}, which does not answer on {socket_path(target)}; "
                "stop that process or use another --db"
            ) from None
        raise StoreError(f"cannot open {target}: {e}") from None
    except duckdb.Error as e:
        raise StoreError(f"cannot open {target}: {e}") from None


def _answers(path: Path) -> bool:
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class Store:
    """An open database. Read-write opens migrate and recover; read-only opens only read."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False, recover: bool = True) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self.read_only = read_only
        self.con = connect(path, read_only=read_only)
        self.lock = threading.Lock()  # the main connection is used by one thread at a time
        self.interrupted: list[str] = []
        if not read_only:
            # DuckDB checkpoints the write-ahead log into the file when it passes 16 MB, inside
            # a commit; under a heavy event stream that stalls every few flushes. A larger log
            # checkpoints in bulk (the writer also checkpoints whenever it goes idle).
            self.con.execute(f"SET checkpoint_threshold = '{WAL_CHECKPOINT}'")
            migrate(self.con)
            if recover:
                self.interrupted = self.mark_interrupted()

    @property
    def version(self) -> int:
        with self.lock:
            return schema_version(self.con)

    # --- recovery ------------------------------------------------------------------------------

    def mark_interrupted(self) -> list[str]:
        """Runs still `running` belong to a process that died: holding the file read-write means
        no other process can be writing them. They become `interrupted`, with what they had
        open, and the event log gets a closing run.finished so a replay ends."""
        with self.lock:
            rows = self.con.execute(
                """SELECT r.run_id, r.span_id, epoch(coalesce(max(e.ts), r.started_at)), r.owner_pid
                   FROM runs r LEFT JOIN events e USING (run_id)
                   WHERE r.status IN ('running', 'pending') GROUP BY r.run_id, r.span_id, r.started_at, r.owner_pid"""
            ).fetchall()
            if not rows:
                return []
            ids = [r[0] for r in rows]
            self.con.execute("BEGIN TRANSACTION")
            try:
                seq = self._next_seq_locked()
                for i, (run_id, span_id, last_ts, pid) in enumerate(rows):
                    why = f"the process{f' (PID {pid})' if pid else ''} ended before the run finished"
                    at = "make_timestamp(CAST(? * 1000000 AS BIGINT))"
                    self.con.execute(
                        f"UPDATE runs SET status = 'interrupted', finished_at = {at}, error = ? WHERE run_id = ?",
                        [last_ts, why, run_id],
                    )
                    for table, end in (("spans", "end_ts"), ("agents", "finished_at"), ("nodes", "finished_at"), ("tool_calls", "finished_at")):
                        self.con.execute(
                            f"UPDATE {table} SET status = 'interrupted', {end} = {at} WHERE run_id = ? AND status = 'running'",
                            [last_ts, run_id],
                        )
                    ev = RunFinished(run_id=run_id, span_id=span_id, status=RunStatus.INTERRUPTED, error=why, reason=why, ts=last_ts)
                    self.con.execute(
                        f"INSERT INTO events VALUES (?, ?, {at}, ?, ?, NULL, 'run.finished', ?)",
                        [seq + i, ev.event_id, last_ts, run_id, span_id, ev.model_dump_json()],
                    )
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise
            return ids

    def _next_seq_locked(self) -> int:
        row = self.con.execute("SELECT coalesce(max(seq), 0) + 1 FROM events").fetchone()
        return int(row[0]) if row else 1

    def next_seq(self) -> int:
        with self.lock:
            return self._next_seq_locked()

    # --- queries -------------------------------------------------------------------------------

    def _reader(self) -> duckdb.DuckDBPyConnection:
        # A cursor is its own connection to the same database: readers in other threads never
        # wait on the writer's transaction (MVCC) and never share its statement state.
        with self.lock:
            return self.con.cursor()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        cur = self._reader()
        try:
            rel = cur.execute(sql, params or [])
            if rel.description is None:
                return QueryResult([], [], [])
            columns = [d[0] for d in rel.description]
            types = [str(d[1]) for d in rel.description]
            return QueryResult(columns, types, rel.fetchall())
        except duckdb.Error as e:
            raise QueryError(str(e)) from None
        finally:
            cur.close()

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        cur = self._reader()
        try:
            rel = cur.sql(sql, params=list(params) if params else None)
            if rel is None:  # a statement, not a query
                return pa.table({})
            return rel.to_arrow_table()
        except duckdb.Error as e:
            raise QueryError(str(e)) from None
        finally:
            cur.close()

    def close(self) -> None:
        # Drop the connection object too: idle worker threads may still hold a reference to
        # this Store at exit, and DuckDB's bindings report live connections as leaks then.
        with self.lock:
            con = self.__dict__.pop("con", None)
            if con is not None:
                con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def owner_identity() -> tuple[int, str]:
    import socket

    return os.getpid(), socket.gethostname()
