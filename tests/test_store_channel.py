"""The local channel: the owner's Unix socket (mode 0600, peer uid checked), its ops and command
registry, stale sockets, and the Host that owns a database."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest

from conftest import ROOT
from gogrid.host import Host
from gogrid.store import StoreError, register_command
from gogrid.store.channel import ChannelServer, clear_stale_socket, peer_allowed, peer_uid
from gogrid.store.client import NoOwner, RemoteError, query, request
from gogrid.store.store import QueryError, Store, socket_path

NOBODY = 65534


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The client is synchronous; the owner's loop must keep running while it waits."""
    return anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def test_the_owner_answers_sql_and_commands_and_cleans_up(tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"

    async def echo(params: dict[str, Any], host: Any) -> dict[str, Any]:
        return {"echo": params, "runtimes": len(host.runtimes)}

    async def broken(params: dict[str, Any], host: Any) -> dict[str, Any]:
        raise RuntimeError("no such scope")

    register_command("test-global-echo", echo)

    async def go() -> None:
        async with Host(db=db) as host:
            host.register_command("test-broken", broken)
            sock = socket_path(db)
            assert stat.S_ISSOCK(sock.stat().st_mode)
            assert stat.S_IMODE(sock.stat().st_mode) == 0o600
            rt = host.load(ROOT / "sample_configs" / "demo.yaml")
            result = await rt.run("hello")
            await host.writer.flush()

            ping = await in_thread(request, db, "ping")
            assert ping["pid"] == os.getpid()
            got = await in_thread(query, db, "SELECT run_id, status FROM runs")
            assert got.rows == [(result.run_id, "succeeded")]
            reply = await in_thread(request, db, "test-global-echo", x=1)
            assert reply == {"ok": True, "echo": {"x": 1}, "runtimes": 1}
            with pytest.raises(RemoteError, match="no such scope"):
                await in_thread(request, db, "test-broken")
            with pytest.raises(RemoteError, match=r"unknown op 'nope' \(known: .*ping.*sql.*test-broken"):
                await in_thread(request, db, "nope")
            with pytest.raises(QueryError, match="Catalog Error"):
                await in_thread(query, db, "SELECT * FROM no_such_table")
            plain = await in_thread(request, db, "sql", sql="SELECT 1 AS one, 'x' AS s")
            assert plain["columns"] == ["one", "s"] and plain["rows"] == [[1, "x"]]
        assert not socket_path(db).exists()
        with pytest.raises(NoOwner):
            request(db, "ping")

    anyio.run(go)
    with Store(db, read_only=True) as store:
        assert store.query("SELECT received, written, dropped FROM writer_stats").rows[0][2] == 0


def test_requests_are_newline_delimited_json_on_one_connection(tmp_path: Path) -> None:
    async def go() -> None:
        async with Host(db=tmp_path / "g.duckdb"):
            def talk() -> list[dict[str, Any]]:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(socket_path(tmp_path / "g.duckdb")))
                    s.sendall(b'{"op": "ping"}\n{"op": "sql", "sql": "SELECT 41 + 1 AS n"}\nnot json\n')
                    buf = b""
                    while buf.count(b"\n") < 3:
                        buf += s.recv(65536)
                return [json.loads(line) for line in buf.splitlines()]

            ping, sql, bad = await in_thread(talk)
            assert ping["ok"] and sql["rows"] == [[42]]
            assert not bad["ok"] and bad["error"].startswith("bad request")

    anyio.run(go)


def test_peer_credentials() -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert peer_uid(a) == os.geteuid()
    assert peer_allowed(os.geteuid())
    assert not peer_allowed(os.geteuid() + 1)
    assert not peer_allowed(0, owner_uid=1000)  # root is refused by another user's owner too
    assert peer_allowed(None)  # platforms without SO_PEERCRED rely on the 0600 mode


def _connect_as(uid: int, path: Path) -> str:
    """Fork a child that drops to `uid` and tries the socket; returns what happened to it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: only plain syscalls here, then _exit
        outcome = "?"
        try:
            os.setgid(uid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(str(path))
                # a refused peer is hung up on at once; the refusal is still readable
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    s.sendall(b'{"op": "sql", "sql": "SELECT count(*) FROM events"}\n')
                outcome = s.recv(65536).decode()
        except PermissionError:
            outcome = "permission denied"
        except BaseException as e:
            outcome = f"error {type(e).__name__}: {e}"
        finally:
            os.write(write_end, outcome.encode())
            os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    os.waitpid(pid, 0)
    return data.decode()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another uid needs root")
def test_other_users_are_refused() -> None:
    # pytest's tmp_path sits in a folder only root may enter; the other user must reach the socket
    folder = Path(tempfile.mkdtemp(prefix="gogrid-peer-"))
    folder.chmod(0o755)
    db = folder / "g.duckdb"

    async def go() -> None:
        async with Host(db=db):
            sock = socket_path(db)
            # the file mode alone stops another user
            assert await in_thread(_connect_as, NOBODY, sock) == "permission denied"
            # and if the mode were ever loosened, the peer uid check still refuses them
            sock.chmod(0o666)
            raw = await in_thread(_connect_as, NOBODY, sock)
            assert raw.startswith("{"), raw
            reply = json.loads(raw)
            assert reply == {"ok": False, "error": "refused: the database belongs to another user"}
            # the owner's own user still gets answers
            assert (await in_thread(request, db, "ping"))["ok"]

    try:
        anyio.run(go)
    finally:
        shutil.rmtree(folder)


def test_stale_and_live_sockets(tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    sock = socket_path(db)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(sock))
    dead.close()  # a socket file nobody listens on: what a killed owner leaves
    with pytest.raises(NoOwner):
        request(db, "ping")
    clear_stale_socket(sock)
    assert not sock.exists()

    async def go() -> None:
        sock.touch()
        async with Host(db=db):  # a stale socket file does not stop a new owner
            assert (await in_thread(request, db, "ping"))["pid"] == os.getpid()
            other = ChannelServer(Store(), path=sock)
            with pytest.raises(StoreError, match="already answers"):
                await other.open()
            other.store.close()

    anyio.run(go)


def test_a_deep_database_path_gets_a_short_socket_path(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    db = deep / "g.duckdb"
    sock = socket_path(db)
    assert len(str(sock)) < 100 and sock != Path(f"{db}.sock")
    assert socket_path(db) == sock  # every process computes the same place

    async def go() -> None:
        async with Host(db=db):
            assert (await in_thread(request, db, "ping"))["pid"] == os.getpid()

    anyio.run(go)
