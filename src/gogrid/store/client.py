"""Reaching the database from any process.

`query` asks the owning process over the local channel when one answers; otherwise it opens the
file itself. Opening it, GoGrid first takes it read-write for a moment (which migrates an older
schema and marks runs of dead processes `interrupted`), then reads it read-only, so a query can
never change the database by accident.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from gogrid.store.channel import arrow_from_b64, clear_stale_socket, encode, table_rows
from gogrid.store.schema import LATEST
from gogrid.store.store import DatabaseLocked, QueryError, QueryResult, Store, StoreError, socket_path


class NoOwner(StoreError):
    """No process answers on the database's socket."""


class RemoteError(StoreError):
    """The owner answered with an error (its message is DuckDB's or the command's)."""


def request(db_path: str | Path, op: str, *, timeout: float = 60.0, **params: Any) -> dict[str, Any]:
    """Send one request to the owner and return its reply; raises NoOwner or RemoteError."""
    path = socket_path(db_path)
    if not path.exists():
        raise NoOwner(f"no process answers for {db_path}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2.0)
    try:
        try:
            sock.connect(str(path))
        except OSError as e:  # refused: the owner died and left its socket behind
            raise NoOwner(f"no process answers on {path} ({e.strerror or e})") from None
        sock.settimeout(timeout)
        sock.sendall(encode({"op": op, **params}))
        reply = _read_line(sock)
    finally:
        sock.close()
    if not reply:
        raise NoOwner(f"the process on {path} closed the connection")
    data = json.loads(reply)
    if not data.get("ok"):
        raise RemoteError(str(data.get("error", "unknown error")))
    return dict(data)


def _read_line(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)


def owner_pid(db_path: str | Path) -> int | None:
    try:
        return int(request(db_path, "ping", timeout=5.0)["pid"])
    except NoOwner:
        return None


class Reader:
    """Several queries against one database: decides once whether to ask the owner or open the
    file, and keeps the file open between queries."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self._store: Store | None = None
        self.via_owner: bool | None = None

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run `sql`; raises QueryError with DuckDB's message, StoreError if unreachable."""
        if self._store is None and self.via_owner is not False:
            try:
                reply = request(self.db_path, "sql", sql=sql, params=list(params or []), arrow=True)
                self.via_owner = True
                return arrow_from_b64(reply["arrow"])
            except RemoteError as e:
                raise QueryError(str(e)) from None
            except NoOwner:
                self.via_owner = False
        if self._store is None:
            self._store = open_for_reading(self.db_path)
        return self._store.query_arrow(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return list(self.arrow(sql, params).to_pylist())

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def query_arrow(db_path: str | Path, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """Run `sql` wherever the database lives now. Raises QueryError with DuckDB's message."""
    with Reader(db_path) as reader:
        return reader.arrow(sql, params)


def query(db_path: str | Path, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
    table = query_arrow(db_path, sql, params)
    return QueryResult(table.column_names, [str(t) for t in table.schema.types], [tuple(r) for r in table_rows(table)])


def open_for_reading(db_path: str | Path) -> Store:
    """Open the file when no owner answers. If it needs recovering (an older schema, runs left
    `running` by a dead process), take it read-write for a moment first; then read-only."""
    path = Path(db_path)
    if not path.exists():
        raise StoreError(f"no database at {path} (run something first, or pass --db / set GOGRID_DB)")
    store = Store(path, read_only=True)
    clear_stale_socket(socket_path(path))  # we could open the file: no owner holds it
    if not _needs_recovery(store):
        return store
    store.close()
    try:
        Store(path).close()  # migrations and interrupted runs, then let go at once
    except DatabaseLocked:
        raise
    except StoreError:
        pass  # e.g. a read-only file: reading may still work
    return Store(path, read_only=True)


def _needs_recovery(store: Store) -> bool:
    version = store.version
    if version == 0:  # not a GoGrid database (or an empty file): read it as it is, never add tables
        return False
    if version < LATEST:
        return True
    return bool(store.query("SELECT count(*) FROM runs WHERE status IN ('running', 'pending')").rows[0][0])
