"""The engine benchmark still runs (tiny sizes, no timing assertions: figures belong in bench/)."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from conftest import ROOT


def test_bench_engine_runs_and_reports(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGRID_GC_TUNING", "0")  # leave this test process's collector alone
    spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "bench" / "bench_engine.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_engine", bench)  # dataclasses look their module up
    spec.loader.exec_module(bench)
    assert bench.main(["--sizes", "20", "--repeats", "1", "--breakdown"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "workflows |" in ln)
    assert re.search(r"overhead\s+-?[\d.]+ us/step", line) and "37 events/workflow" in line
    assert "tool call through the gate" in out
