"""`@tool`: a typed Python function (sync or async) becomes a tool a model can call.

The JSON Schema comes from the type hints, descriptions from the docstring (`Args:` section).
Arguments are validated before the call; the engine's tool gate is the only caller.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import anyio
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from gogrid.messages import ToolSpec


@dataclass(slots=True)
class ToolContext:
    """What a tool may know about its caller. A tool asks for it with a parameter annotated
    `ToolContext`; it is never part of the schema the model sees."""

    run_id: str
    agent: str
    call_id: str
    workspace: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class ToolArgumentError(ValueError):
    """Arguments that do not fit the tool's schema; the message goes back to the model."""


@dataclass(eq=False)
class Tool:
    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    timeout: float | None = 30.0
    requires_approval: bool = False
    source: str = ""  # file or entry point it came from, for `gogrid plugins`
    context_param: str | None = None
    _schema: dict[str, Any] | None = None
    _is_async: bool | None = None

    @property
    def is_async(self) -> bool:
        if self._is_async is None:  # inspect is slow, and this is asked on every call
            self._is_async = inspect.iscoroutinefunction(self.fn)
        return self._is_async

    @property
    def parameters(self) -> dict[str, Any]:
        if self._schema is None:
            schema = self.args_model.model_json_schema()
            schema.pop("title", None)
            for prop in schema.get("properties", {}).values():
                prop.pop("title", None)
            self._schema = schema
        return self._schema

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def validate(self, arguments: dict[str, Any] | None) -> dict[str, Any]:
        try:
            model = self.args_model.model_validate(arguments or {})
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in e.errors(include_url=False)
            )
            raise ToolArgumentError(f"invalid arguments for {self.name}: {problems}") from None
        return {k: getattr(model, k) for k in self.args_model.model_fields}

    async def invoke(self, arguments: dict[str, Any], ctx: ToolContext | None = None) -> Any:
        """Call with already validated arguments. Sync functions run in a worker thread so a slow
        tool never blocks the event loop."""
        kwargs = dict(arguments)
        if self.context_param is not None:
            kwargs[self.context_param] = ctx
        if self.is_async:
            return await self.fn(**kwargs)
        return await anyio.to_thread.run_sync(lambda: self.fn(**kwargs), abandon_on_cancel=True)


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = 30.0,
    requires_approval: bool = False,
) -> Any:
    """Decorator: `@tool` or `@tool(name=..., timeout=...)`."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return make_tool(f, name=name, description=description, timeout=timeout, requires_approval=requires_approval)

    return wrap(fn) if fn is not None else wrap


def make_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = 30.0,
    requires_approval: bool = False,
) -> Tool:
    summary, arg_docs = parse_docstring(inspect.getdoc(fn) or "")
    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    context_param = None
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {fn.__name__}: *args/**kwargs are not supported")
        annotation = hints.get(pname, Any)
        if annotation is ToolContext:
            context_param = pname
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        from pydantic import Field

        fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
    args_model = create_model(
        f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields
    )
    return Tool(
        name=name or fn.__name__,
        description=description or summary or fn.__name__.replace("_", " "),
        fn=fn,
        args_model=args_model,
        timeout=timeout,
        requires_approval=requires_approval,
        source=getattr(fn, "__module__", ""),
        context_param=context_param,
    )


_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (text before `Args:`) and per-argument descriptions (Google style)."""
    summary_lines: list[str] = []
    args: dict[str, str] = {}
    section = None
    current = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            section = "args"
            continue
        if stripped.lower() in ("returns:", "raises:", "yields:", "examples:", "example:"):
            section = "other"
            continue
        if section is None:
            summary_lines.append(stripped)
        elif section == "args":
            m = _ARG_LINE.match(line)
            if m and (line.startswith("    ") or not line.startswith(" ")) and not line.startswith("        "):
                current = m.group(1)
                args[current] = m.group(2).strip()
            elif current and stripped:
                args[current] = (args[current] + " " + stripped).strip()
    summary = " ".join(s for s in summary_lines if s).strip()
    return summary, args
