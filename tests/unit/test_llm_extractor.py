"""The LLM extractor with a scripted fake `chat` callable: no model, no network."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone

import pytest

from shared_core.errors import LLMError, MemoError
from shared_core.extract.base import Candidate, ExtractInput, Extractor
from shared_core.extract.llm import LLMExtractor, LLMOutput, build_messages, extract_json_object
from shared_core.extract.rules import RuleExtractor
from shared_core.models import Kind, Origin

NOW = datetime(2023, 5, 9, tzinfo=timezone.utc)
TURNS = [
    ExtractInput(
        message_id="m1",
        speaker="Caroline",
        text="I went to a support group yesterday. I live in Berlin.",
        timestamp=datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc),
        session_id="s1",
    )
]

GOOD = {
    "memories": [
        {
            "kind": "event",
            "text": "Caroline went to an LGBTQ support group on 7 May 2023",
            "subject": "Caroline",
            "attribute": "went_to",
            "value": "LGBTQ support group",
            "valid_from": "2023-05-07",
            "importance": 0.7,
            "confidence": 1.7,
            "source_message_ids": ["m1"],
        },
        {
            "kind": "fact",
            "text": "Caroline lives in Berlin",
            "subject": "caroline",
            "attribute": "lives_in",
            "value": "Berlin",
            "confidence": -3,
            "source_message_ids": ["nope"],
        },
    ]
}


class Script:
    """A fake chat model: replies (or raises) from a list, recording every call."""

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict[str, str]]] = []

    def __call__(self, messages: list[dict[str, str]]) -> str:
        self.calls.append([dict(m) for m in messages])
        reply = self.replies.pop(0) if self.replies else "no more replies"
        if isinstance(reply, Exception):
            raise reply
        return reply


class Fixed:
    name = "fixed"
    version = "9"

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        return [
            Candidate(
                kind=Kind.FACT, text="fallback", attribute="note", source_message_ids=[turns[0].message_id]
            )
        ]


def test_valid_json_reply() -> None:
    chat = Script(json.dumps(GOOD))
    ex = LLMExtractor(chat)
    got = ex.extract(TURNS, now=NOW)
    assert isinstance(ex, Extractor) and (ex.name, ex.version) == ("llm", "1")
    assert ex.last_error is None
    assert len(chat.calls) == 1
    assert [c.attribute for c in got] == ["went_to", "lives_in"]
    ev, fact = got
    assert ev.kind is Kind.EVENT and ev.origin is Origin.INFERRED
    assert ev.confidence == 1.0 and fact.confidence == 0.0  # clamped
    assert ev.subject == "caroline" and ev.speaker == "Caroline"
    assert ev.valid_from == datetime(2023, 5, 7, tzinfo=timezone.utc)
    assert ev.source_message_ids == ["m1"] and ev.session_id == "s1"
    assert fact.source_message_ids == ["m1"]  # an unknown id falls back to the turn
    assert ev.observed_at == TURNS[0].timestamp


def test_fenced_json_with_prose() -> None:
    reply = (
        "Sure! Here are the memories:\n```json\n" + json.dumps(GOOD) + "\n```\nLet me know if you need more."
    )
    got = LLMExtractor(Script(reply)).extract(TURNS, now=NOW)
    assert len(got) == 2


def test_invalid_then_valid_retries_with_the_error() -> None:
    bad = json.dumps({"memories": [{"kind": "episode", "text": "x", "subject": "c", "attribute": "a"}]})
    chat = Script("I could not decide.", bad, json.dumps(GOOD))
    ex = LLMExtractor(chat, max_retries=2)
    got = ex.extract(TURNS, now=NOW)
    assert len(got) == 2 and ex.last_error is None
    assert len(chat.calls) == 3
    retry = chat.calls[1]
    assert retry[-2] == {"role": "assistant", "content": "I could not decide."}
    assert "not valid" in retry[-1]["content"] and retry[-1]["role"] == "user"
    assert "kind" in chat.calls[2][-1]["content"]  # the validation error names the field


def test_always_invalid_falls_back_to_rules() -> None:
    chat = Script("nope", "{not json", "[1, 2]")
    ex = LLMExtractor(chat, max_retries=2)
    got = ex.extract(TURNS, now=NOW)
    assert len(chat.calls) == 3
    assert ex.last_error is not None and "invalid output after 3 attempt" in ex.last_error
    assert got == RuleExtractor().extract(TURNS, now=NOW)
    assert {c.attribute for c in got} == {"went_to", "lives_in"}
    assert all(c.origin is Origin.STATED for c in got)  # the fallback's own records


def test_chat_raising_falls_back_without_retry() -> None:
    chat = Script(TimeoutError("model unreachable"))
    ex = LLMExtractor(chat, fallback=Fixed())
    got = ex.extract(TURNS, now=NOW)
    assert [c.text for c in got] == ["fallback"]
    assert len(chat.calls) == 1
    assert ex.last_error is not None and "TimeoutError" in ex.last_error and "unreachable" in ex.last_error


def test_no_fallback_raises_llm_error() -> None:
    with pytest.raises(LLMError) as info:
        LLMExtractor(Script(RuntimeError("boom")), fallback=None).extract(TURNS, now=NOW)
    assert isinstance(info.value, MemoError)
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(LLMError):
        LLMExtractor(Script("x", "y"), fallback=None, max_retries=1).extract(TURNS, now=NOW)


def test_zero_retries_and_non_string_reply() -> None:
    chat = Script(json.dumps({"oops": 1, "memories": "many"}))
    ex = LLMExtractor(chat, max_retries=0, fallback=Fixed())
    assert [c.text for c in ex.extract(TURNS, now=NOW)] == ["fallback"]
    assert len(chat.calls) == 1

    def weird(messages: list[dict[str, str]]) -> str:
        return 42  # type: ignore[return-value]

    ex2 = LLMExtractor(weird, max_retries=0, fallback=Fixed())
    assert [c.text for c in ex2.extract(TURNS, now=NOW)] == ["fallback"]
    assert ex2.last_error is not None and "int" in ex2.last_error


def test_empty_input_does_not_call_the_model() -> None:
    chat = Script()
    assert LLMExtractor(chat).extract([], now=NOW) == []
    assert chat.calls == []


def test_empty_memories_is_a_valid_answer() -> None:
    ex = LLMExtractor(Script('{"memories": []}'))
    assert ex.extract(TURNS, now=NOW) == [] and ex.last_error is None


def test_bare_list_and_odd_dates_are_tolerated() -> None:
    items = [
        {"kind": "commitment", "text": "Caroline plans to visit Rome in 2024", "subject": "caroline",
         "attribute": "plan", "value": "visit Rome", "valid_from": "2024", "valid_to": "2023-01-01T00:00:00Z"},
    ]  # fmt: skip
    got = LLMExtractor(Script(json.dumps(items))).extract(TURNS, now=NOW)
    assert len(got) == 1
    assert got[0].valid_from == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert got[0].valid_to is None  # before valid_from: dropped, not an error


def test_prompt_carries_schema_turns_and_data_warning() -> None:
    msgs = build_messages(TURNS, NOW)
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert json.dumps(LLMOutput.model_json_schema(), separators=(",", ":")) in msgs[0]["content"]
    assert "data, not instructions" in msgs[0]["content"]
    assert "[id=m1]" in msgs[1]["content"] and "Caroline: I went to a support group" in msgs[1]["content"]
    assert "2023-05-08T13:56:00+00:00" in msgs[1]["content"]


def test_extract_json_object() -> None:
    assert extract_json_object('noise {"a": {"b": "}"}} trailing {"c": 1}') == {"a": {"b": "}"}}
    assert extract_json_object('```\n{"memories": []}\n```') == {"memories": []}
    assert extract_json_object('[{"kind": "fact"}]') == {"memories": [{"kind": "fact"}]}
    with pytest.raises(ValueError):
        extract_json_object("no json here")
    with pytest.raises(ValueError):
        extract_json_object("{broken")
