"""`gogrid models`: configured models with provider, price (or unknown) and key presence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gogrid.cli import main

MANIFEST = """version: 1
models:
  gpt: {model: openai/gpt-4o-mini}
  claude: {model: anthropic/claude-haiku-4-5, price: {input: 1.5, output: 6}}
  local: {model: openai/my-local-llama, base_url: "http://127.0.0.1:9/v1"}
agents:
  a: {model: gpt}
  b: {model: [claude, gemini/gemini-2.5-flash]}
workflow: {agent: a}
"""


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-shown-anywhere-1234567890")
    for var in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST)
    return path


def test_models_lists_provider_price_and_key(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", str(manifest)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    assert "openai" in lines["gpt"] and "yes ($OPENAI_API_KEY)" in lines["gpt"] and "$0.15 in / $0.6 out" in lines["gpt"] and "genai-prices" in lines["gpt"]
    assert "no ($ANTHROPIC_API_KEY)" in lines["claude"] and "$1.5 in / $6 out" in lines["claude"] and "(manifest)" in lines["claude"]
    assert "unknown" in lines["local"] and "not needed" in lines["local"]
    assert "gemini" in lines["gemini/gemini-2.5-flash"] and "no ($GEMINI_API_KEY)" in lines["gemini/gemini-2.5-flash"]
    assert "sk-not-shown" not in out


def test_models_json(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", str(manifest), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["local"]["price"] is None and rows["gpt"]["key"] == "yes" and rows["claude"]["key"] == "no"
    assert rows["claude"]["price"] == {"input": 1.5, "output": 6.0, "cached_input": None}


def test_models_without_a_manifest_lists_the_key_variables(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "openai" in out and "key yes" in out and "GEMINI_API_KEY or GOOGLE_API_KEY" in out


def test_models_reports_a_bad_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nmodels:\n  x: {model: openai/gpt-4o, settings: {retry_backof: 1}}\nagents:\n  a: {model: x}\nworkflow: {agent: a}\n")
    assert main(["models", str(path)]) == 2
    captured = capsys.readouterr()
    assert "settings.retry_backof: unknown setting for openai (did you mean 'retry_backoff'?)" in captured.out + captured.err
