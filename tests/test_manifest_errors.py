"""Malformed manifests through the real command line: each gives exit status 2 and a message that
names file:line:column and the field, says what was expected, and never shows a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT
from gogrid.cli import main as cli_main

PLUGINS = (ROOT / "plugins").as_posix()
# The installed console script when there is one, else the same entry point through python -c.
_SCRIPT = Path(sys.executable).parent / "gogrid"
GOGRID = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int  # where the message must point
    field: str  # the field path it must name ("" for whole-file problems)
    expect: str  # a fragment of what it must say


CASES = [
    Case("bad_yaml", "version: 1\nagents: [\n", 3, "", "invalid YAML"),
    Case("tab_indent", "version: 1\nworkflow:\n  agent: a\n\tname: x\n", 4, "", "invalid YAML"),
    Case("unclosed_quote", 'version: 1\nname: "demo\nworkflow: {agent: a}\n', 4, "", "invalid YAML"),
    Case("unsafe_yaml_tag", "version: 1\nname: !!python/object:os.system x\nagents:\n  a: {model: sim/x}\nworkflow: {agent: a}\n", 2, "name", "unsupported YAML value"),
    Case("empty_file", "", 1, "", "the manifest is empty"),
    Case("top_level_list", "- agent\n- model\n", 1, "", "expected a mapping at the top level"),
    Case("wrong_version", "version: 2\nagents:\n  a: {model: sim/x}\nworkflow: {agent: a}\n", 1, "version", "Input should be 1 (got 2)"),
    Case("missing_version", "agents:\n  a: {model: sim/x}\nworkflow: {agent: a}\n", 1, "version", "required field is missing"),
    Case("missing_workflow", "version: 1\nagents:\n  a: {model: sim/x}\n", 1, "workflow", "required field is missing"),
    Case("missing_agent_model", "version: 1\nagents:\n  a:\n    instructions: hi\nworkflow: {agent: a}\n", 3, "agents.a.model", "required field is missing"),
    Case("unknown_top_key", "version: 1\nagnets:\n  a: {model: sim/x}\nworkflow: {agent: a}\n", 2, "agnets", "did you mean 'agents'"),
    Case("unknown_agent_key", "version: 1\nagents:\n  a:\n    model: sim/x\n    instruction: hi\nworkflow: {agent: a}\n", 5, "agents.a.instruction", "did you mean 'instructions'"),
    Case("unknown_model_key", "version: 1\nmodels:\n  m:\n    model: sim/x\n    temprature: 1\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 5, "models.m.temprature", "unknown key 'temprature'"),
    Case("wrong_type_int", "version: 1\nagents:\n  a:\n    model: sim/x\n    max_turns: many\nworkflow: {agent: a}\n", 5, "agents.a.max_turns", "valid integer"),
    Case("wrong_type_list", "version: 1\nagents:\n  a:\n    model: sim/x\n    tools: calculate\nworkflow: {agent: a}\n", 5, "agents.a.tools", "valid list (got 'calculate')"),
    Case("wrong_type_plugins", "version: 1\nplugins: 5\nagents:\n  a: {model: sim/x}\nworkflow: {agent: a}\n", 2, "plugins", "valid list (got 5)"),
    Case("out_of_range", "version: 1\nagents:\n  a:\n    model: sim/x\n    temperature: 5\nworkflow: {agent: a}\n", 5, "agents.a.temperature", "less than or equal to 2"),
    Case("zero_timeout", "version: 1\nagents:\n  a:\n    model: sim/x\n    timeout: 0\nworkflow: {agent: a}\n", 5, "agents.a.timeout", "greater than 0"),
    Case("model_not_provider_slash_model", "version: 1\nmodels:\n  m: {model: gpt4}\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 3, "models.m.model", "expected 'provider/model'"),
    Case("unknown_provider", "version: 1\nagents:\n  a: {model: foo/bar}\nworkflow: {agent: a}\n", 3, "agents.a.model", "unknown provider 'foo'"),
    Case("unknown_model_key_ref", "version: 1\nmodels:\n  fast: {model: sim/x}\nagents:\n  a: {model: fsat}\nworkflow: {agent: a}\n", 5, "agents.a.model", "neither a key of `models:`"),
    Case("empty_fallback_list", "version: 1\nagents:\n  a: {model: []}\nworkflow: {agent: a}\n", 3, "agents.a.model", "at least one model"),
    Case("unknown_tool", f"version: 1\nplugins: ['{PLUGINS}']\nagents:\n  a:\n    model: sim/x\n    tools: [calculater]\nworkflow: {{agent: a}}\n", 6, "agents.a.tools[0]", "did you mean 'calculate'"),
    Case("unknown_agent_reference", "version: 1\nagents:\n  writer: {model: sim/x}\nworkflow: {agent: writr}\n", 4, "workflow.agent", "unknown agent 'writr' (did you mean 'writer'?)"),
    Case("unknown_workflow_reference", "version: 1\nagents:\n  a: {model: sim/x}\nworkflow: {ref: nope}\n", 4, "workflow.ref", "unknown workflow 'nope'"),
    Case("two_patterns", "version: 1\nagents:\n  a: {model: sim/x}\nworkflow: {agent: a, ref: b}\n", 4, "workflow", "expected exactly one of"),
    Case("no_pattern", "version: 1\nagents:\n  a: {model: sim/x}\nworkflow: {name: x}\n", 4, "workflow", "expected exactly one of"),
    Case("workflow_cycle", "version: 1\nagents:\n  a: {model: sim/x}\nworkflow: {agent: a}\nworkflows:\n  w1: {ref: w2}\n  w2: {ref: w1}\n", 7, "workflows.w2.ref", "refers to itself"),
    Case("undefined_variable", "version: 1\nagents:\n  a:\n    model: sim/x\n    instructions: 'key ${GOGRID_TEST_SURELY_UNSET}'\nworkflow: {agent: a}\n", 5, "agents.a.instructions", "${GOGRID_TEST_SURELY_UNSET} is not set"),
    Case("duplicate_key", "version: 1\nagents:\n  a: {model: sim/x}\n  a: {model: sim/y}\nworkflow: {agent: a}\n", 4, "agents.a", "duplicate key 'a'"),
    Case("price_per_token", "version: 1\nmodels:\n  m:\n    model: sim/x\n    price: {input: 0.0000025, output: 1}\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 5, "models.m.price", "USD per million tokens (did you mean 2.5?)"),
    Case("negative_price", "version: 1\nmodels:\n  m:\n    model: sim/x\n    price: {input: -1, output: 1}\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 5, "models.m.price.input", "greater than or equal to 0"),
    Case("bad_script_step_key", "version: 1\nagents:\n  a:\n    model: sim/x\n    script:\n      - {sya: hi}\nworkflow: {agent: a}\n", 6, "agents.a.script[0].sya", "did you mean 'say'"),
    Case("bad_script_step_type", "version: 1\nagents:\n  a:\n    model: sim/x\n    script:\n      - {tool: calculate, args: [1, 2]}\nworkflow: {agent: a}\n", 6, "agents.a.script[0].args", "valid dictionary"),
    Case("bad_sim_setting_type", "version: 1\nmodels:\n  m:\n    model: sim/x\n    settings: {latency_ms: fast}\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 5, "models.m.settings.latency_ms", "got 'fast'"),
    Case("unknown_sim_setting", "version: 1\nmodels:\n  m:\n    model: sim/x\n    settings: {latencyms: 5}\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 5, "models.m.settings.latencyms", "did you mean 'latency_ms'"),
    Case("bad_max_tokens_setting", "version: 1\nmodels:\n  m:\n    model: sim/x\n    settings: {max_tokens: lots}\nagents:\n  a: {model: m}\nworkflow: {agent: a}\n", 5, "models.m.settings.max_tokens", "positive whole number of tokens, got 'lots'"),
    Case("invalid_output_schema", "version: 1\nagents:\n  a:\n    model: sim/x\n    output_schema: {type: strng}\nworkflow: {agent: a}\n", 5, "agents.a.output_schema", "not a valid JSON Schema"),
    Case("name_wrong_type", "version: 1\nname: [x]\nagents:\n  a: {model: sim/x}\nworkflow: {agent: a}\n", 2, "name", "valid string"),
]


def write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / f"{case.id}.yaml"
    path.write_text(case.text, encoding="utf-8")
    return path


def check_message(stderr: str, path: Path, case: Case) -> None:
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.startswith(f"error: {path}:")]
    assert lines, f"no error naming {path} in:\n{stderr}"
    prefix = f"error: {path}:{case.line}:"
    hits = [ln for ln in lines if ln.startswith(prefix) and (not case.field or f": {case.field}: " in ln) and case.expect in ln]
    assert hits, f"expected line {case.line}, field {case.field!r} and {case.expect!r} in:\n{stderr}"


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_reports_file_line_and_field(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGRID_TEST_SURELY_UNSET", raising=False)
    path = write(tmp_path, case)
    status = cli_main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 2, err
    check_message(err, path, case)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOGRID_TEST_SURELY_UNSET", "GOGRID_DB")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def test_every_case_through_a_real_validate_process(tmp_path: Path) -> None:
    paths = [write(tmp_path, c) for c in CASES]
    proc = subprocess.run([*GOGRID, "validate", *map(str, paths)], capture_output=True, text=True, env=_env(), timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for path, case in zip(paths, CASES, strict=True):
        check_message(proc.stderr, path, case)


@pytest.mark.parametrize("case_id", ["bad_yaml", "unknown_agent_key", "unknown_tool", "undefined_variable", "unknown_provider", "bad_script_step_key"])
def test_run_refuses_a_bad_manifest_with_status_2(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == case_id)
    path = write(tmp_path, case)
    proc = subprocess.run([*GOGRID, "run", str(path), "-i", "x"], capture_output=True, text=True, env=_env(), timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    check_message(proc.stderr, path, case)


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("version: 1\nagents:\n  a:\n    model: foo/x\n    max_turns: 0\n  b:\n    model: sim/x\n    tools: [nothing_here]\nworkflow: {agent: a}\n")
    assert cli_main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5:" in err and "agents.a.max_turns" in err  # the schema problem comes first...
    path.write_text("version: 1\nagents:\n  a:\n    model: foo/x\n  b:\n    model: sim/x\n    tools: [nothing_here]\nworkflow: {agent: a}\nworkflows:\n  w: {agent: b}\n")
    assert cli_main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4:" in err and f"{path}:7:" in err  # ...then every reference problem together


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["run", "{dir}/missing.yaml"], "missing.yaml: no such file"),
        (["run", "{dir}"], "cannot read"),
        (["validate", "{dir}/missing.yaml"], "no such file"),
        (["run", "{demo}", "--model-override", "nope"], "--model-override: expected provider/model"),
        (["run", "{demo}", "--workflow", "nope"], "--workflow: no workflow named 'nope'"),
    ],
)
def test_bad_files_and_flags(argv: list[str], expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # any database a command opens goes to ./.gogrid here
    monkeypatch.delenv("GOGRID_DB", raising=False)
    args = [a.format(dir=tmp_path, demo=ROOT / "sample_configs" / "demo.yaml") for a in argv]
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err


def test_an_internal_error_is_one_line_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import gogrid.cli.validate as validate_command

    def broken(args: object) -> int:
        raise ExceptionGroup("unhandled errors in a TaskGroup", [ValueError("something inside broke")])

    monkeypatch.setattr(validate_command, "main", broken)
    monkeypatch.delenv("GOGRID_DEBUG", raising=False)
    assert cli_main(["validate", str(tmp_path / "x.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "gogrid: internal error: ValueError: something inside broke (GOGRID_DEBUG=1 shows the traceback)"
    monkeypatch.setenv("GOGRID_DEBUG", "1")
    with pytest.raises(ExceptionGroup):
        cli_main(["validate", str(tmp_path / "x.yaml")])
