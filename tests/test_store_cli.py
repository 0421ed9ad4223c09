"""`gogrid runs`, `show`, `sql` and `export` against a real database file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from gogrid.cli import main as cli_main
from gogrid.events import event_from_json
from gogrid.store.client import query
from gogrid.store.replay import read_events
from gogrid.store.saved import SAVED
from store_helpers import gogrid

PLAIN = """\
version: 1
name: plain
models:
  quick: {model: sim/quick, settings: {seed: 2, latency_ms: 1}}
agents:
  writer: {model: quick, instructions: Answer briefly.}
workflow: {agent: writer}
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs: the scripted sample (4 model calls, 5 tool calls, 2 failing) then a plain agent."""
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "g.duckdb"
    (folder / "plain.yaml").write_text(PLAIN)
    for manifest in (ROOT / "sample_configs" / "scripted.yaml", folder / "plain.yaml"):
        assert cli_main(["run", str(manifest), "-q", "-i", "Check the numbers", "--db", str(path)]) == 0
    return path


def run_ids(db: Path) -> list[str]:
    return [str(r[0]) for r in query(db, "SELECT run_id FROM runs ORDER BY started_at").rows]


def test_bad_sql_prints_duckdbs_message_and_exits_1(db: Path) -> None:
    result = gogrid("sql", "--db", str(db), "SELEC * FROM runs")
    assert result.returncode == 1
    assert "Parser Error: syntax error at or near \"SELEC\"" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    missing = gogrid("sql", "--db", str(db), "SELECT * FROM no_such_table")
    assert missing.returncode == 1 and "Catalog Error" in missing.stderr and "no_such_table" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_sql_without_a_database_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["sql", "--db", str(tmp_path / "none.duckdb"), "SELECT 1"]) == 1
    assert f"no database at {tmp_path / 'none.duckdb'}" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


def test_sql_formats(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The scripted run's tool calls (the demo's team calls tools too, in an order it does not fix).
    sql = ("SELECT tool, status, duration_s FROM tool_calls WHERE run_id IN "
           "(SELECT run_id FROM runs WHERE manifest LIKE '%scripted.yaml') ORDER BY started_at")
    assert cli_main(["sql", "--db", str(db), sql]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["tool", "status", "duration_s"] and set(lines[1]) == {"-", " "}
    assert lines[-1] == "(5 rows)" and lines[2].startswith("calculate")

    assert cli_main(["sql", "--db", str(db), "--format", "csv", sql]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "invalid", "error"]

    assert cli_main(["sql", "--db", str(db), "-f", "json", sql]) == 0
    assert [r["tool"] for r in json.loads(capsys.readouterr().out)][:3] == ["calculate", "current_time", "add_to_date"]

    out = tmp_path / "tools.parquet"
    assert cli_main(["sql", "--db", str(db), "-f", "parquet", "-o", str(out), sql]) == 0
    assert pq.read_table(out).column("status").to_pylist()[3:] == ["invalid", "error"]

    csv_out = tmp_path / "tools.csv"
    assert cli_main(["sql", "--db", str(db), "-f", "csv", "--output", str(csv_out), sql]) == 0
    assert csv_out.read_text().startswith("tool,status,duration_s\n")

    assert cli_main(["sql", "--db", str(db), "-f", "parquet", sql]) == 2
    assert "--format parquet needs --output FILE" in capsys.readouterr().err


def test_saved_queries_list_and_all_run(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["sql", "--saved"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in SAVED)
    for name in SAVED:
        assert cli_main(["sql", "--db", str(db), "--saved", name, "-f", "json"]) == 0, name
        json.loads(capsys.readouterr().out)
    assert cli_main(["sql", "--db", str(db), "--saved", "cost-by-model", "-f", "json"]) == 0
    models = json.loads(capsys.readouterr().out)
    calls = query(db, "SELECT count(*) FROM llm_calls").rows[0][0]
    assert {m["provider"] for m in models} == {"sim"} and sum(m["calls"] for m in models) == calls
    assert all(m["cost_usd"] > 0 and m["cost_complete"] for m in models)
    assert cli_main(["sql", "--saved", "nope"]) == 2
    assert "no saved query named 'nope'" in capsys.readouterr().err


def test_runs_lists_newest_first(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["runs", "--db", str(db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["manifest"]).name for r in rows] == ["plain.yaml", "scripted.yaml"]
    assert all(r["status"] == "succeeded" and r["tokens"] > 0 and r["cost_usd"] > 0 for r in rows)
    assert cli_main(["runs", "--db", str(db), "--limit", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["id", "manifest", "status"] and len(out) == 3
    assert "plain.yaml" in out[2] and "succeeded" in out[2] and "$" in out[2]
    assert cli_main(["runs", "--db", str(db), "--status", "failed"]) == 0
    assert capsys.readouterr().out.strip() == "no runs yet"


def test_run_ids_take_unique_prefixes(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scripted, demo = run_ids(db)
    common = 0
    while scripted[common] == demo[common]:
        common += 1
    assert cli_main(["show", "--db", str(db), scripted[: common + 1]]) == 0
    assert scripted in capsys.readouterr().out

    assert cli_main(["show", "--db", str(db), scripted[:common]]) == 2
    err = capsys.readouterr().err
    assert "matches several runs" in err and scripted in err and demo in err
    assert cli_main(["export", "--db", str(db), "zzz"]) == 2
    assert "no run id starts with 'zzz'" in capsys.readouterr().err


def test_show_prints_summary_transcript_and_errors(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scripted = run_ids(db)[0]
    assert cli_main(["show", "--db", str(db), scripted]) == 0
    out = capsys.readouterr().out
    assert f"run       {scripted}" in out and "status    succeeded" in out
    assert "4 model call(s), 5 tool call(s), 1 agent(s)" in out
    assert "run analyst [succeeded]" in out and "agent analyst [succeeded]" in out
    assert "analyst (assistant): (asks for calculate, current_time, add_to_date)" in out
    assert 'analyst called calculate [ok' in out and '{"expression":"1200 * 0.15"} -> 180.0' in out
    errors = out.split("\nerrors\n")[1]
    assert "[invalid]" in errors and "division by zero" in errors
    assert cli_main(["show", "--db", str(db), scripted, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["tool_calls"] == 5 and len(report["errors"]) == 2


def test_export_jsonl_replays_and_parquet_holds_the_events(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scripted = run_ids(db)[0]
    assert cli_main(["export", "--db", str(db), scripted]) == 0
    exported = [event_from_json(line) for line in capsys.readouterr().out.splitlines()]
    assert exported == read_events(db, scripted)
    assert exported[0].kind == "run.started" and exported[-1].kind == "run.finished"

    out = tmp_path / "run.parquet"
    assert cli_main(["export", "--db", str(db), scripted, "--format", "parquet", "--output", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == len(exported)
    assert table.column("kind").to_pylist() == [e.kind for e in exported]
    assert "wrote" in capsys.readouterr().err


def test_sql_reads_any_duckdb_file_without_adding_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    con.close()
    assert cli_main(["sql", "--db", str(other), "-f", "json", "SELECT table_name FROM information_schema.tables"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"table_name": "t"}]
