"""Small loopback servers that speak each provider's wire format, for the provider tests.

A `WireServer` listens on 127.0.0.1 in a thread, checks every request the way the real API would
(the official request schemas in the shared `llm-schemas` folder, plus the rules the schemas do
not express), and answers from a script of provider-neutral `Turn`s and `Fault`s, as JSON or as
a server-sent event stream depending on what the request asked for. A request the real API would
reject gets the provider's own 400 error body, and the reason is kept in `problems`.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import cache, lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema

from conftest import SHARED

SCHEMAS = SHARED / "llm-schemas"


# --- what the tests script --------------------------------------------------------------------------


@dataclass
class Turn:
    """One model answer: text and/or tool calls, with the usage the provider reports
    (input counts every prompt token, cached the part read from cache). usage=None: none reported."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    usage: tuple[int, int, int] | None = (20, 5, 0)
    delay: float = 0.0  # seconds before answering


@dataclass
class Fault:
    """A failure: an HTTP error with the provider's error body, a truncated answer, a body that
    is not JSON, or a server that never answers."""

    status: int = 500
    message: str = "something went wrong"
    headers: dict[str, str] = field(default_factory=dict)
    truncate: Turn | None = None  # answer this turn but cut it off before the end
    keep: int = 3  # stream events (or half the body) sent before the cut
    clean_close: bool = True  # close at an event boundary, else cut mid-event
    invalid_json: bool = False
    hang: float = 0.0  # seconds to hold the request without answering


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any
    stream: bool
    at: float
    problems: list[str]


# --- request checks ---------------------------------------------------------------------------------


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator | None:
    path = SCHEMAS / name
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    if name.startswith("openai"):
        doc = {"$ref": "#/$defs/CreateChatCompletionRequest", "$defs": doc["$defs"]}
    return jsonschema.Draft202012Validator(doc)


def _schema_problems(name: str, body: Any) -> list[str]:
    v = _validator(name)
    if v is None:
        return []
    out = []
    for e in v.iter_errors(body):
        where = "/".join(str(p) for p in e.absolute_path)
        best = jsonschema.exceptions.best_match([e])
        out.append(f"{where}: {best.message[:300]}")
    return out


def openai_problems(body: Any) -> list[str]:
    problems = _schema_problems("openai_chat.schema.json", body)
    msgs = body.get("messages", []) if isinstance(body, dict) else []
    pending: list[str] = []
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role == "tool":
            if m.get("tool_call_id") not in pending:
                problems.append(f"messages/{i}: tool message answers no pending tool call ({m.get('tool_call_id')!r})")
            else:
                pending.remove(m["tool_call_id"])
            continue
        if pending:
            problems.append(f"messages/{i}: tool calls {pending} were not answered by tool messages")
            pending = []
        if role == "assistant":
            pending = [c["id"] for c in m.get("tool_calls") or []]
    if pending:
        problems.append(f"tool calls {pending} were not answered")
    return problems


def anthropic_problems(body: Any) -> list[str]:
    problems = _schema_problems("anthropic_messages.schema.json", body)
    msgs = body.get("messages", []) if isinstance(body, dict) else []
    if msgs and msgs[0].get("role") != "user":
        problems.append("messages/0: the first message must be from the user")
    for i, m in enumerate(msgs):
        blocks = m.get("content") if isinstance(m.get("content"), list) else [{"type": "text", "text": m.get("content", "")}]
        for j, b in enumerate(blocks):
            if b.get("type") == "text" and not str(b.get("text", "")).strip():
                problems.append(f"messages/{i}/content/{j}: text content blocks must contain non-whitespace text")
        if i and msgs[i - 1].get("role") == m.get("role"):
            problems.append(f"messages/{i}: roles must alternate between user and assistant")
        uses = [b["id"] for b in blocks if b.get("type") == "tool_use"]
        if not uses:
            continue
        nxt = msgs[i + 1] if i + 1 < len(msgs) else None
        nxt_blocks = nxt.get("content") if nxt and isinstance(nxt.get("content"), list) else []
        results = [b.get("tool_use_id") for b in nxt_blocks if b.get("type") == "tool_result"]
        if nxt is not None and sorted(results) != sorted(uses):
            problems.append(f"messages/{i + 1}: tool_use ids {uses} must each have exactly one tool_result, got {results}")
    return problems


@lru_cache(maxsize=1)
def _gemini() -> dict[str, Any] | None:
    path = SCHEMAS / "gemini_v1beta.descriptors.json"
    return json.loads(path.read_text()) if path.exists() else None


_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,), "bytes": (str,), "bool": (bool,), "int32": (int,), "int64": (int, str),
    "uint32": (int,), "uint64": (int, str), "float": (int, float), "double": (int, float),
}


def _walk(desc: dict[str, Any], value: Any, message: str, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{path}: expected an object for {message}")
        return
    fields = desc["messages"][message]["fields"]
    by_key = {f["json"]: f for f in fields} | {f["name"]: f for f in fields}
    oneofs: dict[str, str] = {}
    for key, v in value.items():
        f = by_key.get(key)
        if f is None:
            out.append(f'{path}: Invalid JSON payload received. Unknown name "{key}" at \'{message}\'')
            continue
        if f["oneof"]:
            if f["oneof"] in oneofs:
                out.append(f"{path}: oneof {f['oneof']} has both {oneofs[f['oneof']]} and {key}")
            oneofs[f["oneof"]] = key
        if f["repeated"]:
            if not isinstance(v, list):
                out.append(f"{path}.{key}: expected a list")
                continue
            for i, item in enumerate(v):
                _check(desc, f, item, f"{path}.{key}[{i}]", out)
        else:
            _check(desc, f, v, f"{path}.{key}", out)
    for f in fields:
        if f["required"] and f["json"] not in value and f["name"] not in value:
            out.append(f"{path}: required field {f['json']} is missing in {message}")


def _check(desc: dict[str, Any], f: dict[str, Any], v: Any, path: str, out: list[str]) -> None:
    kind, typ = f["kind"], f["type"]
    if kind == "message":
        _walk(desc, v, typ, path, out)
    elif kind == "map":
        if not isinstance(v, dict):
            out.append(f"{path}: expected a map")
        elif typ in desc["messages"]:
            for k, item in v.items():
                _walk(desc, item, typ, f"{path}.{k}", out)
    elif kind == "enum":
        if v not in desc["enums"].get(typ, []) and not isinstance(v, int):
            out.append(f"{path}: invalid value {v!r} for enum {typ}")
    elif kind == "scalar":
        ok = _SCALARS.get(typ, (object,))
        if not isinstance(v, ok) or (isinstance(v, bool) and bool not in ok):
            out.append(f"{path}: expected {typ}, got {type(v).__name__}")
    elif kind == "wkt" and typ == "google.protobuf.Struct" and not isinstance(v, dict):
        out.append(f"{path}: expected an object (google.protobuf.Struct)")


def gemini_problems(body: Any) -> list[str]:
    problems: list[str] = []
    desc = _gemini()
    if desc is not None:
        # The model is named by the URL; the body form of the request omits it.
        _walk(desc, {"model": "from-url", **body}, "GenerateContentRequest", "request", problems)
    contents = body.get("contents", []) if isinstance(body, dict) else []
    for i, c in enumerate(contents):
        if c.get("role") not in ("user", "model"):
            problems.append(f"contents[{i}].role: expected user or model, got {c.get('role')!r}")
        calls = [p["functionCall"]["name"] for p in c.get("parts", []) if "functionCall" in p]
        if not calls:
            continue
        nxt = contents[i + 1] if i + 1 < len(contents) else None
        if nxt is None:
            continue
        answers = [p["functionResponse"].get("name") for p in nxt.get("parts", []) if "functionResponse" in p]
        if sorted(answers) != sorted(calls):
            problems.append(f"contents[{i + 1}]: function calls {calls} need one functionResponse each, got {answers}")
    return problems


# --- dialects: each provider's URLs, auth, errors and answers ---------------------------------------


def _split(text: str, n: int = 3) -> list[str]:
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


class Dialect:
    """One provider's URLs, auth, request checks, error bodies and answers."""

    provider: str
    key_env: str

    def base_url(self, url: str) -> str:
        raise NotImplementedError

    def route(self, path: str, body: Any) -> bool | None:
        """Whether the request asks for a stream; None when the path is not the API's."""
        raise NotImplementedError

    def key_of(self, headers: dict[str, str]) -> str | None:
        raise NotImplementedError

    def problems(self, body: Any) -> list[str]:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def answer(self, t: Turn, model: str) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, t: Turn, model: str) -> list[tuple[str | None, str]]:
        raise NotImplementedError


class OpenAIDialect(Dialect):
    provider = "openai"
    key_env = "GOGRID_TEST_OPENAI_KEY"

    def base_url(self, url: str) -> str:
        return f"{url}/v1"

    def route(self, path: str, body: Any) -> bool | None:
        return bool(body.get("stream")) if path == "/v1/chat/completions" else None

    def key_of(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def problems(self, body: Any) -> list[str]:
        return openai_problems(body)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit_error"}.get(status, "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def usage(self, u: tuple[int, int, int]) -> dict[str, Any]:
        return {"prompt_tokens": u[0], "completion_tokens": u[1], "total_tokens": u[0] + u[1],
                "prompt_tokens_details": {"cached_tokens": u[2]}}

    def answer(self, t: Turn, model: str) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": t.text or None}
        if t.calls:
            msg["tool_calls"] = [{"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}} for i, (n, a) in enumerate(t.calls)]
        out: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
                               "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if t.calls else "stop"}]}
        if t.usage is not None:
            out["usage"] = self.usage(t.usage)
        return out

    def events(self, t: Turn, model: str) -> list[tuple[str | None, str]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, str]:
            return None, json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        out: list[tuple[str | None, str]] = [chunk({"role": "assistant", "content": ""})]
        out += [chunk({"content": piece}) for piece in _split(t.text)] if t.text else []
        for i, (name, args) in enumerate(t.calls):
            out.append(chunk({"tool_calls": [{"index": i, "id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": ""}}]}))
            out += [chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}) for piece in _split(json.dumps(args))]
        out.append(chunk({}, "tool_calls" if t.calls else "stop"))
        if t.usage is not None:
            out.append((None, json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [], "usage": self.usage(t.usage)})))
        out.append((None, "[DONE]"))
        return out


class AnthropicDialect(Dialect):
    provider = "anthropic"
    key_env = "GOGRID_TEST_ANTHROPIC_KEY"

    def base_url(self, url: str) -> str:
        return url

    def route(self, path: str, body: Any) -> bool | None:
        return bool(body.get("stream")) if path == "/v1/messages" else None

    def key_of(self, headers: dict[str, str]) -> str | None:
        return headers.get("x-api-key") if headers.get("anthropic-version") else None

    def problems(self, body: Any) -> list[str]:
        return anthropic_problems(body)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def usage(self, u: tuple[int, int, int]) -> dict[str, Any]:
        return {"input_tokens": u[0] - u[2], "output_tokens": u[1], "cache_read_input_tokens": u[2], "cache_creation_input_tokens": 0}

    def blocks(self, t: Turn) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"type": "text", "text": t.text}] if t.text else []
        return out + [{"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": a} for i, (n, a) in enumerate(t.calls)]

    def answer(self, t: Turn, model: str) -> dict[str, Any]:
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": self.blocks(t),
                "stop_reason": "tool_use" if t.calls else "end_turn", "stop_sequence": None,
                "usage": self.usage(t.usage or (0, 0, 0))}

    def events(self, t: Turn, model: str) -> list[tuple[str | None, str]]:
        def ev(name: str, data: dict[str, Any]) -> tuple[str, str]:
            return name, json.dumps({"type": name, **data})

        usage = self.usage(t.usage or (0, 0, 0))
        out: list[tuple[str | None, str]] = [ev("message_start", {"message": {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
                                                "stop_reason": None, "usage": {**usage, "output_tokens": 1}}}), ev("ping", {})]
        for i, b in enumerate(self.blocks(t)):
            if b["type"] == "text":
                out.append(ev("content_block_start", {"index": i, "content_block": {"type": "text", "text": ""}}))
                out += [ev("content_block_delta", {"index": i, "delta": {"type": "text_delta", "text": p}}) for p in _split(b["text"])]
            else:
                out.append(ev("content_block_start", {"index": i, "content_block": {**b, "input": {}}}))
                out += [ev("content_block_delta", {"index": i, "delta": {"type": "input_json_delta", "partial_json": p}}) for p in _split(json.dumps(b["input"]))]
            out.append(ev("content_block_stop", {"index": i}))
        out.append(ev("message_delta", {"delta": {"stop_reason": "tool_use" if t.calls else "end_turn", "stop_sequence": None},
                                        "usage": {"output_tokens": usage["output_tokens"]}}))
        out.append(ev("message_stop", {}))
        return out


class GeminiDialect(Dialect):
    provider = "gemini"
    key_env = "GOGRID_TEST_GEMINI_KEY"

    def base_url(self, url: str) -> str:
        return url

    def route(self, path: str, body: Any) -> bool | None:
        if path.startswith("/v1beta/models/") and path.endswith(":generateContent"):
            return False
        if path.startswith("/v1beta/models/") and path.endswith(":streamGenerateContent?alt=sse"):
            return True
        return None

    def key_of(self, headers: dict[str, str]) -> str | None:
        return headers.get("x-goog-api-key")

    def problems(self, body: Any) -> list[str]:
        return gemini_problems(body)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
        return {"error": {"code": status, "message": message, "status": kind}}

    def usage(self, u: tuple[int, int, int]) -> dict[str, Any]:
        return {"promptTokenCount": u[0], "candidatesTokenCount": u[1], "cachedContentTokenCount": u[2], "totalTokenCount": u[0] + u[1]}

    def chunk(self, parts: list[dict[str, Any]], finish: bool, usage: tuple[int, int, int] | None, model: str) -> dict[str, Any]:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            cand["finishReason"] = "STOP"
        out: dict[str, Any] = {"candidates": [cand], "modelVersion": model}
        if usage is not None:
            out["usageMetadata"] = self.usage(usage)
        return out

    def answer(self, t: Turn, model: str) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"text": t.text}] if t.text else []
        parts += [{"functionCall": {"name": n, "args": a}} for n, a in t.calls]
        return self.chunk(parts, True, t.usage, model)

    def events(self, t: Turn, model: str) -> list[tuple[str | None, str]]:
        pieces = _split(t.text) if t.text else []
        out: list[tuple[str | None, str]] = [(None, json.dumps(self.chunk([{"text": p}], False, None, model))) for p in pieces]
        calls = [{"functionCall": {"name": n, "args": a}} for n, a in t.calls]
        out.append((None, json.dumps(self.chunk(calls, True, t.usage, model))))
        return out


DIALECTS: dict[str, Dialect] = {"openai": OpenAIDialect(), "anthropic": AnthropicDialect(), "gemini": GeminiDialect()}


# --- the server -------------------------------------------------------------------------------------


class WireServer:
    """`with WireServer("openai", key="k") as s:` ... `s.script(Turn(...), Fault(...))`."""

    def __init__(self, provider: str, *, key: str | None = "test-key", model: str = "test-model") -> None:
        self.dialect = DIALECTS[provider]
        self.key = key
        self.model = model
        self.replies: deque[Turn | Fault] = deque()
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.client_closed = threading.Event()  # a hanging request's client went away
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up --

    def script(self, *replies: Turn | Fault) -> WireServer:
        self.replies.extend(replies)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.dialect.base_url(self.url)

    def __enter__(self) -> WireServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                server._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- requests --

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length)
        headers = {k.lower(): v for k, v in h.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send_json(h, 400, self.dialect.error_body(400, "request body is not JSON"))
        stream = self.dialect.route(h.path, body)
        if stream is None:
            return self._send_json(h, 404, self.dialect.error_body(404, f"no route for {h.path}"))
        problems = self.dialect.problems(body)
        seen = Seen(h.path, headers, body, stream, time.monotonic(), problems)
        with self._lock:
            self.seen.append(seen)
            self.problems.extend(problems)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(h, headers, stream, problems)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, h: BaseHTTPRequestHandler, headers: dict[str, str], stream: bool, problems: list[str]) -> None:
        d = self.dialect
        sent_key = d.key_of(headers)
        if self.key is not None and sent_key != self.key:
            # Real servers quote the key they got back; the client must keep it out of its errors.
            return self._send_json(h, 401, d.error_body(401, f"Incorrect API key provided: {sent_key}"))
        if problems:
            return self._send_json(h, 400, d.error_body(400, "; ".join(problems)))
        with self._lock:
            reply = self.replies.popleft() if self.replies else None
        if reply is None:
            self.problems.append("no reply scripted for a request")
            return self._send_json(h, 500, d.error_body(500, "no reply scripted"))
        if isinstance(reply, Turn):
            if reply.delay:
                time.sleep(reply.delay)
            if stream:
                return self._send_events(h, d.events(reply, self.model))
            return self._send_json(h, 200, d.answer(reply, self.model))
        return self._fault(h, reply, stream)

    def _fault(self, h: BaseHTTPRequestHandler, f: Fault, stream: bool) -> None:
        d = self.dialect
        if f.hang:
            self._hang(h, f.hang)
            return
        if f.invalid_json:
            return self._send_raw(h, 200, b'{"choices": [ this is not json', "application/json")
        if f.truncate is not None:
            if stream:
                events = d.events(f.truncate, self.model)[: f.keep]
                return self._send_events(h, events, cut_mid_event=not f.clean_close)
            body = json.dumps(d.answer(f.truncate, self.model)).encode()
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        return self._send_json(h, f.status, d.error_body(f.status, f.message), f.headers)

    def _hang(self, h: BaseHTTPRequestHandler, seconds: float) -> None:
        """Hold the request; notice when the client closes its side of the connection."""
        conn: socket.socket = h.connection
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([conn], [], [], 0.05)
            if ready:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        self.client_closed.set()
                        h.close_connection = True
                        return
                except OSError:
                    self.client_closed.set()
                    h.close_connection = True
                    return
        h.close_connection = True

    # -- writing --

    def _send_json(self, h: BaseHTTPRequestHandler, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(h, status, json.dumps(data).encode(), "application/json", headers)

    def _send_raw(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("content-type", ctype)
        h.send_header("content-length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _send_events(self, h: BaseHTTPRequestHandler, events: list[tuple[str | None, str]], cut_mid_event: bool = False) -> None:
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("cache-control", "no-cache")
        h.send_header("connection", "close")
        h.end_headers()
        for name, data in events:
            h.wfile.write(((f"event: {name}\n" if name else "") + f"data: {data}\n\n").encode())
            h.wfile.flush()
        if cut_mid_event:
            h.wfile.write(b'data: {"half an ev')
            h.wfile.flush()
        h.close_connection = True
