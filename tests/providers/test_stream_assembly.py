"""Stream assembly details that the loopback servers do not exercise."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from gogrid.config.schema import ModelDef
from gogrid.models.http_stream import StreamState, sse_events
from gogrid.models.openai import build


def _chunk(tool_calls: list[dict[str, Any]]) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": tool_calls}, "finish_reason": None}]})


def test_openai_fragments_without_index_are_told_apart_by_id() -> None:
    model = build("llama3.2", ModelDef(model="openai/llama3.2", base_url="http://127.0.0.1:9/v1"))
    state = StreamState()
    for frag in (
        {"id": "a", "type": "function", "function": {"name": "add", "arguments": '{"a": 1,'}},
        {"function": {"arguments": ' "b": 2}'}},
        {"id": "b", "type": "function", "function": {"name": "add", "arguments": '{"a": 3, "b": 4}'}},
    ):
        model.feed(state, "message", _chunk([frag]))
    calls = state.tool_calls()
    assert [(c.id, c.arguments) for c in calls] == [("a", {"a": 1, "b": 2}), ("b", {"a": 3, "b": 4})]


def test_bad_tool_arguments_are_kept_for_the_agent_to_report() -> None:
    model = build("gpt-4o-mini", ModelDef(model="openai/gpt-4o-mini", base_url="http://127.0.0.1:9/v1"))
    state = StreamState()
    model.feed(state, "message", _chunk([{"index": 0, "id": "x", "function": {"name": "add", "arguments": '{"a": 1'}}]))
    (call,) = state.tool_calls()
    assert call.arguments is None and call.raw_arguments == '{"a": 1' and "not valid JSON" in (call.parse_error or "")


def test_sse_parsing_follows_the_spec() -> None:
    lines = [": comment", "event: message_start", "data: {\"a\":", "data: 1}", "", "data:x", "", "data: [cut"]

    async def go() -> list[tuple[str, str]]:
        async def source() -> AsyncIterator[str]:
            for line in lines:
                yield line

        return [e async for e in sse_events(source())]

    # Multi-line data joins with a newline; an event still open at the end is dropped.
    assert anyio.run(go) == [("message_start", '{"a":\n1}'), ("message", "x")]


def test_the_configured_max_tokens_is_sent_when_the_agent_sets_none(monkeypatch: pytest.MonkeyPatch) -> None:
    from gogrid.messages import Message, ModelRequest
    from gogrid.models.gemini import build as build_gemini

    monkeypatch.setenv("GOGRID_TEST_GEMINI_KEY", "k")
    req = ModelRequest(system="", messages=[Message("user", "hi")])
    openai = build("m", ModelDef(model="openai/m", base_url="http://127.0.0.1:9/v1", settings={"max_tokens": 300}))
    assert openai.body(req)["max_tokens"] == 300
    req.max_tokens = 50
    assert openai.body(req)["max_tokens"] == 50
    gemini = build_gemini("g", ModelDef(model="gemini/g", base_url="http://127.0.0.1:9", api_key_env="GOGRID_TEST_GEMINI_KEY", settings={"max_tokens": 300}))
    assert gemini.body(req)["generationConfig"]["maxOutputTokens"] == 50
