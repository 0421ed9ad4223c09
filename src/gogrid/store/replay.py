"""Replay: a past run's events, read back in order as the same typed events."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from pydantic import ValidationError

from gogrid.events import Event, event_from_json
from gogrid.store.store import Store

_SQL = "SELECT payload FROM events WHERE run_id = ? ORDER BY seq"


def read_events(source: str | Path | Store, run_id: str) -> list[Event]:
    """Every event of `run_id` in the order it was published. `source` is an open Store (the
    owning process) or a database path (asks the owner, else reads the file).

    Events of a kind this version does not know (written by a newer GoGrid or a plugin) are
    skipped: they stay queryable in `events`."""
    if isinstance(source, Store):
        table = source.query_arrow(_SQL, [run_id])
    else:
        from gogrid.store.client import query_arrow

        table = query_arrow(source, _SQL, [run_id])
    return _parse(table)


def _parse(table: pa.Table) -> list[Event]:
    out: list[Event] = []
    for payload in table.column("payload").to_pylist() if table.num_rows else []:
        try:
            out.append(event_from_json(payload))
        except ValidationError:
            continue
    return out
