"""The simulated model's final answers read as sentences about the question and the tool results
it saw, not as shuffled words."""

from __future__ import annotations

import random
import re

import anyio

from gogrid.messages import Message, ModelRequest, ToolCall
from gogrid.models.sim import SimModel, SimSettings, sample_from_schema


def answer(messages: list[Message], **settings: object) -> str:
    sim = SimModel("t", SimSettings(latency_ms=0, **settings))  # type: ignore[arg-type]
    req = ModelRequest(system="", messages=messages, tools=[], agent="a", turn=len(messages))
    return anyio.run(lambda: sim.request(req)).text


def test_an_answer_is_sentences_about_the_question() -> None:
    text = answer([Message("user", "What is the risk in the migration plan for the billing service?")])
    assert "the billing service" in text
    sentences = re.split(r"(?<=\.)\s+", text.strip())
    assert len(sentences) >= 3 and all(s[0].isupper() or s[0] == '"' for s in sentences)
    assert text.rstrip().endswith(".")
    words = text.lower().split()
    assert not any(words[i] == words[i + 1] for i in range(len(words) - 1))  # no stutter


def test_an_answer_quotes_the_tool_results_it_saw() -> None:
    messages = [
        Message("user", "How many days until the launch?"),
        Message("assistant", "", [ToolCall("c1", "days_between", {"start": "2025-01-01", "end": "2025-03-01"})]),
        Message("tool", '{"days": 59, "weeks": 8, "weekdays": 42}', tool_call_id="c1", name="days_between"),
    ]
    text = answer(messages)
    assert "days_between" in text and "days 59, weeks 8, weekdays 42" in text


def test_answers_differ_by_question_and_repeat_by_seed() -> None:
    a = answer([Message("user", "Summarise the hiring plan")])
    b = answer([Message("user", "Summarise the hiring plan")])
    c = answer([Message("user", "Compare Postgres and DuckDB for analytics")])
    assert a == b and a != c and "Postgres and DuckDB" in c


def test_long_outputs_are_paragraphs_of_whole_sentences() -> None:
    sim = SimModel("t")
    text = sim._sentence(random.Random(3), 300, "the rollout")
    assert len(text.split()) == 300 and text.count("\n\n") >= 3
    sentences = re.split(r"(?<=\.)\s+", text)
    assert all(s.endswith(".") for s in sentences)
    assert not any(sentences[i] == sentences[i + 1] for i in range(len(sentences) - 1))


def test_structured_prose_fields_get_sentences() -> None:
    schema = {"type": "object", "required": ["summary", "component"], "properties": {"summary": {"type": "string"}, "component": {"type": "string"}}}
    value = sample_from_schema(schema, random.Random(1), context="Triage: the login page times out for EU users")
    assert value["summary"].endswith(".") and "the login page" in value["summary"]
    assert all(w.lower() not in {"the", "for", "and"} for w in value["component"].split())
