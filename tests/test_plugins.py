"""Plugin discovery: tool modules in folders, the `gogrid.plugins` entry points of an installed
package, broken plugins reported by file and cause while the rest load, and `gogrid plugins`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT
from gogrid.cli import main as cli_main
from gogrid.tools.plugins import ToolRegistry, load_entry_points, load_plugins

FIXTURE = ROOT / "tests" / "fixtures" / "gogrid_demo_plugin"
_SCRIPT = Path(sys.executable).parent / "gogrid"
GOGRID = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "import sys; from gogrid.cli import main; sys.exit(main())"]

GOOD = '''
from gogrid.tools.base import tool

@tool
def greet(name: str) -> str:
    """Greet someone.

    Args:
        name: who to greet.
    """
    return f"hello {name}"
'''


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    d = tmp_path / "plugins"
    d.mkdir()
    (d / "good.py").write_text(GOOD)
    (d / "syntax_error.py").write_text("from gogrid.tools.base import tool\n\ndef oops(:\n    pass\n")
    (d / "import_error.py").write_text("import a_module_that_does_not_exist_anywhere\n")
    (d / "raises.py").write_text("x = 1\nraise RuntimeError('plugin refused to start')\n")
    pkg = d / "packaged"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .impl import double\n")
    (pkg / "impl.py").write_text("from gogrid.tools.base import tool\n\n@tool\ndef double(n: int) -> int:\n    \"\"\"Double a number.\"\"\"\n    return 2 * n\n")
    (d / "_private.py").write_text("raise SystemExit('never imported')\n")
    (d / "notes.txt").write_text("not a plugin\n")
    (d / "listed.py").write_text(GOOD.replace("greet", "greet_again") + "\nfrom gogrid.tools.base import tool\n@tool\ndef hidden() -> str:\n    return 'x'\n\nGOGRID_TOOLS = [greet_again]\n")
    return d


def test_plugins_load_from_a_folder_and_broken_ones_are_reported(plugin_dir: Path) -> None:
    reg = load_plugins([plugin_dir], entry_points=False)
    assert set(reg.tools) == {"greet", "double", "greet_again"}  # GOGRID_TOOLS limits listed.py
    assert reg.tools["greet"].source == str(plugin_dir / "good.py")
    assert reg.tools["double"].source == str(plugin_dir / "packaged" / "__init__.py")
    problems = {Path(p.source).name: p.message for p in reg.problems}
    assert set(problems) == {"syntax_error.py", "import_error.py", "raises.py"}
    assert problems["syntax_error.py"].startswith("SyntaxError") and "(line 3)" in problems["syntax_error.py"]
    assert "ModuleNotFoundError" in problems["import_error.py"] and "a_module_that_does_not_exist_anywhere" in problems["import_error.py"]
    assert problems["raises.py"] == "RuntimeError: plugin refused to start (line 2)"


def test_a_duplicate_tool_name_keeps_the_first_and_says_so(plugin_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "more"
    other.mkdir()
    (other / "again.py").write_text(GOOD)
    reg = load_plugins([plugin_dir, other], entry_points=False)
    assert reg.tools["greet"].source == str(plugin_dir / "good.py")
    assert any("'greet' is already defined" in p.message for p in reg.problems)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture package, really installed by pip into its own target folder (its wheel is
    built by an in-tree backend, so no network is needed)."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--disable-pip-version-check", "--target", str(target), str(FIXTURE)],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert (target / "gogrid_demo_plugin-0.1.0.dist-info" / "entry_points.txt").exists()
    return target


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(installed))
    yield installed
    for name in [m for m in sys.modules if m.startswith("gogrid_demo_plugin")]:
        del sys.modules[name]


def test_entry_points_of_an_installed_package_load(on_path: Path) -> None:
    reg = ToolRegistry()
    load_entry_points(reg)
    assert {"word_count", "reverse_text", "shout"} <= set(reg.tools)
    assert reg.tools["word_count"].source == "entry point demo (gogrid_demo_plugin.tools)"
    assert reg.tools["shout"].source == "entry point shout (gogrid_demo_plugin.single:shout)"
    assert reg.tools["word_count"].fn("one two three") == 3
    broken = [p for p in reg.problems if "broken" in p.source]
    assert len(broken) == 1
    assert "No module named 'gogrid_demo_plugin_missing_dependency'" in broken[0].message
    assert str(on_path / "gogrid_demo_plugin" / "broken.py") + ":5" in broken[0].message


def _env(*extra_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in extra_path), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.pop("GOGRID_PLUGINS", None)
    return env


def test_gogrid_plugins_lists_folder_and_entry_point_tools(installed: Path, plugin_dir: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\nagents:\n  a: {model: sim/x, tools: [greet, shout]}\nworkflow: {agent: a}\n")
    proc = subprocess.run([*GOGRID, "plugins", str(manifest), "--json"], capture_output=True, text=True, env=_env(installed), timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = {t["name"]: t for t in json.loads(proc.stdout)}
    assert {"greet", "double", "greet_again", "word_count", "reverse_text", "shout"} <= set(listed)
    assert listed["greet"]["source"] == str(plugin_dir / "good.py")
    assert listed["shout"]["source"].startswith("entry point shout")
    assert listed["greet"]["schema"] == {
        "additionalProperties": False, "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "description": "who to greet."}},
    }
    assert "Traceback" not in proc.stderr
    for name in ("syntax_error.py", "import_error.py", "raises.py", "entry point broken"):
        assert name in proc.stderr
    # The same manifest validates and runs with tools from both kinds of plugin.
    proc = subprocess.run([*GOGRID, "validate", str(manifest)], capture_output=True, text=True, env=_env(installed), timeout=120, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("ok:"), proc.stderr


def test_gogrid_plugins_text_output_and_default_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the default is ./plugins: the tools shipped with the project
    assert cli_main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "calculate  (" in out and "plugins/arithmetic.py)" in out and '"expression"' in out


def test_gogrid_plugins_reports_a_bad_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nplugins: nope\nworkflow: {agent: a}\n")
    assert cli_main(["plugins", str(bad)]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err


def test_extra_plugin_folders_from_the_environment(plugin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "elsewhere" / "m.yaml"
    manifest.parent.mkdir()
    manifest.write_text("version: 1\nagents:\n  a: {model: sim/x, tools: [greet]}\nworkflow: {agent: a}\n")
    assert cli_main(["validate", str(manifest)]) == 2  # ./plugins next to it does not exist
    monkeypatch.setenv("GOGRID_PLUGINS", str(plugin_dir))
    assert cli_main(["validate", str(manifest)]) == 0
    assert "warning: plugin" in capsys.readouterr().err  # the broken ones are still reported
