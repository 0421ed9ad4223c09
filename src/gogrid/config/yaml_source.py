"""YAML to plain Python objects, remembering where every value came from.

PyYAML's composer gives nodes with positions; we build the data ourselves so that each field path
maps to a line and column, reject duplicate keys, and substitute `${VAR}` / `${VAR:-default}` in
strings (a `$${` stays a literal `${`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from gogrid.config.errors import ManifestIssue

Path_ = tuple[str | int, ...]
_VAR = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


@dataclass
class SourceMap:
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_) -> tuple[int | None, int | None]:
        """Line and column of a field, or of its nearest ancestor that exists in the file."""
        p = tuple(path)
        while True:
            if p in self.positions:
                return self.positions[p]
            if not p:
                return None, None
            p = p[:-1]


class _Builder:
    def __init__(self, file: str, env: Mapping[str, str]) -> None:
        self.map = SourceMap(file)
        self.env = env
        self.issues: list[ManifestIssue] = []
        self.loader = yaml.SafeLoader("")  # resolves a scalar's tag (int, bool, null...) to a value

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.map.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value if isinstance(key_node, yaml.ScalarNode) else "?")
                if key in out:
                    self._issue(key_node, (*path, key), f"duplicate key {key!r}")
                    continue
                out[key] = self.build(value_node, (*path, key))
                # A key's own position is more useful than its value's for "unknown key" errors.
                self.map.positions[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        try:
            value = self.loader.construct_object(node)
        except yaml.YAMLError as e:  # a tag the safe loader refuses (!!python/..., !custom)
            problem = getattr(e, "problem", None) or str(e)
            self._issue(node, path, f"unsupported YAML value: {problem}; use plain strings, numbers, lists and mappings")
            return None
        if isinstance(value, str) and "${" in value:
            value = self._substitute(value, node, path)
        return value

    def _substitute(self, text: str, node: yaml.Node, path: Path_) -> str:
        def repl(m: re.Match[str]) -> str:
            escaped, name, default = m.group(1), m.group(2), m.group(3)
            if escaped:
                return m.group(0)[1:]
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            self._issue(node, path, f"environment variable ${{{name}}} is not set (use ${{{name}:-default}} for a default)")
            return ""

        return _VAR.sub(repl, text)

    def _issue(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.issues.append(
            ManifestIssue(self.map.file, node.start_mark.line + 1, node.start_mark.column + 1, dotted(path), message)
        )


def dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def load_yaml(text: str, file: str, env: Mapping[str, str] | None = None) -> tuple[Any, SourceMap, list[ManifestIssue]]:
    """Parse YAML text. Returns the data, where each field came from, and any problems found."""
    builder = _Builder(file, os.environ if env is None else env)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = e.problem or "invalid YAML"
        if e.context:
            problem = f"{e.context}, {problem}"
        return None, builder.map, [ManifestIssue(file, line, col, "", f"invalid YAML: {problem}")]
    except yaml.YAMLError as e:
        return None, builder.map, [ManifestIssue(file, None, None, "", f"invalid YAML: {e}")]
    if node is None:
        return None, builder.map, [ManifestIssue(file, 1, 1, "", "the manifest is empty; expected a mapping with 'version: 1'")]
    data = builder.build(node, ())
    return data, builder.map, builder.issues
