"""`sim/<name>`: a seeded, deterministic simulated model.

It behaves like a real chat model on every path the engine has to handle, with no network: it
answers from its input, calls the tools it is given with arguments that validate against their
schemas (several in one turn when asked), produces structured output that fits a schema, streams
token by token, and on request returns malformed tool arguments, refusals, long outputs or errors.
A per-agent script (a list of steps) makes a test or demo say exactly what it needs.

Conventions other parts of GoGrid rely on (so that teams vote and graphs branch for real):
- A prompt containing `CHOOSE ONE OF: a | b | c` gets one of those options as its answer
  (picked deterministically, or by the script).
- A prompt containing a ballot `VOTE: yes | no` (options split by |) answers `VOTE: <option> - <reason>`;
  the last such ballot counts, and the sim sides with the most common vote already cast in the
  conversation (so team rooms converge), else picks one.
- `CHOOSE ONE OF:` picks the one option the text above it names, else one seeded by that text.
- Given a `spawn_agent` tool (a dynamic orchestrator), it spawns `spawn_children` agents at once
  (the tool's `agent` enum), then calls `await_children`, then answers from the results.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gogrid.messages import Message, ModelRequest, ModelResponse, ToolCall, ToolSpec, Usage
from gogrid.models.base import AttemptHook, AttemptInfo, DeltaHook, ModelError
from gogrid.models.pricing import Price
from gogrid.models.tokens import estimate_tokens

_WORDS = ["analysis", "shows", "the", "plan", "holds", "with", "a", "few", "caveats", "worth", "noting", "first", "the", "data", "supports", "the", "main", "claim", "second", "the", "costs", "are", "within", "range", "third", "risks", "remain", "around", "timing", "and", "scope", "overall", "we", "recommend", "proceeding", "while", "tracking", "the", "open", "questions", "closely"]

# Answer text is assembled from whole sentences about the input's subject, so that a demo or a
# console pane reads like a model's reply rather than shuffled words.
_OPENERS = (
    "Here is my take on {topic}.",
    "Regarding {topic}, here is what I found.",
    "On {topic}, in short:",
    "I looked into {topic}.",
)
_TOOL_LINES = (
    "The {tool} tool returned {result}.",
    "According to {tool}, the result is {result}.",
    "I checked with {tool}, which gave {result}.",
)
_BODY = (
    "The main point is that {focus} looks feasible with what we know today.",
    "The evidence supports {focus}, though a few details still need confirming.",
    "The biggest risk around {focus} is timing, so it is worth tracking closely.",
    "Costs for {focus} appear to stay within a reasonable range.",
    "A sensible next step is to split {focus} into smaller pieces and check each one.",
    "It would help to revisit {focus} once more data is available.",
    "Two open questions remain: who owns {focus}, and how success will be measured.",
    "Compared with the alternatives, {focus} offers the clearest path forward.",
)
_CLOSERS = (
    "Overall, I recommend going ahead with {focus} while keeping the open questions visible.",
    "In summary, {focus} is on track, with the caveats above.",
    "My recommendation: proceed with {focus} and review it again after the first milestone.",
)
_STOP = frozenset({
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "calculate", "can", "compare", "compute",
    "could", "describe", "do", "does", "explain", "find", "for", "from", "get", "give", "had",
    "has", "have", "hello", "help", "hey", "hi", "how", "i", "if", "in", "into", "is", "it", "its",
    "know", "let", "list", "make", "me", "my", "need", "of", "on", "or", "our", "please", "should",
    "show", "so", "summarise", "summarize", "tell", "than", "that", "the", "their", "then",
    "there", "these", "this", "to", "want", "was", "we", "what", "what's", "when", "where",
    "which", "who", "why", "will", "with", "would", "write", "you", "your",
})


class SimStep(BaseModel):
    """One scripted turn. Exactly one of the action fields is normally set."""

    model_config = ConfigDict(extra="forbid")

    say: str | None = None
    tool: str | None = None
    args: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    malformed: str | None = None
    refuse: str | None = None
    long: int | None = None
    json_: Any = Field(default=None, alias="json")
    choose: str | None = None
    error: int | None = None
    latency_ms: float | None = None


class SimSettings(BaseModel):
    """Settings of a simulated model (the `settings:` of a `sim/...` model in a manifest)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    latency_ms: tuple[float, float] = (1.0, 5.0)
    price_input: float = Field(default=1.0, ge=0, description="USD per million input tokens")
    price_output: float = Field(default=2.0, ge=0, description="USD per million output tokens")
    tool_rounds: int = Field(default=1, ge=0, description="turns spent calling tools first")
    parallel_tools: int = Field(default=1, ge=1, description="tool calls per tool turn")
    answer_words: int = Field(default=40, ge=1)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    refusal_rate: float = Field(default=0.0, ge=0, le=1)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    stream_chunk_words: int = Field(default=1, ge=1)
    spawn_children: int = Field(default=2, ge=0, description="children an orchestrator spawns (given spawn tools)")
    script: list[SimStep] = Field(default_factory=list)

    @field_validator("latency_ms", mode="before")
    @classmethod
    def _latency(cls, v: Any) -> Any:
        if isinstance(v, int | float):
            return (v, v)
        return v


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode())


_CHOOSE = re.compile(r"CHOOSE ONE OF:\s*([^\n]+)", re.IGNORECASE)
_VOTE = re.compile(r"VOTE:\s*([^\n]+)")


@dataclass
class SimModel:
    """A simulated chat model; see the module docstring."""

    name: str
    settings: SimSettings = field(default_factory=SimSettings)
    # Per-agent scripts from the manifest (agent name -> steps) override settings.script.
    scripts: dict[str, list[SimStep]] = field(default_factory=dict)
    provider: str = "sim"

    @property
    def price(self) -> Price:
        return Price(self.settings.price_input, self.settings.price_output)

    async def aclose(self) -> None:
        return None

    async def request(
        self,
        req: ModelRequest,
        *,
        on_delta: DeltaHook | None = None,
        on_attempt: AttemptHook | None = None,
    ) -> ModelResponse:
        s = self.settings
        rng = random.Random(_stable_seed(s.seed, self.name, req.agent, req.turn, len(req.messages)))
        script = self.scripts.get(req.agent) or s.script
        step = script[req.turn - 1] if 0 < req.turn <= len(script) else None

        lo, hi = s.latency_ms
        latency = (step.latency_ms if step and step.latency_ms is not None else rng.uniform(lo, hi))
        latency /= 1000.0

        if (step and step.error) or (step is None and rng.random() < s.error_rate):
            status = step.error if step and step.error else 503
            await anyio.sleep(latency)
            if on_attempt:
                on_attempt(AttemptInfo(self.provider, self.name, 1, "error", status, "simulated error"))
            raise ModelError(f"sim/{self.name}: simulated HTTP {status}", retryable=status >= 500 or status == 429, status=status)

        response = self._respond(req, step, rng)
        if req.max_tokens is not None and estimate_tokens(response.text) > req.max_tokens:
            # Like a real provider, output stops at max_tokens (budgets reserve exactly that much).
            response.text = response.text[: req.max_tokens * 4]
            response.finish_reason = "length"
        prompt_tokens = estimate_tokens(req.system) + sum(estimate_tokens(m.content) + 4 for m in req.messages)
        out_text = response.text + "".join(c.raw_arguments for c in response.tool_calls)
        response.usage = Usage(prompt_tokens, max(1, estimate_tokens(out_text)), 0, "exact")
        response.provider, response.model = self.provider, self.name

        if on_delta is not None and response.text:
            words = response.text.split(" ")
            n = s.stream_chunk_words
            chunks = [" ".join(words[i : i + n]) for i in range(0, len(words), n)]
            pause = latency / max(1, len(chunks))
            for i, chunk in enumerate(chunks):
                if pause:
                    await anyio.sleep(pause)
                on_delta(chunk if i == 0 else " " + chunk)
        elif latency:
            await anyio.sleep(latency)
        if on_attempt:
            on_attempt(AttemptInfo(self.provider, self.name, 1, "ok", 200, latency_s=latency))
        return response

    # --- behaviour ---------------------------------------------------------------------------

    def _respond(self, req: ModelRequest, step: SimStep | None, rng: random.Random) -> ModelResponse:
        s = self.settings
        last_user = next((m.content for m in reversed(req.messages) if m.role == "user"), "")
        prompt = req.system + "\n" + last_user
        if step is not None:
            return self._scripted(req, step, rng, prompt)

        if rng.random() < s.refusal_rate:
            return ModelResponse(text="I can't help with that request.", refusal=True, finish_reason="refusal")
        choices = _CHOOSE.findall(prompt)
        if choices:
            return ModelResponse(text=_choose(choices[-1], prompt, rng), finish_reason="stop")
        ballot = _ballot(prompt)
        if ballot is not None:
            option = _vote(ballot, req.messages, rng)
            return ModelResponse(text=f"VOTE: {option} - {self._sentence(rng, 8)}", finish_reason="stop")
        spawn = _spawn_calls(req, last_user, self.settings.spawn_children)
        if spawn is not None:
            return spawn

        tool_turns = sum(1 for m in req.messages if m.role == "assistant" and m.tool_calls)
        if req.tools and tool_turns < s.tool_rounds:
            k = min(s.parallel_tools, len(req.tools))
            picks = rng.sample(req.tools, k)
            calls = [self._call(t, rng, last_user, req.turn, i) for i, t in enumerate(picks)]
            if rng.random() < s.malformed_rate:
                calls[0] = _malformed(calls[0])
            return ModelResponse(tool_calls=calls, finish_reason="tool_calls")

        if req.output_schema is not None:
            value = sample_from_schema(req.output_schema, rng, context=last_user)
            return ModelResponse(text=json.dumps(value), finish_reason="stop")
        return ModelResponse(text=self._answer(req, rng, last_user), finish_reason="stop")

    def _scripted(self, req: ModelRequest, step: SimStep, rng: random.Random, prompt: str) -> ModelResponse:
        if step.say is not None:
            return ModelResponse(text=step.say, finish_reason="stop")
        if step.choose is not None:
            return ModelResponse(text=step.choose, finish_reason="stop")
        if step.refuse is not None:
            return ModelResponse(text=step.refuse or "I can't help with that.", refusal=True, finish_reason="refusal")
        if step.long is not None:
            last_user = next((m.content for m in reversed(req.messages) if m.role == "user"), "")
            return ModelResponse(text=self._sentence(rng, step.long, _focus(last_user)), finish_reason="stop")
        if step.json_ is not None:
            return ModelResponse(text=json.dumps(step.json_), finish_reason="stop")
        by_name = {t.name: t for t in req.tools}
        if step.malformed is not None:
            call = ToolCall(f"call_{req.turn}_0", step.malformed, None)
            return ModelResponse(tool_calls=[_malformed(call)], finish_reason="tool_calls")
        wanted = list(step.tools or [])
        if step.tool is not None:
            wanted.insert(0, {"name": step.tool, "args": step.args})
        calls = []
        for i, w in enumerate(wanted):
            name = str(w.get("name", ""))
            args = w.get("args")
            if args is None:
                spec = by_name.get(name)
                args = sample_from_schema(spec.parameters, rng, context=prompt) if spec else {}
            calls.append(ToolCall(f"call_{req.turn}_{i}", name, args, json.dumps(args)))
        if calls:
            return ModelResponse(tool_calls=calls, finish_reason="tool_calls")
        return ModelResponse(text=self._answer(req, rng, prompt), finish_reason="stop")

    def _call(self, spec: ToolSpec, rng: random.Random, context: str, turn: int, i: int) -> ToolCall:
        args = sample_from_schema(spec.parameters, rng, context=context)
        return ToolCall(f"call_{turn}_{i}", spec.name, args, json.dumps(args))

    def _sentence(self, rng: random.Random, n: int, focus: str = "the plan") -> str:
        """About `n` words of plain sentences (long outputs, vote reasons): the body sentences in
        shuffled rounds so none repeats back to back, in paragraphs of five. Short ones are one
        whole sentence rather than a cut one."""
        if n <= 15:
            return rng.choice(_BODY).format(focus=focus)
        sentences: list[str] = []
        count = 0
        while count < n:
            deck = list(_BODY)
            rng.shuffle(deck)
            if sentences and deck[0].format(focus=focus) == sentences[-1]:
                deck.append(deck.pop(0))
            for template in deck:
                sentences.append(template.format(focus=focus))
                count += len(sentences[-1].split())
                if count >= n:
                    break
        words = " ".join(sentences).split()
        if len(words) > n:  # cut to length, ending the last sentence cleanly
            words = words[:n]
            words[-1] = words[-1].rstrip(",.:;") + "."
        text = " ".join(words)
        paragraphs: list[str] = []
        current: list[str] = []
        for i, sentence in enumerate(re.split(r"(?<=\.) ", text), 1):
            current.append(sentence)
            if i % 5 == 0:
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        return "\n\n".join(paragraphs)

    def _answer(self, req: ModelRequest, rng: random.Random, last_user: str) -> str:
        """A reply built from the question's subject and the tool results in the conversation,
        about `answer_words` long."""
        topic = _topic(last_user)
        focus = _focus(last_user)
        rng = random.Random(rng.random() + zlib.crc32(last_user.encode()))  # varies with the question
        parts = [rng.choice(_OPENERS).format(topic=topic)]
        for m in [m for m in req.messages if m.role == "tool" and not m.is_error][-3:]:
            parts.append(rng.choice(_TOOL_LINES).format(tool=m.name or "tool", result=_quote(m.content)))
        body = list(_BODY)
        rng.shuffle(body)
        count = sum(len(p.split()) for p in parts)
        for sentence in body:
            if count >= self.settings.answer_words - 12:
                break
            parts.append(sentence.format(focus=focus))
            count += len(parts[-1].split())
        parts.append(rng.choice(_CLOSERS).format(focus=focus))
        return " ".join(parts)


def _topic(text: str) -> str:
    """The question itself, shortened, as a noun phrase for an opening sentence."""
    words = text.split()
    if not words:
        return "the task"
    topic = " ".join(words[:12]).rstrip(".?!:;,")
    if len(words) > 12:
        topic += "..."
    return f'"{topic}"'


_PHRASE = re.compile(r"\b(?:the|a|an|our|my|this|your)\s+([A-Za-z][A-Za-z0-9'-]*(?:\s+[A-Za-z][A-Za-z0-9'-]*)?)", re.IGNORECASE)


def _focus(text: str) -> str:
    """A short subject for body sentences: the last "the ..." phrase of the input, else its
    first content word."""
    for match in reversed(list(_PHRASE.finditer(text))):
        words = [w for w in match.group(1).split() if w.lower() not in _STOP]
        if words:
            return "the " + " ".join(words).lower()
    words = re.findall(r"[A-Za-z][A-Za-z0-9'-]*", text)
    content = [w for w in words if w.lower() not in _STOP and len(w) > 2]
    names = [w for w in words[1:] if w[0].isupper() and w.lower() not in _STOP]  # proper nouns read well alone
    if names:
        return " and ".join(names[:2])
    return "the " + content[0].lower() if content else "the plan"


def _quote(content: str, limit: int = 80) -> str:
    """A tool result as a phrase: JSON objects as their first few plain fields, else the text."""
    text = " ".join(content.split())
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        plain = [f"{k} {v}" for k, v in value.items() if isinstance(v, str | int | float | bool) and len(str(v)) <= 40]
        text = ", ".join(plain[:4]) or f"an object with {', '.join(list(value)[:4])}"
    elif isinstance(value, list):
        text = f"{len(value)} item{'s' if len(value) != 1 else ''}"
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "..."
    return text or "nothing"


def _pick(options_text: str, rng: random.Random) -> str:
    options = _options(options_text)
    return rng.choice(options) if options else ""


def _options(options_text: str) -> list[str]:
    return [o.strip() for o in re.split(r"[|,]", options_text) if o.strip()]


def _choose(options_text: str, prompt: str, rng: random.Random) -> str:
    """A router's pick: the one option the text being judged names (a reviewer saying "revise"
    sends the graph back), else a pick seeded by the text, so different inputs branch apart."""
    options = _options(options_text)
    if not options:
        return ""
    judged = prompt[: prompt.rfind("CHOOSE ONE OF:")] if "CHOOSE ONE OF:" in prompt else prompt
    named = [o for o in options if re.search(rf"\b{re.escape(o)}\b", judged, re.IGNORECASE)]
    if len(named) == 1:
        return named[0]
    return random.Random(rng.random() + zlib.crc32(judged.encode())).choice(options)


def _ballot(prompt: str) -> str | None:
    """The options of the last `VOTE: a | b` line. Lines like `VOTE: x - reason` are votes
    already cast (quoted in a transcript), not a ballot."""
    ballots = [f for f in _VOTE.findall(prompt) if "|" in f]
    return ballots[-1] if ballots else None


def _vote(ballot: str, messages: list[Message], rng: random.Random) -> str:
    """Vote like a member of a discussion: go with the most common vote cast so far in the
    conversation (so rooms converge), else make up its own mind."""
    options = _options(ballot)
    if not options:
        return ""
    cast: dict[str, int] = {}
    for m in messages:
        for raw in _VOTE.findall(m.content):
            word = raw.split(" - ")[0].strip().lower()
            match = next((o for o in options if o.lower() == word), None)
            if match is not None and "|" not in raw:
                cast[match] = cast.get(match, 0) + 1
    if cast:
        return max(options, key=lambda o: (cast.get(o, 0), -options.index(o)))
    return rng.choice(options)


def _spawn_calls(req: ModelRequest, task: str, count: int) -> ModelResponse | None:
    """An orchestrator given spawn tools: spawn `count` agent children at once, then await them
    all, then answer from their results (the final answer reads the tool results)."""
    by_name = {t.name: t for t in req.tools}
    spawn, wait = by_name.get("spawn_agent"), by_name.get("await_children")
    if spawn is None or count == 0:
        return None
    done = [c.name for m in req.messages if m.role == "assistant" for c in m.tool_calls]
    if "spawn_agent" not in done:
        agent_schema = spawn.parameters.get("properties", {}).get("agent", {})
        agents = agent_schema.get("enum") or ([agent_schema["const"]] if "const" in agent_schema else [])
        if not agents:
            return None
        topic = " ".join(task.split()[:30])
        calls = []
        for i in range(count):
            args = {"agent": agents[i % len(agents)], "input": f"{topic} (part {i + 1} of {count})"}
            calls.append(ToolCall(f"call_{req.turn}_{i}", "spawn_agent", args, json.dumps(args)))
        return ModelResponse(tool_calls=calls, finish_reason="tool_calls")
    if wait is not None and "await_children" not in done:
        return ModelResponse(tool_calls=[ToolCall(f"call_{req.turn}_0", "await_children", {}, "{}")], finish_reason="tool_calls")
    return None


def _malformed(call: ToolCall) -> ToolCall:
    raw = '{"' + (call.raw_arguments or "{}")[2:-1]  # a truncated, unparseable object
    return ToolCall(call.id, call.name, None, raw, "invalid JSON in tool arguments")


_STRING_BY_NAME = {
    "expression": lambda rng: f"{rng.randint(2, 99)} * ({rng.randint(1, 20)} + {rng.randint(1, 20)})",
    "path": lambda rng: ".",
    "url": lambda rng: "https://example.com/",
    "timezone": lambda rng: rng.choice(["UTC", "Europe/Paris", "America/New_York"]),
    "tz": lambda rng: "UTC",
    "pattern": lambda rng: "*",
}

# String fields that read as prose in a structured answer get a whole sentence.
_SENTENCE_FIELDS = frozenset({"summary", "description", "reason", "rationale", "answer", "explanation", "details", "notes"})

_STRING_BY_FORMAT = {
    "date": lambda rng: f"20{rng.randint(24, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    "date-time": lambda rng: f"20{rng.randint(24, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
    "uri": lambda rng: "https://example.com/",
    "email": lambda rng: "someone@example.com",
}


def sample_from_schema(schema: dict[str, Any], rng: random.Random, *, context: str = "", name: str = "", defs: dict[str, Any] | None = None) -> Any:
    """A value that validates against a JSON Schema (the subset that tool signatures and
    structured outputs use)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        return sample_from_schema(defs.get(ref, {}), rng, context=context, name=name, defs=defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return sample_from_schema(options[0], rng, context=context, name=name, defs=defs)
    if schema.get("allOf"):
        return sample_from_schema(schema["allOf"][0], rng, context=context, name=name, defs=defs)
    if "default" in schema and rng.random() < 0.5:
        return schema["default"]
    typ = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "string")
    if typ == "object":
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", props.keys()))
        return {
            k: sample_from_schema(v, rng, context=context, name=k, defs=defs)
            for k, v in props.items()
            if k in required or rng.random() < 0.5
        }
    if typ == "array":
        n = max(schema.get("minItems", 1), min(schema.get("maxItems", 3), 2))
        return [sample_from_schema(schema.get("items", {}), rng, context=context, defs=defs) for _ in range(n)]
    if typ == "integer":
        lo = int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1 if "exclusiveMinimum" in schema else 0))
        hi = int(schema.get("maximum", schema.get("exclusiveMaximum", lo + 101) - 1 if "exclusiveMaximum" in schema else lo + 100))
        return rng.randint(lo, max(lo, hi))
    if typ == "number":
        flo = float(schema.get("minimum", schema.get("exclusiveMinimum", 0.0)))
        fhi = float(schema.get("maximum", schema.get("exclusiveMaximum", flo + 100.0)))
        return round(rng.uniform(flo, fhi), 2) if fhi > flo else flo
    if typ == "boolean":
        return rng.random() < 0.5
    if typ == "null":
        return None
    make = _STRING_BY_FORMAT.get(schema.get("format", "")) or _STRING_BY_NAME.get(name.lower())
    if make is not None:
        text = make(rng)
    elif name.lower() in _SENTENCE_FIELDS:
        text = rng.choice(_BODY).format(focus=_focus(context))
    else:
        words = [w for w in re.findall(r"[A-Za-z]{3,}", context) if w.lower() not in _STOP] or _WORDS
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
    lo_len, hi_len = schema.get("minLength", 0), schema.get("maxLength")
    text = text.ljust(lo_len, "x")
    return text[:hi_len] if hi_len else text
