"""OpenAI Chat Completions, and every server that speaks it (Ollama, vLLM, llama.cpp server,
LM Studio, OpenRouter, Groq, Together, DeepSeek, Mistral...): point `base_url` at it.

    models:
      local: {model: openai/llama3.2, base_url: http://localhost:11434/v1}
"""

from __future__ import annotations

import json
import os
from typing import Any

from gogrid.config.schema import ModelDef
from gogrid.messages import Message, ModelRequest, ModelResponse, Usage
from gogrid.models.http import HttpConfig, HttpModel, StreamState, http_config, parse_tool_call

DEFAULT_BASE = "https://api.openai.com/v1"
EXTRA_SETTINGS = {
    "stream_usage": "ask for usage at the end of a stream (stream_options.include_usage; default true)",
    "max_tokens_field": "max_completion_tokens (OpenAI) or max_tokens (most other servers)",
}


class OpenAIModel(HttpModel):
    provider = "openai"

    def __init__(self, name: str, cfg: HttpConfig) -> None:
        super().__init__(name, cfg)
        default_field = "max_completion_tokens" if "api.openai.com" in cfg.base_url else "max_tokens"
        self.max_tokens_field = str(cfg.extra.get("max_tokens_field", default_field))
        self.stream_usage = bool(cfg.extra.get("stream_usage", True))

    def url(self, req: ModelRequest) -> str:
        return f"{self.cfg.base_url}/chat/completions"

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"}

    def body(self, req: ModelRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if req.system:
            messages.append({"role": "system", "content": req.system})
        messages.extend(_message(m) for m in req.messages)
        body: dict[str, Any] = {"model": self.name, "messages": messages}
        if req.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in req.tools
            ]
        if req.temperature is not None:
            body["temperature"] = req.temperature
        max_tokens = req.max_tokens or self.cfg.max_tokens
        if max_tokens is not None:
            body[self.max_tokens_field] = max_tokens
        if req.output_schema is not None and self.cfg.structured_output == "native":
            # Not `strict`: strict mode only takes schemas with every property required and no
            # extra keys; the agent loop validates the answer either way.
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "final_answer", "schema": req.output_schema},
            }
        if req.stream:
            body["stream"] = True
            if self.stream_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    def parse(self, data: dict[str, Any]) -> ModelResponse:
        choice = data["choices"][0]
        msg = choice["message"]
        calls = [
            parse_tool_call(c["id"], c["function"]["name"], c["function"].get("arguments") or "")
            for c in msg.get("tool_calls") or []
        ]
        refusal = msg.get("refusal")
        return ModelResponse(
            text=msg.get("content") or refusal or "", tool_calls=calls, usage=_usage(data.get("usage")),
            finish_reason=choice.get("finish_reason"), refusal=bool(refusal),
        )

    def feed(self, state: StreamState, event: str, data: str) -> None:
        if data.strip() == "[DONE]":
            state.done = True
            return
        chunk = json.loads(data)
        if "error" in chunk:
            raise self.http_error(200, data, {})
        if chunk.get("usage"):
            state.usage = _usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            state.add_text(delta.get("content") or "")
            for frag in delta.get("tool_calls") or []:
                call = state.call(_index(state, frag))
                call["id"] = frag.get("id") or call["id"]
                fn = frag.get("function") or {}
                call["name"] = fn.get("name") or call["name"]
                if fn.get("arguments"):
                    call["args"].append(fn["arguments"])
            if choice.get("finish_reason"):
                state.finish_reason = choice["finish_reason"]


def _index(state: StreamState, frag: dict[str, Any]) -> int:
    """Which call a streamed fragment belongs to. Some servers leave out `index`: then a new id
    starts a new call and a fragment without one continues the last."""
    if frag.get("index") is not None:
        return int(frag["index"])
    last = max(state.calls) if state.calls else -1
    if last < 0 or (frag.get("id") and state.calls[last]["id"] and frag["id"] != state.calls[last]["id"]):
        return last + 1
    return last


def _message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    if m.role == "assistant":
        # Content may be null only beside tool calls.
        out: dict[str, Any] = {"role": "assistant", "content": m.content or (None if m.tool_calls else "")}
        if m.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {
                    "name": c.name,
                    "arguments": c.raw_arguments or json.dumps(c.arguments or {}),
                }}
                for c in m.tool_calls
            ]
        return out
    return {"role": m.role, "content": m.content}


def _usage(u: dict[str, Any] | None) -> Usage:
    if not u:
        return Usage(count="estimated")
    details = u.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=int(u.get("prompt_tokens") or 0),
        output_tokens=int(u.get("completion_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0),
    )


def build(name: str, mdef: ModelDef) -> OpenAIModel:
    """Which key goes where: OpenAI itself (the default address) needs OPENAI_API_KEY. A server
    the manifest names by `base_url` gets only the key of the variable it names in `api_key_env`
    (none if it names none), so an OpenAI key is never sent to some other server by accident.
    OPENAI_BASE_URL with OPENAI_API_KEY works as it does with the official SDK."""
    own_server = bool(mdef.base_url) and not mdef.api_key_env
    cfg = http_config(
        "openai", name, mdef, default_base=DEFAULT_BASE, base_env="OPENAI_BASE_URL",
        key_envs=[] if own_server else ["OPENAI_API_KEY"],
        key_required=not mdef.base_url and "api.openai.com" in (os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE),
        extra_settings=EXTRA_SETTINGS,
    )
    return OpenAIModel(name, cfg)
