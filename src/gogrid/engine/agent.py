"""The single-agent loop: call the model, run the tools it asks for, feed results back, until a
final answer, `max_turns`, a timeout or cancellation.

With an output schema, the final answer must be JSON that validates; on failure the model is
told what was wrong and asked again, a bounded number of times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import anyio
import jsonschema

from gogrid.engine.errors import MaxTurnsExceeded, OutputValidationError
from gogrid.events import MessagePosted, new_id
from gogrid.messages import Message, ModelRequest, ToolSpec
from gogrid.tools.base import Tool

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext
    from gogrid.models.registry import ModelHandle


@dataclass(eq=False)
class AgentWorkflow:
    name: str
    model: ModelHandle
    instructions: str = ""
    tools: dict[str, Tool] = field(default_factory=dict)
    max_turns: int = 10
    temperature: float | None = None
    max_tokens: int | None = None
    output_schema: dict[str, Any] | None = None
    output_retries: int = 2
    stream: bool = True
    tool_timeout: float | None = None
    pattern: str = "agent"
    _specs: list[ToolSpec] | None = None

    @property
    def model_label(self) -> str:
        return self.model.label

    def tool_specs(self) -> list[ToolSpec]:
        if self._specs is None:
            self._specs = [t.spec() for t in self.tools.values()]
        return self._specs

    def system_prompt(self) -> str:
        if self.output_schema is None:
            return self.instructions
        schema = json.dumps(self.output_schema, separators=(",", ":"))
        return f"{self.instructions}\n\nGive your final answer as one JSON object that validates against this JSON Schema, and nothing else:\n{schema}".strip()

    async def run(self, input: Any, ctx: RunContext) -> Any:
        """Run the loop, continuing `history` when a team or orchestrator passes one in."""
        text = input if isinstance(input, str) else json.dumps(input, default=str)
        messages: list[Message] = [Message("user", text)]
        self._post(ctx, messages[0])
        return await self.converse(messages, ctx)

    async def converse(self, messages: list[Message], ctx: RunContext) -> Any:
        gate = ctx.runtime.gate
        system = self.system_prompt()
        specs = self.tool_specs()
        retries_left = self.output_retries
        # Turns are numbered per node path across the whole run, so a node that runs again (a
        # team round, a graph loop, a retried stage) continues its numbering: call ids stay
        # unique and a sim script goes on to its next step.
        counters: dict[str, int] = ctx.scope.ancestors()[-1].state.setdefault("agent_turns", {})
        first = counters.get(ctx.path, 0)
        for turn in range(first + 1, first + self.max_turns + 1):
            counters[ctx.path] = turn
            ctx.scope.state["turns"] = turn - first
            req = ModelRequest(
                system=system, messages=messages, tools=specs, temperature=self.temperature,
                max_tokens=self.max_tokens, output_schema=self.output_schema, stream=self.stream,
                agent=self.name, turn=turn,
            )
            response = await ctx.call_model(self.model, req)
            reply = Message("assistant", response.text, response.tool_calls, name=self.name)
            messages.append(reply)
            self._post(ctx, reply)
            if response.tool_calls:
                results = await self._run_tools(ctx, gate, response.tool_calls)
                for m in results:
                    messages.append(m)
                    self._post(ctx, m)
                continue
            if self.output_schema is None:
                return response.text
            value, problem = validate_output(response.text, self.output_schema)
            if problem is None:
                return value
            if retries_left == 0:
                raise OutputValidationError(f"{ctx.path}: final answer does not match the output schema: {problem}")
            retries_left -= 1
            fix = Message("user", f"Your answer does not match the required JSON Schema: {problem}. Reply again with only a valid JSON object.")
            messages.append(fix)
            self._post(ctx, fix)
        raise MaxTurnsExceeded(f"{ctx.path}: max_turns ({self.max_turns}) reached without a final answer")

    async def _run_tools(self, ctx: RunContext, gate: Any, calls: list[Any]) -> list[Message]:
        if len(calls) == 1:
            return [await gate.call(ctx, calls[0], self.tools, timeout=self.tool_timeout)]
        results: list[Message | None] = [None] * len(calls)

        async def one(i: int) -> None:
            results[i] = await gate.call(ctx, calls[i], self.tools, timeout=self.tool_timeout)

        async with anyio.create_task_group() as tg:
            for i in range(len(calls)):
                tg.start_soon(one, i)
        return [r for r in results if r is not None]

    def _post(self, ctx: RunContext, m: Message) -> None:
        ctx.emit(MessagePosted(
            run_id=ctx.run_id, span_id=ctx.span_id, parent_span_id=ctx.scope.parent_span_id,
            message_id=new_id("m"), role=m.role, sender=self.name if m.role == "assistant" else (m.name or m.role),
            content=m.content, tool_call_id=m.tool_call_id,
            tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments if c.arguments is not None else c.raw_arguments} for c in m.tool_calls],
        ))


def validate_output(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """Parse and validate a structured answer. Returns (value, None) or (None, problem)."""
    candidate = text.strip()
    if candidate.startswith("```"):
        candidate = candidate.strip("`")
        candidate = candidate[candidate.find("\n") + 1 :] if "\n" in candidate else candidate
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as e:
        return None, f"not valid JSON ({e.msg} at position {e.pos})"
    problem = check_schema(value, schema)
    return (value, None) if problem is None else (None, problem)


def check_schema(value: Any, schema: dict[str, Any]) -> str | None:
    """The first way `value` breaks `schema` (JSON Schema, draft 2020-12), or None."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"{where}: {error.message}"


@lru_cache(maxsize=128)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json))
