"""Google Gemini API: `models/{model}:generateContent`, and `:streamGenerateContent?alt=sse`
for streams (each event is a whole response chunk; the last one carries `finishReason`).

The key goes in the `x-goog-api-key` header, never in the URL, so that it cannot end up in an
error message that quotes the address. Function calls carry no id unless the API gives one, so
ids are made here and the tool's name is sent back with its result.
"""

from __future__ import annotations

import json
from typing import Any

from gogrid.config.schema import ModelDef
from gogrid.messages import Message, ModelRequest, ModelResponse, Usage
from gogrid.models.http import HttpConfig, HttpModel, StreamState, http_config

DEFAULT_BASE = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
EXTRA_SETTINGS = {"api_version": f"the path's API version (default {API_VERSION})"}
_OWN_ID = "gg_call_"  # ids made here, never sent back to the API


class GeminiModel(HttpModel):
    provider = "gemini"

    def __init__(self, name: str, cfg: HttpConfig) -> None:
        super().__init__(name, cfg)
        self.api_version = str(cfg.extra.get("api_version", API_VERSION))
        self._ids = 0
        # Thinking models sign their function calls and want the signature back with the call.
        self._signatures: dict[str, str] = {}

    def url(self, req: ModelRequest) -> str:
        base = f"{self.cfg.base_url}/{self.api_version}/models/{self.name}"
        return f"{base}:streamGenerateContent?alt=sse" if req.stream else f"{base}:generateContent"

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def body(self, req: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"contents": _contents(req.messages, self._signatures)}
        system = [req.system] if req.system else []
        system += [m.content for m in req.messages if m.role == "system" and m.content]
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        if req.tools:
            body["tools"] = [{"functionDeclarations": [
                {"name": t.name, "description": t.description, "parametersJsonSchema": t.parameters} for t in req.tools
            ]}]
        config: dict[str, Any] = {}
        if req.temperature is not None:
            config["temperature"] = req.temperature
        max_tokens = req.max_tokens or self.cfg.max_tokens
        if max_tokens is not None:
            config["maxOutputTokens"] = max_tokens
        # JSON mode and function calling do not mix on every Gemini model: with tools the schema
        # stays in the prompt (the agent loop validates the answer either way).
        if req.output_schema is not None and self.cfg.structured_output == "native" and not req.tools:
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = req.output_schema
        if config:
            body["generationConfig"] = config
        return body

    def _apply(self, state: StreamState, data: dict[str, Any]) -> None:
        if data.get("usageMetadata"):
            state.usage = _usage(data["usageMetadata"])
        feedback = data.get("promptFeedback") or {}
        if feedback.get("blockReason") and not data.get("candidates"):
            state.finish_reason = f"blocked: {feedback['blockReason']}"
            state.done = True
            return
        for cand in (data.get("candidates") or [])[:1]:
            for part in (cand.get("content") or {}).get("parts") or []:
                if part.get("thought"):
                    continue
                if "text" in part:
                    state.add_text(part["text"])
                elif "functionCall" in part:
                    fc = part["functionCall"]
                    call = state.call(len(state.calls))
                    self._ids += 1
                    call.update(id=fc.get("id") or f"{_OWN_ID}{self._ids}", name=fc["name"])
                    call["args"].append(json.dumps(fc.get("args") or {}))
                    if part.get("thoughtSignature"):
                        self._signatures[call["id"]] = part["thoughtSignature"]
            if cand.get("finishReason"):
                state.finish_reason = str(cand["finishReason"]).lower()
                state.done = True

    def parse(self, data: dict[str, Any]) -> ModelResponse:
        state = StreamState()
        self._apply(state, data)
        response = state.response()
        response.refusal = (response.finish_reason or "").startswith(("blocked", "safety"))
        return response

    def feed(self, state: StreamState, event: str, data: str) -> None:
        payload = json.loads(data)
        if "error" in payload:
            raise self.http_error(int(payload["error"].get("code") or 500), data, {})
        self._apply(state, payload)


def _contents(history: list[Message], signatures: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id -> tool name, for results that lack the name

    def push(role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        else:
            out.append({"role": role, "parts": parts})

    for m in history:
        if m.role == "system":
            continue
        if m.role == "tool":
            key = "error" if m.is_error else "result"
            response: dict[str, Any] = {"name": m.name or names.get(m.tool_call_id or "", ""), "response": {key: m.content}}
            if m.tool_call_id and not m.tool_call_id.startswith(_OWN_ID):
                response["id"] = m.tool_call_id
            push("user", [{"functionResponse": response}])
        elif m.role == "assistant":
            parts: list[dict[str, Any]] = [{"text": m.content}] if m.content else []
            for c in m.tool_calls:
                names[c.id] = c.name
                call: dict[str, Any] = {"name": c.name, "args": c.arguments or {}}
                if not c.id.startswith(_OWN_ID):
                    call["id"] = c.id
                part: dict[str, Any] = {"functionCall": call}
                if c.id in signatures:
                    part["thoughtSignature"] = signatures[c.id]
                parts.append(part)
            push("model", parts)
        else:
            push("user", [{"text": m.content}] if m.content else [])
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "parts": [{"text": "(continue)"}]})
    return out


def _usage(u: dict[str, Any]) -> Usage:
    # Thinking tokens are billed as output.
    return Usage(
        int(u.get("promptTokenCount") or 0),
        int(u.get("candidatesTokenCount") or 0) + int(u.get("thoughtsTokenCount") or 0),
        int(u.get("cachedContentTokenCount") or 0),
    )


def build(name: str, mdef: ModelDef) -> GeminiModel:
    cfg = http_config(
        "gemini", name, mdef, default_base=DEFAULT_BASE, base_env="GOOGLE_GEMINI_BASE_URL",
        key_envs=["GEMINI_API_KEY", "GOOGLE_API_KEY"], key_required=True, extra_settings=EXTRA_SETTINGS,
    )
    return GeminiModel(name, cfg)
