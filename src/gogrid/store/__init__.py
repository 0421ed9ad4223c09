"""The system of record: every event in a DuckDB file, typed tables and views over them, a
batched writer, the local channel other processes query through, and replay."""

from gogrid.store.channel import ChannelServer, register_command
from gogrid.store.store import DatabaseLocked, QueryError, QueryResult, Store, StoreError, socket_path
from gogrid.store.writer import StoreWriter

__all__ = [
    "ChannelServer", "DatabaseLocked", "QueryError", "QueryResult", "Store", "StoreError",
    "StoreWriter", "register_command", "socket_path",
]
