"""The field tables of docs/manifest.md, generated from the pydantic models themselves.

    python -m gogrid.config.reference docs/manifest.md     # rewrite the generated part
    python -m gogrid.config.reference --check docs/manifest.md

Only the text between the BEGIN/END markers is generated; the prose around it is written by hand.
A test checks that the file matches the schema, so the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

# Meanings for fields whose models carry no description of their own (the simulated model's
# settings and script steps live with the model, which is documented here).
NOTES: dict[tuple[str, str], str] = {
    ("SimSettings", "seed"): "makes every answer, pick and latency reproducible",
    ("SimSettings", "latency_ms"): "per call: [min, max] milliseconds drawn uniformly, or one number",
    ("SimSettings", "answer_words"): "about how long a final answer is",
    ("SimSettings", "malformed_rate"): "chance that a tool turn sends unparseable arguments",
    ("SimSettings", "refusal_rate"): "chance of refusing instead of answering",
    ("SimSettings", "error_rate"): "chance of a simulated HTTP 503",
    ("SimSettings", "stream_chunk_words"): "words per streamed delta",
    ("SimSettings", "script"): "steps for every agent on this model (an agent's own `script:` wins)",
    ("SimStep", "say"): "reply with this text (the final answer)",
    ("SimStep", "tool"): "call this tool (arguments from `args`, else generated from its schema)",
    ("SimStep", "args"): "arguments for `tool`",
    ("SimStep", "tools"): "several calls in one turn: a list of {name, args}",
    ("SimStep", "malformed"): "call this tool with unparseable JSON arguments",
    ("SimStep", "refuse"): "refuse with this text",
    ("SimStep", "long"): "reply with about this many words",
    ("SimStep", "json"): "reply with this value as JSON (structured output)",
    ("SimStep", "choose"): "reply with this option (routers, votes)",
    ("SimStep", "error"): "fail with this HTTP status",
    ("SimStep", "latency_ms"): "this turn's latency",
}

BEGIN = "<!-- BEGIN GENERATED FIELDS (python -m gogrid.config.reference docs/manifest.md) -->"
END = "<!-- END GENERATED FIELDS -->"


def sections() -> list[tuple[str, str, type[BaseModel]]]:
    """(heading, where it appears in a manifest, model) in reading order."""
    from gogrid.config.schema import AgentDef, Manifest, ModelDef, PriceOverride
    from gogrid.models.sim import SimSettings, SimStep

    out: list[tuple[str, str, type[BaseModel]]] = [
        ("Top level", "the file itself", Manifest),
        ("Models", "`models.<key>`", ModelDef),
        ("Prices", "`models.<key>.price`", PriceOverride),
        ("Simulated model settings", "`models.<key>.settings` of a `sim/...` model", SimSettings),
        ("Agents", "`agents.<name>`", AgentDef),
        ("Script steps", "`agents.<name>.script[i]` (sim models only); a plain string is `say:`", SimStep),
    ]
    seen = {id(m) for _, _, m in out}
    for model in _nested(Manifest):
        if id(model) not in seen:
            seen.add(id(model))
            out.append((_title(model), "", model))
    return out


def _nested(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """Every model reachable from `model`'s fields, depth first, each once."""
    seen: set[int] = set()

    def walk(m: type[BaseModel]) -> Iterator[type[BaseModel]]:
        for f in m.model_fields.values():
            for inner in _models_in(f.annotation):
                if id(inner) not in seen:
                    seen.add(id(inner))
                    yield inner
                    yield from walk(inner)

    yield from walk(model)


def _models_in(tp: Any) -> Iterator[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
        return
    for arg in typing.get_args(tp):
        yield from _models_in(arg)


def _title(model: type[BaseModel]) -> str:
    name = model.__name__
    for suffix in ("Spec", "Def"):
        name = name.removesuffix(suffix)
    return f"`{model.__name__}`" if not name else f"{name} (`{model.__name__}`)"


def type_name(tp: Any) -> str:
    """A short, readable type: `str | None`, `list[str]`, `dict[str, AgentDef]`, `"a" | "b"`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "null"
    if tp is Any:
        return "any"
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in args)
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(type_name(a) for a in args)
    if origin in (list, tuple, dict, set):
        inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        return f"{origin.__name__}[{inner}]" if args else origin.__name__
    if isinstance(tp, type) and issubclass(tp, Enum):
        return " | ".join(f'"{m.value}"' for m in tp)
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def default_text(f: FieldInfo) -> str:
    if f.is_required():
        return "**required**"
    if f.default_factory is not None:
        value = f.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(defaults of its fields)"
        return f"`{_yaml(value)}`"
    if f.default is PydanticUndefined or f.default is None:
        return "-"
    return f"`{_yaml(f.default)}`"


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _constraints(f: FieldInfo) -> str:
    out = []
    for meta in f.metadata:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("min_length", "min length"), ("max_length", "max length")):
            v = getattr(meta, attr, None)
            if v is not None:
                out.append(f"{sign} {v}")
    return f" ({', '.join(out)})" if out else ""


def table(model: type[BaseModel]) -> str:
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, f in model.model_fields.items():
        key = f.alias or name
        desc = (f.description or NOTES.get((model.__name__, name), "")).replace("|", "\\|").replace("\n", " ")
        typ = type_name(f.annotation).replace("|", "\\|")
        rows.append(f"| `{key}` | {typ}{_constraints(f)} | {default_text(f)} | {desc} |")
    return "\n".join(rows)


def render() -> str:
    parts = [BEGIN, ""]
    for heading, where, model in sections():
        parts.append(f"### {heading}")
        parts.append("")
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        intro = " ".join(p for p in (f"Appears at {where}." if where else "", doc) if p)
        if intro:
            parts += [intro, ""]
        parts += [table(model), ""]
    parts.append(END)
    return "\n".join(parts)


def splice(text: str, generated: str, begin: str = BEGIN, end: str = END) -> str:
    """`text` with the part from `begin` to `end` replaced by `generated` (which holds both)."""
    if begin not in text or end not in text:
        raise ValueError(f"markers not found; the file needs the lines\n{begin}\n{end}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + generated + tail


def regenerate(argv: list[str] | None, *, description: str, module: str, generated: Callable[[], str], begin: str = BEGIN, end: str = END) -> int:
    """The command line of a generated reference: rewrite FILE's generated part, or with
    `--check` exit 1 when it is out of date."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("file", type=Path)
    p.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    args = p.parse_args(argv)
    text = args.file.read_text(encoding="utf-8")
    updated = splice(text, generated(), begin, end)
    if args.check:
        if updated != text:
            print(f"{args.file} is out of date; run: python -m {module} {args.file}", file=sys.stderr)
            return 1
        return 0
    args.file.write_text(updated, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    return regenerate(argv, description="Regenerate the field tables of the manifest reference.", module="gogrid.config.reference", generated=render)


if __name__ == "__main__":
    sys.exit(main())
