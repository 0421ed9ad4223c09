"""Load a manifest file: YAML with positions, then pydantic validation, then cross-references.

Every problem becomes a ManifestIssue with file, line, column, field path and what was expected.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gogrid.config.errors import ManifestError, ManifestIssue
from gogrid.config.schema import Manifest
from gogrid.config.yaml_source import Path_, SourceMap, dotted, load_yaml


@dataclass
class LoadedManifest:
    manifest: Manifest
    path: Path
    source: SourceMap

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def issue(self, path: Path_, message: str) -> ManifestIssue:
        line, col = self.source.locate(path)
        return ManifestIssue(str(self.path), line, col, dotted(path), message)


# Cross-reference checks (unknown agent, unknown tool, unknown provider, graph shape...) register
# here; each yields issues for a loaded manifest given what the runtime knows.
Check = Callable[[LoadedManifest, "CheckContext"], Iterable[ManifestIssue]]
CHECKS: list[Check] = []


@dataclass
class CheckContext:
    tools: set[str]
    providers: set[str]


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def parse_manifest(text: str, file: str, *, env: Mapping[str, str] | None = None) -> LoadedManifest:
    data, source, issues = load_yaml(text, file, env)
    if issues and data is None:
        raise ManifestError(issues)
    if not isinstance(data, dict):
        raise ManifestError([ManifestIssue(file, 1, 1, "", f"expected a mapping at the top level, got {type(data).__name__}")])
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as e:
        issues.extend(_from_validation(e, source))
        raise ManifestError(_dedupe(issues)) from None
    if issues:
        raise ManifestError(issues)
    return LoadedManifest(manifest, Path(file), source)


def load_manifest(path: str | Path, *, env: Mapping[str, str] | None = None) -> LoadedManifest:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError([ManifestIssue(str(p), None, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError([ManifestIssue(str(p), None, None, "", f"cannot read: {e}")]) from None
    return parse_manifest(text, str(p), env=env)


def run_checks(loaded: LoadedManifest, ctx: CheckContext) -> None:
    """Cross-reference checks; raises ManifestError listing every problem found."""
    issues = [i for c in CHECKS for i in c(loaded, ctx)]
    if issues:
        raise ManifestError(_dedupe(issues))


def did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- pydantic errors -> issues -------------------------------------------------------------------


def _from_validation(err: ValidationError, source: SourceMap) -> list[ManifestIssue]:
    out = []
    for e in err.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and _is_union_tag(p)))
        line, col = source.locate(loc)
        typ = e["type"]
        if typ == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            fields = _fields_at(Manifest, loc[:-1])
            msg = f"unknown key {key!r}{did_you_mean(key, fields)}"
            if fields and not did_you_mean(key, fields):
                msg += f"; expected one of: {', '.join(sorted(fields))}"
        elif typ == "missing":
            msg = "required field is missing"
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            if typ not in ("value_error", "assertion_error") and "input" in e and not isinstance(e["input"], dict | list):
                msg += f" (got {e['input']!r})"
        out.append(ManifestIssue(source.file, line, col, dotted(loc), msg))
    return out


def _is_union_tag(p: str) -> bool:
    # pydantic adds the member type to the location of union errors ("str", "list[str]", ...).
    return p in ("str", "int", "float", "bool") or "[" in p or p.startswith("function-")


def _fields_at(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `loc` down from `model`, for 'did you mean'."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = typing.get_args(current)
            current = args[-1] if args else None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """The first pydantic model inside Optional/Union, else the type itself."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        for a in typing.get_args(tp):
            if isinstance(a, type) and issubclass(a, BaseModel):
                return a
        for a in typing.get_args(tp):
            if a is not type(None):
                return a
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    return tp


def _dedupe(issues: list[ManifestIssue]) -> list[ManifestIssue]:
    seen, out = set(), []
    for i in issues:
        if (i.line, i.field, i.message) not in seen:
            seen.add((i.line, i.field, i.message))
            out.append(i)
    return out
