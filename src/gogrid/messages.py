"""Provider-neutral conversation types: what an agent sends to a model and gets back.

These are internal hand-offs on the hot path, so they are slotted dataclasses, not validated
models: validation happens at the edges (manifest load, provider responses, tool arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
CountKind = Literal["exact", "counted", "estimated"]


@dataclass(slots=True)
class ToolCall:
    """A tool call requested by a model. `arguments` is the parsed object, or None when the raw
    text did not parse (then `raw_arguments` holds it and `parse_error` says why)."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str = ""
    parse_error: str | None = None


@dataclass(slots=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # for role == "tool"
    name: str | None = None  # tool name for role == "tool"; speaker for team messages
    is_error: bool = False  # a tool result that reports a failure


@dataclass(slots=True)
class ToolSpec:
    """What a model is told about a tool."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    # exact: reported by the provider; counted: counted here with tiktoken; estimated: a guess.
    count: CountKind = "exact"
    # Part of input_tokens written to a provider's prompt cache (Anthropic bills it above input).
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class ModelRequest:
    system: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    output_schema: dict[str, Any] | None = None
    stream: bool = False
    # Who is asking: lets the simulated model follow a per-agent script and stay deterministic.
    agent: str = ""
    turn: int = 0
    call_id: str = ""


@dataclass(slots=True)
class ModelResponse:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    provider: str = ""
    model: str = ""
    attempts: int = 1
    refusal: bool = False
