"""The tools shipped in plugins/: arithmetic, files, clock and http_get, loaded the way the engine
loads them (from the plugins folder) and called through their validated interface."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from conftest import ROOT
from gogrid.tools.base import Tool, ToolArgumentError, ToolContext
from gogrid.tools.plugins import ToolRegistry, load_folder


@pytest.fixture(scope="module")
def tools() -> dict[str, Tool]:
    registry = ToolRegistry()
    load_folder(ROOT / "plugins", registry)
    assert registry.problems == []
    return registry.tools


def call(t: Tool, args: dict[str, Any], workspace: Path | None = None, extras: dict[str, Any] | None = None) -> Any:
    ctx = ToolContext(run_id="r1", agent="a", call_id="c1", workspace=str(workspace) if workspace else None, extras=extras or {})
    return anyio.run(lambda: t.invoke(t.validate(args), ctx))


def test_the_shipped_plugins_provide_their_tools(tools: dict[str, Tool]) -> None:
    assert {"calculate", "read_file", "list_files", "search_files", "http_get", "current_time", "add_to_date", "days_between"} <= set(tools)
    for t in tools.values():
        assert t.description and t.parameters["type"] == "object"
        assert "ctx" not in t.parameters.get("properties", {})  # the context is never shown to a model


# --- arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ** 10", 1024),
        ("2 ^ 3", 8),
        ("-3 + +4", 1),
        ("7 // 2 + 7 % 2", 4),
        ("10 / 4", 2.5),
        ("sqrt(16) + abs(-2)", 6.0),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("round(pi, 2)", 3.14),
        ("2 ** 100", 2**100),
    ],
)
def test_calculate_evaluates_the_supported_language(tools: dict[str, Tool], expression: str, expected: float) -> None:
    assert call(tools["calculate"], {"expression": expression}) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "not supported"),
        ("open('x')", "not supported"),
        ("(1).__class__", "not allowed"),
        ("x + 1", "unknown name 'x'"),
        ("'a' * 3", "only numbers"),
        ("1 +", "cannot parse"),
        ("1 / 0", "division by zero"),
        ("9 ** 9 ** 9", "too large"),
        ("sqrt(-1)", "math error"),
        ("[1, 2]", "not allowed"),
        ("", "empty expression"),
        ("1 + " * 300 + "1", "too long"),
        ("True + 1", "only numbers"),
        ("min()", "wrong number of arguments"),
        ("1e308 * 10", "not a finite number"),
    ],
)
def test_calculate_refuses_what_is_not_arithmetic(tools: dict[str, Tool], expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(tools["calculate"], {"expression": expression})


def test_tool_arguments_are_validated_against_the_schema(tools: dict[str, Tool]) -> None:
    with pytest.raises(ToolArgumentError, match="expression"):
        tools["calculate"].validate({})
    with pytest.raises(ToolArgumentError, match="mode: Extra inputs are not permitted"):
        tools["calculate"].validate({"expression": "1", "mode": "fast"})


# --- files --------------------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GOGRID_WORKSPACE", raising=False)
    root = tmp_path / "ws"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "plan.md").write_text("# Plan\nShip the launch in May.\nBudget is fixed.\n")
    (root / "notes.txt").write_text("launch checklist\n")
    (root / "big.txt").write_text("x" * 100_000)
    secret = tmp_path / "secret.txt"
    secret.write_text("launch codes\n")
    (root / "escape").symlink_to(secret)
    (root / "outside_dir").symlink_to(tmp_path)
    return root


def test_read_file_reads_inside_the_workspace(tools: dict[str, Tool], workspace: Path) -> None:
    out = call(tools["read_file"], {"path": "docs/plan.md"}, workspace)
    assert out["text"].startswith("# Plan") and out["truncated"] is False


def test_read_file_is_bounded_and_pages(tools: dict[str, Tool], workspace: Path) -> None:
    out = call(tools["read_file"], {"path": "big.txt", "max_bytes": 10_000_000}, workspace)
    assert len(out["text"]) == 64 * 1024 and out["truncated"] is True
    rest = call(tools["read_file"], {"path": "big.txt", "offset": out["next_offset"]}, workspace)
    assert len(rest["text"]) == 100_000 - 64 * 1024 and rest["next_offset"] is None


@pytest.mark.parametrize("path", ["../secret.txt", "escape", "outside_dir/secret.txt", "/etc/hostname", "docs/../../secret.txt"])
def test_read_file_refuses_paths_outside_the_workspace(tools: dict[str, Tool], workspace: Path, path: str) -> None:
    with pytest.raises(ValueError, match="outside the workspace"):
        call(tools["read_file"], {"path": path}, workspace)


def test_list_files_skips_symlinks_that_point_outside(tools: dict[str, Tool], workspace: Path) -> None:
    out = call(tools["list_files"], {"path": ".", "recursive": True}, workspace)
    paths = {e["path"] for e in out["entries"]}
    assert {"docs", "docs/plan.md", "notes.txt", "big.txt"} <= paths
    assert "escape" not in paths and "outside_dir" not in paths
    with pytest.raises(ValueError, match="outside the workspace"):
        call(tools["list_files"], {"path": ".."}, workspace)


def test_list_files_reports_a_dangling_link(tools: dict[str, Tool], workspace: Path) -> None:
    (workspace / "dangling").symlink_to(workspace / "gone.txt")
    entries = {e["path"]: e for e in call(tools["list_files"], {}, workspace)["entries"]}
    assert entries["dangling"]["type"] == "broken link"


def test_search_files_finds_lines_and_never_leaves_the_root(tools: dict[str, Tool], workspace: Path) -> None:
    out = call(tools["search_files"], {"query": "LAUNCH"}, workspace)
    hits = {(m["path"], m["line"]) for m in out["matches"]}
    assert hits == {("docs/plan.md", 2), ("notes.txt", 1)}  # not the secret behind the symlinks


def test_the_workspace_environment_variable_wins(tools: dict[str, Tool], workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGRID_WORKSPACE", str(workspace / "docs"))
    out = call(tools["read_file"], {"path": "plan.md"}, workspace)
    assert "May" in out["text"]
    with pytest.raises(ValueError, match="outside the workspace"):
        call(tools["read_file"], {"path": "../notes.txt"}, workspace)


# --- clock --------------------------------------------------------------------------------------


def test_current_time_in_a_timezone(tools: dict[str, Tool]) -> None:
    out = call(tools["current_time"], {"timezone": "Asia/Tokyo"})
    assert out["timezone"] == "Asia/Tokyo" and out["utc_offset"] == "+09:00"
    assert date.fromisoformat(out["date"])
    with pytest.raises(ValueError, match="unknown timezone"):
        call(tools["current_time"], {"timezone": "Mars/Olympus"})


def test_date_arithmetic(tools: dict[str, Tool]) -> None:
    assert call(tools["add_to_date"], {"start": "2024-01-31", "months": 1}) == {"date": "2024-02-29", "weekday": "Thursday"}
    assert call(tools["add_to_date"], {"start": "2024-03-01", "days": -1})["date"] == "2024-02-29"
    assert call(tools["add_to_date"], {"start": "2023-12-25", "weeks": 1, "years": 1})["date"] == "2025-01-01"
    assert call(tools["days_between"], {"start": "2024-05-06", "end": "2024-05-20"}) == {"days": 14, "weeks": 2, "weekdays": 10}
    assert call(tools["days_between"], {"start": "2024-05-24", "end": "2024-05-20"}) == {"days": -4, "weeks": 0, "weekdays": -4}
    assert call(tools["days_between"], {"start": "2000-01-01", "end": "2099-12-31"})["weekdays"] == 26088
    with pytest.raises(ToolArgumentError, match="start"):
        tools["add_to_date"].validate({"start": "next tuesday"})
    with pytest.raises(ValueError, match="out of range"):
        call(tools["add_to_date"], {"start": "9999-12-01", "months": 1})


# --- http_get against a loopback server ---------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/slow":
            time.sleep(1.0)
        if self.path == "/redirect-out":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/hello")
            self.end_headers()
            return
        if self.path == "/redirect-in":
            self.send_response(302)
            self.send_header("Location", "/hello")
            self.end_headers()
            return
        body = b"y" * 50_000 if self.path == "/big" else b"hello from loopback"
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGRID_HTTP_ALLOW", "127.0.0.1")
    for name in ("GOGRID_HTTP_MAX_BYTES", "GOGRID_HTTP_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def test_http_get_fetches_from_an_allowed_host(tools: dict[str, Tool], server: str, allow_loopback: None) -> None:
    out = call(tools["http_get"], {"url": server + "/hello"})
    assert out["status"] == 200 and out["text"] == "hello from loopback" and out["truncated"] is False
    assert call(tools["http_get"], {"url": server + "/missing"})["status"] == 404
    assert call(tools["http_get"], {"url": server + "/redirect-in"})["url"] == server + "/hello"


def test_http_get_refuses_without_an_allowlist(tools: dict[str, Tool], server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGRID_HTTP_ALLOW", raising=False)
    with pytest.raises(ValueError, match="GOGRID_HTTP_ALLOW"):
        call(tools["http_get"], {"url": server + "/hello"})


def test_http_get_refuses_other_domains_and_schemes(tools: dict[str, Tool], server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGRID_HTTP_ALLOW", "example.com")
    with pytest.raises(ValueError, match="not in the allowlist"):
        call(tools["http_get"], {"url": server + "/hello"})
    with pytest.raises(ValueError, match="only http and https"):
        call(tools["http_get"], {"url": "file:///etc/passwd"})


def test_http_get_checks_every_redirect_hop(tools: dict[str, Tool], server: str, allow_loopback: None) -> None:
    with pytest.raises(ValueError, match="'localhost' is not in the allowlist"):
        call(tools["http_get"], {"url": server + "/redirect-out"})


def test_http_get_allowlist_from_the_tool_context(tools: dict[str, Tool], server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGRID_HTTP_ALLOW", raising=False)
    out = call(tools["http_get"], {"url": server + "/hello"}, extras={"http_allow": ["127.0.0.1"]})
    assert out["status"] == 200


def test_http_get_size_and_time_limits(tools: dict[str, Tool], server: str, allow_loopback: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGRID_HTTP_MAX_BYTES", "1000")
    out = call(tools["http_get"], {"url": server + "/big"})
    assert out["bytes"] == 1000 and out["truncated"] is True
    monkeypatch.setenv("GOGRID_HTTP_TIMEOUT", "0.2")
    with pytest.raises(ValueError, match=r"timed out after 0\.2s"):
        call(tools["http_get"], {"url": server + "/slow"})


def test_domain_matching() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("http_get_for_test", ROOT / "plugins" / "http_get.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.is_allowed("api.example.com", ["example.com"])
    assert mod.is_allowed("example.com", ["example.com"])
    assert not mod.is_allowed("badexample.com", ["example.com"])
    assert not mod.is_allowed("example.com.evil.net", ["example.com"])
    assert mod.is_allowed("anything.net", ["*"])
