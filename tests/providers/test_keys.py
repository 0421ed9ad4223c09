"""API keys: only from the environment variables a manifest names, a missing one is a load-time
error naming the variable, and a key never shows up in events, the JSONL log, the database or
an error message — even when a server echoes it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT
from gogrid.config.errors import ManifestError
from gogrid.engine.runtime import Runtime
from providers.harness import model_entry, write_manifest
from providers.wire import Turn, WireServer

FAKE_KEY = "sk-fake-7Hq2ZpLw9XvR4tNc8JmB3sKd6YgF1aEu"
KEY_VARS = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"]


def _gogrid(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from gogrid.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env["GOGRID_DB"] = str(tmp_path / "default.duckdb")
    return env


def test_a_missing_key_is_a_load_error_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nagents:\n  a:\n    model: anthropic/claude-haiku-4-5\nworkflow: {agent: a}\n")
    with pytest.raises(ManifestError) as err:
        Runtime.from_file(path)
    issue = str(err.value.issues[0])
    assert f"{path}:4:" in issue and "agents.a.model" in issue and "ANTHROPIC_API_KEY is not set" in issue


def test_a_named_variable_is_required_and_the_default_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "present-but-not-the-one-named")
    monkeypatch.delenv("TEAM_OPENAI_KEY", raising=False)
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nmodels:\n  m: {model: openai/gpt-4o-mini, api_key_env: TEAM_OPENAI_KEY}\n"
                    "agents:\n  a: {model: m}\nworkflow: {agent: a}\n")
    with pytest.raises(ManifestError, match="TEAM_OPENAI_KEY is not set"):
        Runtime.from_file(path)


def test_validate_warns_and_run_refuses_without_a_key(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nagents:\n  a: {model: gemini/gemini-2.5-flash}\nworkflow: {agent: a}\n")
    env = _clean_env(tmp_path)
    checked = _gogrid("validate", str(path), env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "warning:" in checked.stderr and "GEMINI_API_KEY or GOOGLE_API_KEY is not set" in checked.stderr
    ran = _gogrid("run", str(path), "-i", "hi", "--no-db", env=env, cwd=tmp_path)
    assert ran.returncode == 2
    assert f"{path}:3:" in ran.stderr and "GEMINI_API_KEY or GOOGLE_API_KEY is not set" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_the_provider_sample_configs_validate_without_keys(tmp_path: Path) -> None:
    samples = sorted(str(p) for p in (ROOT / "sample_configs").glob("provider_*.yaml"))
    assert len(samples) == 4
    checked = _gogrid("validate", *samples, env=_clean_env(tmp_path), cwd=ROOT)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("ok: ") == 4


def test_a_fake_key_leaves_no_trace(tmp_path: Path) -> None:
    """One run whose server rejects the key and quotes it back, one that succeeds with tool calls
    and streaming: the key is nowhere in the log, the database, the output or the errors."""
    env = _clean_env(tmp_path)
    env["GOGRID_TEST_OPENAI_KEY"] = FAKE_KEY
    env["GOGRID_TEST_ANTHROPIC_KEY"] = FAKE_KEY
    db, log = tmp_path / "runs.duckdb", tmp_path / "events.jsonl"
    outputs: list[str] = []
    with WireServer("openai", key="the-right-key") as rejecting, WireServer("anthropic", key=FAKE_KEY) as accepting:
        accepting.script(Turn("Adding.", calls=[("add", {"a": 1, "b": 2})]), Turn("It is 3."))
        bad = write_manifest(tmp_path, {"m": model_entry(rejecting)}, {"model": "m"}, name="bad.yaml")
        good = write_manifest(tmp_path, {"m": model_entry(accepting)}, {"model": "m", "tools": ["add"]}, name="good.yaml")
        for path in (bad, good):
            done = _gogrid("run", str(path), "-i", "What is 1+2?", "--db", str(db), "--log-file", str(log), "--json", env=env, cwd=tmp_path)
            outputs += [done.stdout, done.stderr]
    failed, succeeded = json.loads(outputs[0]), json.loads(outputs[2])
    assert failed["status"] == "failed" and "HTTP 401" in failed["error"] and "Incorrect API key provided: ***" in failed["error"]
    assert succeeded["status"] == "succeeded" and succeeded["output"] == "It is 3."
    assert rejecting.seen and accepting.seen  # the key was really sent, and really echoed

    log_text = log.read_text()
    assert '"model.finished"' in log_text and "Incorrect API key provided" in log_text
    assert FAKE_KEY not in log_text
    for text in outputs:
        assert FAKE_KEY not in text

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        assert tables
        rows = 0
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                rows += 1
                assert FAKE_KEY not in repr(row), table
        assert rows > 0
    finally:
        con.close()
    assert FAKE_KEY.encode() not in db.read_bytes()
    # Fragments are masked too: the longest run of the key found anywhere is short.
    everything = log_text + "".join(outputs)
    assert not any(FAKE_KEY[i : i + 12] in everything for i in range(len(FAKE_KEY) - 11))
