"""Plugin discovery: tool modules in folders, and installed packages' `gogrid.plugins` entry points.

A plugin module offers every `Tool` found at its top level (functions decorated with `@tool`), or
exactly what its `GOGRID_TOOLS` list names. An entry point may name a module, a Tool, a list of
tools, or a function returning a list. A broken plugin is reported with its file and cause, and
the others still load.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from gogrid.tools.base import Tool

ENTRY_POINT_GROUP = "gogrid.plugins"


@dataclass(frozen=True, slots=True)
class PluginProblem:
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass
class ToolRegistry:
    tools: dict[str, Tool] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)

    def add(self, t: Tool, source: str) -> None:
        existing = self.tools.get(t.name)
        if existing is not None and existing.fn is not t.fn:
            self.problems.append(
                PluginProblem(source, f"tool {t.name!r} is already defined by {existing.source}; kept the first")
            )
            return
        t.source = source
        self.tools[t.name] = t

    def get(self, name: str) -> Tool | None:
        return self.tools.get(name)

    def names(self) -> set[str]:
        return set(self.tools)


def _tools_in(obj: Any) -> list[Tool]:
    if isinstance(obj, Tool):
        return [obj]
    if isinstance(obj, ModuleType):
        listed = getattr(obj, "GOGRID_TOOLS", None)
        if listed is not None:
            return [t for t in listed if isinstance(t, Tool)]
        return [v for v in vars(obj).values() if isinstance(v, Tool)]
    if isinstance(obj, list | tuple):
        return [t for t in obj if isinstance(t, Tool)]
    if callable(obj):
        return _tools_in(obj())
    return []


def _short_cause(exc: BaseException, file: str) -> str:
    # The frame inside the plugin file tells the user where to look.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == file]
    where = f" (line {frames[-1].lineno})" if frames else ""
    if isinstance(exc, SyntaxError) and exc.lineno:
        where = f" (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def load_file(path: Path, registry: ToolRegistry) -> None:
    module_name = f"gogrid_plugin_{path.parent.name}_{path.stem}".replace("-", "_")
    target = path / "__init__.py" if path.is_dir() else path
    try:
        spec = importlib.util.spec_from_file_location(
            module_name, target, submodule_search_locations=[str(path)] if path.is_dir() else None
        )
        if spec is None or spec.loader is None:
            raise ImportError("not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        found = _tools_in(module)
    except Exception as e:
        sys.modules.pop(module_name, None)
        registry.problems.append(PluginProblem(str(target), _short_cause(e, str(target))))
        return
    for t in found:
        registry.add(t, str(target))


def load_folder(folder: Path, registry: ToolRegistry) -> None:
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.suffix == ".py" or (entry.is_dir() and (entry / "__init__.py").exists()):
            load_file(entry, registry)


def load_entry_points(registry: ToolRegistry) -> None:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {ep.name} ({ep.value})"
        try:
            found = _tools_in(ep.load())
        except Exception as e:
            registry.problems.append(PluginProblem(source, f"{type(e).__name__}: {e}{_where(e)}"))
            continue
        for t in found:
            registry.add(t, source)


def _where(exc: BaseException) -> str:
    """Where in the installed package it broke: the last frame outside the import machinery."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({exc.filename}:{exc.lineno})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<") and "importlib" not in f.filename]
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def load_plugins(folders: Iterable[Path], *, entry_points: bool = True) -> ToolRegistry:
    registry = ToolRegistry()
    seen: set[Path] = set()
    for folder in folders:
        resolved = folder.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        load_folder(resolved, registry)
    if entry_points:
        load_entry_points(registry)
    return registry
