"""StoreWriter: the bus subscriber that persists every event in batches.

`put` only appends to a bounded buffer (never blocks the engine). Every `interval` seconds the
buffer is drained and written in one transaction: the events' JSON goes to DuckDB as one Arrow
table, and SQL (ingest.py) fills the event log and every typed table from it with
`INSERT ... SELECT` and `UPDATE ... FROM`. Both halves run in worker threads, and the next batch
is serialised while DuckDB (which releases the GIL) commits the previous one. An event is durable
once its flush commits: about one interval (plus the flush) after it was published.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import anyio
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from gogrid.engine.bus import BufferedSubscriber
from gogrid.events import Event, new_id
from gogrid.store import ingest
from gogrid.store.store import Store, owner_identity

MAX_INTERVAL = 0.25
IDLE_CHECKPOINT_S = 1.0  # quiet this long after a write: fold the write-ahead log into the file


@dataclass(eq=False)
class _Staged:
    """A batch ready for DuckDB (or a request to checkpoint)."""

    count: int = 0
    batch: pa.Table | None = None
    present: set[str] = field(default_factory=set)
    earlier: set[str] = field(default_factory=set)
    started: float = 0.0
    checkpoint: bool = False
    barrier: bool = False  # nothing to write: set `done` once everything before it is committed
    done: anyio.Event | None = None  # set once committed (made on the event loop, not in a thread)


class StoreWriter(BufferedSubscriber):
    """Subscribe it to the bus and run it as a service (`run()` loop, `close()` final flush)."""

    def __init__(self, store: Store, *, interval: float = 0.1, capacity: int = 2_000_000, max_batch: int = 50_000) -> None:
        super().__init__(capacity)
        if not 0 < interval <= MAX_INTERVAL:
            raise ValueError(f"interval must be in (0, {MAX_INTERVAL}] seconds, got {interval}")
        self.store = store
        self.interval = interval
        self.max_batch = max_batch
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
        self.latency_ms: list[float] = []  # from the start of staging to the commit, per flush
        self.flushes_staged = 0
        self._flush_lock = anyio.Lock()
        self._send: Any = None  # to the committer, while run() is running
        self._closed = False
        self._dirty = False  # written since the last checkpoint
        self._last_write = time.monotonic()

    async def run(self) -> None:
        """Every interval, stage what is buffered and hand it to the committer. Staging (Python:
        serialising events) of one batch overlaps the commit (DuckDB, GIL released) of the
        previous one; at most one staged batch waits, so commits stay in order."""
        send, receive = anyio.create_memory_object_stream[_Staged](0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._committer, receive)
            self._send = send
            try:
                while True:
                    if len(self) < self.max_batch:  # a backlog goes on at once, batch after batch
                        await anyio.sleep(self.interval)
                    async with self._flush_lock:
                        if self._closed:
                            return
                        staged = await self._stage_buffered()
                        if staged is not None:
                            await send.send(staged)
            finally:
                self._send = None
                send.close()

    async def _committer(self, receive: Any) -> None:
        async with receive:
            async for staged in receive:
                try:
                    await anyio.to_thread.run_sync(self.commit, staged)
                finally:
                    assert staged.done is not None
                    staged.done.set()

    async def _stage_buffered(self) -> _Staged | None:
        events = self.drain(self.max_batch)
        if events or not self.flushes_staged:
            staged = await anyio.to_thread.run_sync(self.stage, events)
        elif self._dirty and time.monotonic() - self._last_write > IDLE_CHECKPOINT_S:
            self._dirty = False  # asked once; set again if it cannot run
            staged = _Staged(checkpoint=True)
        else:
            return None
        staged.done = anyio.Event()
        return staged

    async def flush(self) -> int:
        """Write what is buffered now and wait until it is committed; returns the events written."""
        written = 0
        async with self._flush_lock:
            while not self._closed:  # once closed the store may be too; late events are counted only
                staged = await self._stage_buffered()
                if staged is None:
                    break
                if self._send is not None:
                    await self._send.send(staged)
                    assert staged.done is not None
                    await staged.done.wait()
                else:  # no run() loop: commit here
                    await anyio.to_thread.run_sync(self.commit, staged)
                written += staged.count
                if not len(self):
                    break
        return written

    async def close(self) -> None:
        if self._closed:
            return
        await self.flush()
        async with self._flush_lock:
            self._closed = True
            # run() may have handed the committer a batch or a checkpoint just before; wait for
            # it, so that whoever closes the store next never pulls the connection from under it.
            if self._send is not None:
                barrier = _Staged(barrier=True, done=anyio.Event())
                await self._send.send(barrier)
                await barrier.done.wait()  # type: ignore[union-attr]

    # --- the worker-thread side -------------------------------------------------------------

    def write(self, events: list[Event]) -> int:
        """Stage and commit one batch at once (tests, tools)."""
        return self.commit(self.stage(events))

    def stage(self, events: list[Event]) -> _Staged:
        """The Python half of a flush: each event's JSON (pydantic's serialiser, in Rust) and the
        Arrow batch. Assigns the batch's place in the log."""
        started = time.perf_counter()
        payloads = [type(e).__pydantic_serializer__.to_json(e) for e in events]
        kinds = [e.kind for e in events]
        present, earlier = ingest.seen(events, kinds)
        staged = _Staged(len(events), _batch(events, kinds, payloads, self._seq), present, earlier, started)
        self._seq += len(events)
        self.flushes_staged += 1
        return staged

    def commit(self, staged: _Staged) -> int:
        """The DuckDB half: one transaction fills the log and the typed tables."""
        if staged.barrier:
            return 0
        if staged.checkpoint:
            self.checkpoint()
            return 0
        started = time.perf_counter()
        store = self.store
        with store.lock:
            con = store.con
            con.execute("BEGIN TRANSACTION")
            try:
                if staged.count:
                    con.register("_ev", staged.batch)
                    try:
                        for step in self._statements:
                            if step.needed(staged.present, staged.earlier):
                                con.execute(step.sql)
                    finally:
                        con.unregister("_ev")
                elapsed_ms = (time.perf_counter() - started) * 1000
                self._record_stats(con, staged.count, elapsed_ms)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        if staged.count:
            self._dirty, self._last_write = True, time.monotonic()
        self.written += staged.count
        self.flushes += 1
        self.last_flush_ms = (time.perf_counter() - started) * 1000
        self.max_flush_ms = max(self.max_flush_ms, self.last_flush_ms)
        self.flush_ms.append(self.last_flush_ms)
        self.latency_ms.append((time.perf_counter() - staged.started) * 1000)
        return staged.count

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file while nothing is being written, so a
        restart after a crash replays little and commits under load rarely have to."""
        try:
            with self.store.lock:
                self.store.con.execute("CHECKPOINT")
        except duckdb.Error:  # busy (a long query holds it): try again later
            self._dirty, self._last_write = True, time.monotonic()
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


def _batch(events: list[Event], kinds: list[str], payloads: list[bytes], seq: int) -> pa.Table:
    """The staged batch DuckDB reads: the envelope as columns and each event's JSON. Reading the
    envelope here (Python's side of the pipeline) spares DuckDB's side a JSON parse per event."""
    seconds = pa.array([e.ts for e in events], pa.float64())
    return pa.table({
        "seq": pa.array(range(seq, seq + len(kinds)), pa.int64()),
        "event_id": pa.array([e.event_id for e in events], pa.string()),
        "ts": pc.cast(pc.multiply(seconds, 1_000_000), pa.int64(), safe=False).cast(pa.timestamp("us")),
        "run_id": pa.array([e.run_id for e in events], pa.string()),
        "span_id": pa.array([e.span_id for e in events], pa.string()),
        "parent_span_id": pa.array([e.parent_span_id for e in events], pa.string()),
        "kind": pa.array(kinds, pa.string()),
        "payload": _strings(payloads),
    })


def _strings(items: list[bytes]) -> pa.StringArray:
    """An Arrow string column straight from UTF-8 byte strings: one join and the offsets,
    instead of converting each item (pydantic's JSON is valid UTF-8)."""
    offsets = array("i", accumulate(map(len, items), initial=0))
    return pa.StringArray.from_buffers(len(items), pa.py_buffer(offsets), pa.py_buffer(b"".join(items)))
