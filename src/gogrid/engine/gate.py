"""The tool gate: every tool call in the engine passes through here, never around it.

In order: the tool must exist and be granted to the agent; the arguments must have parsed and
must validate; every policy (authorization, approvals, guards) must allow it; then it runs under
its timeout. Any failure becomes an error result the model reads, never a crashed run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio

from gogrid.events import GuardEvent, ToolCallFinished, ToolCallStarted, new_id
from gogrid.messages import Message, ToolCall
from gogrid.tools.base import Tool, ToolArgumentError, ToolContext

if TYPE_CHECKING:
    from gogrid.engine.context import RunContext

MAX_RESULT_CHARS = 20_000


@dataclass(slots=True)
class Decision:
    allow: bool
    reason: str = ""
    guard: str = ""


# A policy sees the call before it runs and may refuse it. Security features register here.
Policy = Callable[["RunContext", Tool, dict[str, Any]], Awaitable[Decision | None]]


@dataclass(slots=True)
class ToolOutcome:
    status: Literal["ok", "error", "timeout", "denied", "invalid", "cancelled"]
    content: str
    result: Any = None


class ToolGate:
    def __init__(self, policies: list[Policy] | None = None) -> None:
        self.policies: list[Policy] = list(policies or [])

    async def call(self, ctx: RunContext, call: ToolCall, granted: dict[str, Tool], *, timeout: float | None = None) -> Message:
        """Run one requested tool call and return the tool message for the conversation."""
        span_id = new_id("s")
        common: dict[str, Any] = {"run_id": ctx.run_id, "span_id": span_id, "parent_span_id": ctx.span_id}
        call_id = f"{ctx.path}#{call.id}"
        agent = ctx.scope.name
        ctx.emit(ToolCallStarted(call_id=call_id, agent=agent, tool=call.name, arguments=call.arguments if call.arguments is not None else call.raw_arguments, **common))
        started = time.perf_counter()
        try:
            outcome = await self._run(ctx, call, granted, timeout, call_id, common)
        except anyio.get_cancelled_exc_class():
            ctx.emit(ToolCallFinished(call_id=call_id, agent=agent, tool=call.name, status="cancelled", error="cancelled", duration_s=time.perf_counter() - started, **common))
            raise
        ctx.emit(ToolCallFinished(
            call_id=call_id, agent=agent, tool=call.name, status=outcome.status,
            result=outcome.result if outcome.status == "ok" else None,
            error=None if outcome.status == "ok" else outcome.content,
            duration_s=time.perf_counter() - started, **common,
        ))
        return Message("tool", outcome.content, tool_call_id=call.id, name=call.name, is_error=outcome.status != "ok")

    async def _run(self, ctx: RunContext, call: ToolCall, granted: dict[str, Tool], timeout: float | None, call_id: str, common: dict[str, Any]) -> ToolOutcome:
        tool = granted.get(call.name)
        if tool is None:
            names = ", ".join(sorted(granted)) or "none"
            return ToolOutcome("denied", f"error: tool {call.name!r} is not available to this agent (available: {names})")
        if call.arguments is None:
            return ToolOutcome("invalid", f"error: arguments for {call.name} are not valid JSON ({call.parse_error or 'unparseable'}); send a JSON object matching the schema")
        try:
            args = tool.validate(call.arguments)
        except ToolArgumentError as e:
            return ToolOutcome("invalid", f"error: {e}")
        for policy in self.policies:
            decision = await policy(ctx, tool, args)
            if decision is None:
                continue
            ctx.emit(GuardEvent(guard=decision.guard or "policy", action="allow" if decision.allow else "deny", tool=tool.name, detail=decision.reason, **common))
            if not decision.allow:
                return ToolOutcome("denied", f"error: call to {tool.name} denied: {decision.reason}")
        limit = timeout if timeout is not None else tool.timeout
        tctx = ToolContext(run_id=ctx.run_id, agent=ctx.scope.name, call_id=call_id, workspace=ctx.runtime.workspace)
        try:
            if limit is None:
                result = await tool.invoke(args, tctx)
            else:
                # A bare deadline scope: fail_after's generator wrapper costs more than the call.
                with anyio.CancelScope(deadline=anyio.current_time() + limit) as deadline:
                    result = await tool.invoke(args, tctx)
                if deadline.cancelled_caught:
                    return ToolOutcome("timeout", f"error: {tool.name} timed out after {limit:g}s")
        except Exception as e:
            return ToolOutcome("error", f"error: {tool.name} failed: {type(e).__name__}: {e}")
        return ToolOutcome("ok", render_result(result), result=_json_safe(result))


def render_result(result: Any) -> str:
    text = result if isinstance(result, str) else json.dumps(result, default=str, ensure_ascii=False)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"... [truncated {len(text) - MAX_RESULT_CHARS} characters]"
    return text


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value if not isinstance(value, str) or len(value) <= MAX_RESULT_CHARS else value[:MAX_RESULT_CHARS]
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)
