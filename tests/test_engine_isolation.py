"""The engine never imports the console: every package but `gogrid.console` (and a console entry
command) works without Textual. Checked twice: by importing everything in a fresh interpreter,
and by scanning the source for imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src" / "gogrid"
CONSOLE_ONLY = {"console"}  # packages allowed to import textual
CONSOLE_ENTRY_COMMANDS = {"tui"}  # a `gogrid tui` command module may start the console
FORBIDDEN = ("textual", "gogrid.console")


def engine_modules() -> list[str]:
    """Every module of the package outside the console, as dotted names."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if len(parts) > 1 and parts[1] in CONSOLE_ONLY:
            continue
        if parts[1:2] == ["cli"] and parts[-1] in CONSOLE_ENTRY_COMMANDS:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] == "__main__":
            continue
        out.append(".".join(parts))
    return out


def test_the_engine_packages_are_all_covered() -> None:
    modules = engine_modules()
    for package in ("gogrid.engine", "gogrid.config", "gogrid.models", "gogrid.tools", "gogrid.patterns", "gogrid.telemetry", "gogrid.cli", "gogrid.host", "gogrid.events", "gogrid.messages"):
        assert package in modules
    assert not any(m.startswith("gogrid.console") for m in modules)


def test_importing_every_engine_module_does_not_load_textual() -> None:
    modules = engine_modules()
    code = (
        "import importlib, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "loaded = sorted(n for n in sys.modules if n == 'textual' or n.startswith(('textual.', 'gogrid.console')))\n"
        "print('LOADED', loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LOADED []" in proc.stdout


def test_the_cli_parser_builds_without_textual() -> None:
    # Building `gogrid --help` imports every command module; it must stay console-free too.
    code = "import sys\nfrom gogrid.cli import build_parser\nbuild_parser()\nsys.exit('textual' in sys.modules)\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def imports_of(path: Path, package: str = "") -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, including relative ones and
    `importlib.import_module("...")` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found.append((node.lineno, name))
            found.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names if node.level)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def test_no_engine_source_file_imports_the_console() -> None:
    offenders = []
    for module in engine_modules():
        parts = module.split(".")
        path = SRC.parent.joinpath(*parts)
        package = module if path.is_dir() else module.rpartition(".")[0]
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for line, name in imports_of(path, package):
            if name == "textual" or name.startswith(("textual.", "gogrid.console")):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    assert offenders == []


def test_the_scan_would_catch_an_offender(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom textual.app import App\nimportlib.import_module('gogrid.console.app')\nfrom ..console import app\n")
    names = [n for _, n in imports_of(sample, "gogrid.engine")]
    assert names == ["os", "textual.app", "gogrid.console", "gogrid.console.app", "gogrid.console.app"]
