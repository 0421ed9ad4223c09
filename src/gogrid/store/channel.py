"""The local channel: how other processes reach the process that owns the database.

A Unix socket beside the database (`<db>.sock`, mode 0600), newline-delimited JSON: one request
`{"op": ..., ...params}` per line, one response per line, `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`. Besides mode 0600, every connection's peer uid is checked
(SO_PEERCRED) so that not even root can talk to another user's owner process.

Ops: `ping`, `sql` (built in), and whatever is registered with `register_command(op, handler)`,
where `handler` is `async (params: dict, host) -> dict` (kill, budget changes, console actions).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pyarrow as pa
from anyio.abc import SocketAttribute, SocketListener, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from gogrid.store.store import QueryError, Store, StoreError, socket_path

Handler = Callable[[dict[str, Any], Any], Awaitable[dict[str, Any]]]

MAX_LINE = 64 * 1024 * 1024
_COMMANDS: dict[str, Handler] = {}


def register_command(op: str, handler: Handler) -> None:
    """Make `op` available on every channel in this process (a Host can add its own too)."""
    _COMMANDS[op] = handler


def commands() -> dict[str, Handler]:
    return dict(_COMMANDS)


# --- peer credentials ----------------------------------------------------------------------------


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket, where the OS tells us."""
    if sys.platform.startswith("linux"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    return None  # elsewhere the socket's mode (0600) is the guard


def peer_allowed(uid: int | None, owner_uid: int | None = None) -> bool:
    """Only the owner's own user may talk to it; root is not an exception."""
    if uid is None:
        return True
    return uid == (os.geteuid() if owner_uid is None else owner_uid)


# --- encoding --------------------------------------------------------------------------------------


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, default=str, separators=(",", ":")).encode() + b"\n"


def arrow_to_b64(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return base64.b64encode(sink.getvalue().to_pybytes()).decode()


def arrow_from_b64(data: str) -> pa.Table:
    return pa.ipc.open_stream(base64.b64decode(data)).read_all()


def table_rows(table: pa.Table) -> list[list[Any]]:
    cols = [c.to_pylist() for c in table.columns]
    return [list(r) for r in zip(*cols, strict=True)] if cols else []


# --- server ----------------------------------------------------------------------------------------


class ChannelServer:
    """A Service: `open()` binds the socket, `run()` serves, `close()` removes the socket."""

    def __init__(self, store: Store, *, host: Any = None, path: str | Path | None = None) -> None:
        if store.path is None and path is None:
            raise StoreError("an in-memory store needs an explicit socket path")
        self.store = store
        self.host = host
        self.path = Path(path) if path is not None else socket_path(store.path)  # type: ignore[arg-type]
        self.commands: dict[str, Handler] = {}
        self._listener: SocketListener | None = None
        self._owner_uid = os.geteuid()

    def register_command(self, op: str, handler: Handler) -> None:
        self.commands[op] = handler

    async def open(self) -> None:
        if self._listener is not None:
            return
        clear_stale_socket(self.path)
        self._listener = await anyio.create_unix_listener(self.path, mode=0o600)

    async def run(self) -> None:
        await self.open()
        assert self._listener is not None
        async with anyio.create_task_group() as tg:
            while True:
                try:
                    stream = await self._listener.accept()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return
                tg.start_soon(self._serve, stream)

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.aclose()
        self.path.unlink(missing_ok=True)

    async def _serve(self, stream: SocketStream) -> None:
        async with stream:
            raw = stream.extra(SocketAttribute.raw_socket)
            if not peer_allowed(peer_uid(raw), self._owner_uid):
                await stream.send(encode({"ok": False, "error": "refused: the database belongs to another user"}))
                return
            reader = BufferedByteReceiveStream(stream)
            while True:
                try:
                    line = await reader.receive_until(b"\n", MAX_LINE)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
                except anyio.DelimiterNotFound:
                    await stream.send(encode({"ok": False, "error": f"request longer than {MAX_LINE} bytes"}))
                    return
                reply = await self.handle(line)
                try:
                    await stream.send(encode(reply))
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return

    async def handle(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                raise ValueError("expected a JSON object with an 'op'")
        except ValueError as e:
            return {"ok": False, "error": f"bad request: {e}"}
        op = request.pop("op")
        try:
            if op == "ping":
                return {"ok": True, "pid": os.getpid(), "db": str(self.store.path)}
            if op == "sql":
                return await self._sql(request)
            handler = self.commands.get(op) or _host_commands(self.host).get(op) or _COMMANDS.get(op)
            if handler is None:
                known = ", ".join(sorted({"ping", "sql", *self.commands, *_host_commands(self.host), *_COMMANDS}))
                return {"ok": False, "error": f"unknown op {op!r} (known: {known})"}
            reply = await handler(request, self.host)
            return {"ok": True, **reply}
        except QueryError as e:
            return {"ok": False, "error": str(e)}
        except Exception as e:  # a failing command must not take the owner down
            return {"ok": False, "error": f"{op}: {type(e).__name__}: {e}"}

    async def _sql(self, params: dict[str, Any]) -> dict[str, Any]:
        sql = params.get("sql")
        if not isinstance(sql, str):
            return {"ok": False, "error": "sql: expected 'sql' as a string"}
        table = await anyio.to_thread.run_sync(self.store.query_arrow, sql, params.get("params"))
        if params.get("arrow"):
            return {"ok": True, "arrow": arrow_to_b64(table)}
        return {"ok": True, "columns": table.column_names, "types": [str(t) for t in table.schema.types], "rows": table_rows(table)}


def _host_commands(host: Any) -> dict[str, Handler]:
    return getattr(host, "commands", None) or {}


def clear_stale_socket(path: Path) -> None:
    """A socket file left by a dead owner is removed; a live one means someone else owns it."""
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise StoreError(f"another process already answers on {path}")
