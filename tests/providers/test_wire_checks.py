"""The loopback servers are only worth something if they reject what the real APIs reject."""

from __future__ import annotations

from providers.wire import SCHEMAS, anthropic_problems, gemini_problems, openai_problems


def test_the_official_schemas_are_there() -> None:
    for name in ("openai_chat.schema.json", "anthropic_messages.schema.json", "gemini_v1beta.descriptors.json"):
        assert (SCHEMAS / name).exists(), name


def test_openai_checks() -> None:
    good = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert openai_problems(good) == []
    assert openai_problems({"model": "m", "messages": []})  # minItems 1
    assert openai_problems({"model": "m", "messages": [{"role": "robot", "content": "hi"}]})
    assert openai_problems({"model": "m", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema"}})
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
    unanswered = {"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                                             {"role": "user", "content": "y"}]}
    assert any("not answered" in p for p in openai_problems(unanswered))
    twice = {"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                                        {"role": "tool", "tool_call_id": "c1", "content": "1"}, {"role": "tool", "tool_call_id": "c1", "content": "1"}]}
    assert any("no pending" in p for p in openai_problems(twice))


def test_anthropic_checks() -> None:
    good = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    assert anthropic_problems(good) == []
    assert anthropic_problems({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]})  # max_tokens required
    assert anthropic_problems({**good, "temperature_typo": 1})  # closed to extra keys
    empty_text = {**good, "messages": [{"role": "user", "content": [{"type": "text", "text": " "}]}]}
    assert any("non-whitespace" in p for p in anthropic_problems(empty_text))
    use = {"type": "tool_use", "id": "t1", "name": "add", "input": {}}
    missing = {**good, "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": [use]},
                                    {"role": "user", "content": [{"type": "text", "text": "y"}]}]}
    assert any("tool_result" in p for p in anthropic_problems(missing))


def test_gemini_checks() -> None:
    good = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert gemini_problems(good) == []
    assert any("Unknown name" in p for p in gemini_problems({"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]}))
    assert gemini_problems({"contents": [{"role": "user", "parts": [{"text": "a", "functionCall": {"name": "f"}}]}]})  # oneof
    assert gemini_problems({"contents": [{"role": "assistant", "parts": [{"text": "a"}]}]})
    decl_without_description = {**good, "tools": [{"functionDeclarations": [{"name": "f"}]}]}
    assert any("description" in p for p in gemini_problems(decl_without_description))
    unanswered = {"contents": [{"role": "user", "parts": [{"text": "x"}]}, {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                               {"role": "user", "parts": [{"text": "y"}]}]}
    assert any("functionResponse" in p for p in gemini_problems(unanswered))
