"""StoreWriter: the bus subscriber that persists every event in batches.

`put` only appends to a bounded buffer (never blocks the engine). Every `interval` seconds the
buffer is drained and written in one transaction: the events' JSON goes to DuckDB as one Arrow
table, and SQL (ingest.py) fills the event log and every typed table from it with
`INSERT ... SELECT` and `UPDATE ... FROM`. That runs in a worker thread, and DuckDB releases the
GIL while it works. An event is durable once its flush commits: at most one interval (plus the
flush) after it was published.
"""

from __future__ import annotations

import time
from array import array
from itertools import accumulate
from typing import Any

import anyio
import duckdb
import pyarrow as pa

from gogrid.engine.bus import BufferedSubscriber
from gogrid.events import Event, new_id
from gogrid.store import ingest
from gogrid.store.store import Store, owner_identity

MAX_INTERVAL = 0.25
IDLE_CHECKPOINT_S = 1.0  # quiet this long after a write: fold the write-ahead log into the file


class StoreWriter(BufferedSubscriber):
    """Subscribe it to the bus and run it as a service (`run()` loop, `close()` final flush)."""

    def __init__(self, store: Store, *, interval: float = 0.1, capacity: int = 2_000_000) -> None:
        super().__init__(capacity)
        if not 0 < interval <= MAX_INTERVAL:
            raise ValueError(f"interval must be in (0, {MAX_INTERVAL}] seconds, got {interval}")
        self.store = store
        self.interval = interval
        self.owner = owner_identity()
        self.writer_id = new_id("w")
        self.written = 0
        self.flushes = 0
        self.last_flush_ms = 0.0
        self.max_flush_ms = 0.0
        self.flush_ms: list[float] = []  # every flush's duration (the benchmark reads them)
        self._seq = store.next_seq()
        self._statements = ingest.statements(*self.owner)
        self._started = time.time()
        self._flush_lock = anyio.Lock()
        self._closed = False
        self._dirty = False  # written since the last checkpoint
        self._last_write = time.monotonic()

    async def run(self) -> None:
        while True:
            await anyio.sleep(self.interval)
            await self.flush()

    async def flush(self) -> int:
        """Write what is buffered now; returns the number of events written."""
        async with self._flush_lock:
            if self._closed:  # the store may be closed already; late events are counted only
                return 0
            batch = self.drain()
            if not batch and self._dirty and time.monotonic() - self._last_write > IDLE_CHECKPOINT_S:
                await anyio.to_thread.run_sync(self.checkpoint)
            return await anyio.to_thread.run_sync(self.write, batch)

    async def close(self) -> None:
        if self._closed:
            return
        await self.flush()
        self._closed = True

    # --- the worker-thread side -------------------------------------------------------------

    def write(self, events: list[Event]) -> int:
        """Serialise and commit one batch (called in a worker thread, or directly in tests)."""
        if not events and self.flushes:
            return 0
        started = time.perf_counter()
        # The only per-event Python work: each event's JSON (pydantic's serialiser, in Rust).
        payloads = [type(e).__pydantic_serializer__.to_json(e) for e in events]
        seq = self._seq
        kinds = [e.kind for e in events]
        batch = _batch(kinds, payloads, seq)
        present, earlier = ingest.seen(events, kinds)
        store = self.store
        with store.lock:
            con = store.con
            con.execute("BEGIN TRANSACTION")
            try:
                if events:
                    con.register("_ev", batch)
                    try:
                        for step in self._statements:
                            if step.needed(present, earlier):
                                con.execute(step.sql)
                    finally:
                        con.unregister("_ev")
                elapsed_ms = (time.perf_counter() - started) * 1000
                self._record_stats(con, len(events), elapsed_ms)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        self._seq = seq + len(events)
        if events:
            self._dirty, self._last_write = True, time.monotonic()
        self.written += len(events)
        self.flushes += 1
        self.last_flush_ms = (time.perf_counter() - started) * 1000
        self.max_flush_ms = max(self.max_flush_ms, self.last_flush_ms)
        self.flush_ms.append(self.last_flush_ms)
        return len(events)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file while nothing is being written, so a
        restart after a crash replays little and commits under load rarely have to."""
        try:
            with self.store.lock:
                self.store.con.execute("CHECKPOINT")
        except duckdb.Error:
            self._last_write = time.monotonic()  # busy (a long query holds it): try again later
            return
        self._dirty = False

    def _record_stats(self, con: Any, n: int, elapsed_ms: float) -> None:
        values = [self.received, self.written + n, self.dropped, self.flushes + 1, elapsed_ms, max(self.max_flush_ms, elapsed_ms)]
        if self.flushes == 0:
            con.execute(
                "INSERT INTO writer_stats VALUES (?, ?, ?, make_timestamp(?::BIGINT), make_timestamp(?::BIGINT), ?, ?, ?, ?, ?, ?)",
                [self.writer_id, self.owner[0], self.owner[1], _us(self._started), _us(time.time()), *values],
            )
        else:
            con.execute(
                "UPDATE writer_stats SET updated_at = make_timestamp(?::BIGINT), received = ?, written = ?, dropped = ?, "
                "flushes = ?, last_flush_ms = ?, max_flush_ms = ? WHERE writer_id = ?",
                [_us(time.time()), *values, self.writer_id],
            )


def _us(seconds: float) -> int:
    return int(seconds * 1_000_000)


def _batch(kinds: list[str], payloads: list[bytes], seq: int) -> pa.Table:
    """The staged batch DuckDB reads: order, kind, and each event's JSON (DuckDB parses the rest)."""
    return pa.table({
        "seq": pa.array(range(seq, seq + len(kinds)), pa.int64()),
        "kind": pa.array(kinds, pa.string()),
        "payload": _strings(payloads),
    })


def _strings(items: list[bytes]) -> pa.StringArray:
    """An Arrow string column straight from UTF-8 byte strings: one join and the offsets,
    instead of converting each item (pydantic's JSON is valid UTF-8)."""
    offsets = array("i", accumulate(map(len, items), initial=0))
    return pa.StringArray.from_buffers(len(items), pa.py_buffer(offsets), pa.py_buffer(b"".join(items)))
