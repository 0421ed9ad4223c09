"""Server-sent event streams: parsing them, and assembling what a model streams (text pieces,
tool-call arguments in fragments, usage) into one response."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from gogrid.messages import ModelResponse, ToolCall, Usage
from gogrid.models.base import DeltaHook


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream. An event still open when the stream
    ends is dropped, as the SSE spec says: it may be cut in half."""
    event, data = "", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)


@dataclass
class StreamState:
    """What a stream has delivered so far. Providers feed it; it assembles text and tool calls
    (argument fragments by index) and keeps the usage the provider reported."""

    on_delta: DeltaHook | None = None
    text: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    usage: Usage | None = None
    finish_reason: str | None = None
    done: bool = False

    def add_text(self, piece: str) -> None:
        if piece:
            self.text.append(piece)
            if self.on_delta is not None:
                self.on_delta(piece)

    def call(self, index: int) -> dict[str, Any]:
        return self.calls.setdefault(index, {"id": "", "name": "", "args": []})

    @property
    def delivered(self) -> bool:
        return bool(self.text or self.calls)

    def tool_calls(self) -> list[ToolCall]:
        return [parse_tool_call(c["id"], c["name"], "".join(c["args"])) for _, c in sorted(self.calls.items())]

    def response(self) -> ModelResponse:
        return ModelResponse(
            text="".join(self.text), tool_calls=self.tool_calls(),
            usage=self.usage or Usage(count="estimated"), finish_reason=self.finish_reason,
        )


def parse_tool_call(call_id: str, name: str, raw: str) -> ToolCall:
    """A tool call whose arguments arrived as JSON text; bad JSON is kept for the agent loop to
    report back to the model rather than raised here."""
    text = raw.strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return ToolCall(call_id, name, None, raw, f"arguments are not valid JSON: {e.msg} at position {e.pos}")
    if not isinstance(value, dict):
        return ToolCall(call_id, name, None, raw, "arguments are not a JSON object")
    return ToolCall(call_id, name, value, raw)
