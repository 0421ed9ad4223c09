"""Anthropic Messages API (`/v1/messages`), plain and streamed.

The API is stricter than Chat Completions about conversation shape: roles alternate, tool
results go back as `tool_result` blocks in the next user turn, and text blocks are never empty.
`_messages` folds the provider-neutral history into that shape.
"""

from __future__ import annotations

import json
from typing import Any

from gogrid.config.schema import ModelDef
from gogrid.messages import Message, ModelRequest, ModelResponse, Usage
from gogrid.models.http import HttpConfig, HttpModel, StreamState, http_config

DEFAULT_BASE = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
EXTRA_SETTINGS = {"api_version": f"the anthropic-version header (default {API_VERSION})"}
# Retryable error types an Anthropic stream can carry in an `error` event.
_RETRYABLE_TYPES = {"overloaded_error", "rate_limit_error", "api_error", "timeout_error"}


class AnthropicModel(HttpModel):
    provider = "anthropic"

    def __init__(self, name: str, cfg: HttpConfig) -> None:
        super().__init__(name, cfg)
        self.default_max_tokens = cfg.max_tokens or 4096  # required by the API
        self.api_version = str(cfg.extra.get("api_version", API_VERSION))

    def url(self, req: ModelRequest) -> str:
        base = self.cfg.base_url
        return f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key}

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "anthropic-version": self.api_version}

    def body(self, req: ModelRequest) -> dict[str, Any]:
        system = [req.system] if req.system else []
        system += [m.content for m in req.messages if m.role == "system" and m.content]
        body: dict[str, Any] = {
            "model": self.name,
            "max_tokens": req.max_tokens or self.default_max_tokens,
            "messages": _messages([m for m in req.messages if m.role != "system"]),
        }
        if system:
            body["system"] = "\n\n".join(system)
        if req.tools:
            body["tools"] = [{"name": t.name, "description": t.description, "input_schema": _object_schema(t.parameters)} for t in req.tools]
        if req.temperature is not None:
            body["temperature"] = min(req.temperature, 1.0)  # Anthropic's range is 0..1
        if req.output_schema is not None and self.cfg.structured_output == "native":
            body["output_config"] = {"format": {"type": "json_schema", "schema": req.output_schema}}
        if req.stream:
            body["stream"] = True
        return body

    def parse(self, data: dict[str, Any]) -> ModelResponse:
        state = StreamState()
        for i, block in enumerate(data["content"]):
            if block["type"] == "text":
                state.add_text(block["text"])
            elif block["type"] == "tool_use":
                call = state.call(i)
                call.update(id=block["id"], name=block["name"])
                call["args"].append(json.dumps(block.get("input") or {}))
        state.usage = _usage(data.get("usage") or {})
        state.finish_reason = data.get("stop_reason")
        response = state.response()
        response.refusal = data.get("stop_reason") == "refusal"
        return response

    def feed(self, state: StreamState, event: str, data: str) -> None:
        payload = json.loads(data)
        kind = payload.get("type", event)
        if kind == "message_start":
            state.usage = _usage(payload["message"].get("usage") or {})
        elif kind == "content_block_start":
            block = payload["content_block"]
            if block["type"] == "tool_use":
                call = state.call(int(payload["index"]))
                call.update(id=block["id"], name=block["name"])
                if block.get("input"):
                    call["args"].append(json.dumps(block["input"]))
            elif block["type"] == "text":
                state.add_text(block.get("text") or "")
        elif kind == "content_block_delta":
            delta = payload["delta"]
            if delta["type"] == "text_delta":
                state.add_text(delta["text"])
            elif delta["type"] == "input_json_delta":
                state.call(int(payload["index"]))["args"].append(delta.get("partial_json") or "")
        elif kind == "message_delta":
            state.finish_reason = (payload.get("delta") or {}).get("stop_reason") or state.finish_reason
            usage = payload.get("usage") or {}
            if state.usage is not None and "output_tokens" in usage:
                state.usage.output_tokens = int(usage["output_tokens"])
        elif kind == "message_stop":
            state.done = True
        elif kind == "error":
            err = payload.get("error") or {}
            retryable = err.get("type") in _RETRYABLE_TYPES
            raise self.error(f"stream error: {err.get('message', data)} ({err.get('type', 'error')})", retryable=retryable, status=529 if err.get("type") == "overloaded_error" else None)


def _object_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    return parameters if parameters.get("type") == "object" else {"type": "object", "properties": {}}


def _messages(history: list[Message]) -> list[dict[str, Any]]:
    """Alternating user/assistant turns; consecutive same-role pieces merge into one turn."""
    out: list[dict[str, Any]] = []

    def push(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for m in history:
        if m.role == "tool":
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content or "(no output)"}
            if m.is_error:
                block["is_error"] = True
            push("user", [block])
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content.strip() else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments or {}} for c in m.tool_calls]
            push("assistant", blocks)
        else:
            push("user", [{"type": "text", "text": m.content}] if m.content.strip() else [])
    # Tool results must come first in their user turn (the API rejects text before them).
    for turn in out:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": "(continue)"}]})
    return out


def _usage(u: dict[str, Any]) -> Usage:
    """Anthropic reports uncached input apart from cache reads and writes; Usage counts all
    input in `input_tokens`, with `cached_tokens` read from the cache and `cache_write_tokens`
    written to it."""
    fresh = int(u.get("input_tokens") or 0)
    read = int(u.get("cache_read_input_tokens") or 0)
    write = int(u.get("cache_creation_input_tokens") or 0)
    return Usage(fresh + read + write, int(u.get("output_tokens") or 0), read, cache_write_tokens=write)


def build(name: str, mdef: ModelDef) -> AnthropicModel:
    cfg = http_config(
        "anthropic", name, mdef, default_base=DEFAULT_BASE, base_env="ANTHROPIC_BASE_URL",
        key_envs=["ANTHROPIC_API_KEY"], key_required=True, extra_settings=EXTRA_SETTINGS,
    )
    return AnthropicModel(name, cfg)
