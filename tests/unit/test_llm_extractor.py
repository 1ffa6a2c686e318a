"""The LLM extractor with a scripted fake `chat` callable: no model, no network."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone

import pytest

from shared_core.config import ExtractionConfig, MemoConfig
from shared_core.errors import LLMError, MemoError
from shared_core.extract.base import Candidate, ExtractInput, Extractor
from shared_core.extract.llm import (
    ChatFn,
    ChatReply,
    LLMExtractor,
    LLMOutput,
    build_messages,
    extract_json_object,
)
from shared_core.extract.rules import RuleExtractor
from shared_core.models import Kind, Origin
from shared_core.tokens import count_tokens

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


def test_chat_raising_is_retried_then_falls_back() -> None:
    chat = Script(TimeoutError("model unreachable"), ConnectionError("reset"))
    ex = LLMExtractor(chat, fallback=Fixed(), max_retries=1, retry_backoff=0)
    got = ex.extract(TURNS, now=NOW)
    assert [c.text for c in got] == ["fallback"]
    assert len(chat.calls) == 2  # one try and one retry
    assert ex.last_error is not None and "ConnectionError" in ex.last_error and "reset" in ex.last_error


def test_chat_raising_once_then_answering_uses_the_answer() -> None:
    chat = Script(TimeoutError("slow"), json.dumps(GOOD))
    ex = LLMExtractor(chat, fallback=None, max_retries=1, retry_backoff=0)
    got = ex.extract(TURNS, now=NOW)
    assert len(got) == 2 and ex.last_error is None and len(chat.calls) == 2
    assert chat.calls[0] == chat.calls[1]  # a failed call is retried as it was, nothing appended


def test_no_fallback_raises_llm_error() -> None:
    with pytest.raises(LLMError) as info:
        LLMExtractor(Script(RuntimeError("boom")), fallback=None, max_retries=0).extract(TURNS, now=NOW)
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


# ------------------------------------------------------------------ batching, usage, concurrency


def _turns(n: int) -> list[ExtractInput]:
    return [
        ExtractInput(
            message_id=f"t{i}",
            speaker="Caroline",
            text=f"I adopted pet number {i}.",
            timestamp=datetime(2023, 5, 8, 10, i % 60, tzinfo=timezone.utc),
        )
        for i in range(n)
    ]


_ID = re.compile(r"\[id=(t\d+)\]")


class PerTurn:
    """A fake model that answers one memory per turn it was shown; thread-safe, records calls."""

    def __init__(self, delay: float = 0.0, usage: bool = False) -> None:
        self.delay, self.usage = delay, usage
        self.calls: list[list[str]] = []
        self.inside = self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, str]]) -> str | ChatReply:
        ids = _ID.findall(messages[-1]["content"])
        with self._lock:
            self.calls.append(ids)
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        try:
            time.sleep(self.delay)
            memories = [
                {"kind": "fact", "text": f"Caroline adopted pet {i}", "subject": "caroline",
                 "attribute": "pet", "value": i, "source_message_ids": [i]}
                for i in ids
            ]  # fmt: skip
            text = json.dumps({"memories": memories})
            return ChatReply(text=text, input_tokens=100, output_tokens=10 * len(ids)) if self.usage else text
        finally:
            with self._lock:
                self.inside -= 1


def test_turns_go_to_the_model_in_batches() -> None:
    chat = PerTurn()
    ex = LLMExtractor(chat, batch_size=8, fallback=None)
    got = ex.extract(_turns(20), now=NOW)
    assert sorted(len(c) for c in chat.calls) == [4, 8, 8]  # 20 turns, 3 calls
    assert sorted(i for c in chat.calls for i in c) == sorted(f"t{i}" for i in range(20))
    assert [c.value for c in got] == [f"t{i}" for i in range(20)]  # batch order kept
    assert [c.source_message_ids for c in got] == [[f"t{i}"] for i in range(20)]


def test_usage_per_call_from_the_provider_or_estimated() -> None:
    ex = LLMExtractor(PerTurn(usage=True), batch_size=8, fallback=None)
    res = ex.extract_with_usage(_turns(10), now=NOW)
    assert [(c.turns, c.attempts, c.input_tokens, c.output_tokens, c.estimated) for c in res.calls] == [
        (8, 1, 100, 80, False),
        (2, 1, 100, 20, False),
    ]
    assert (res.input_tokens, res.output_tokens, res.total_tokens) == (200, 100, 300)
    assert ex.usage.batches == 2 and ex.usage.model_calls == 2 and ex.usage.input_tokens == 200

    chat = Script(json.dumps(GOOD))
    est = LLMExtractor(chat).extract_with_usage(TURNS, now=NOW)
    (call,) = est.calls
    assert call.estimated and call.output_tokens == count_tokens(json.dumps(GOOD))
    prompt = build_messages(TURNS, NOW)
    assert call.input_tokens == sum(count_tokens(m["content"]) + 4 for m in prompt)


def test_usage_counts_every_attempt_and_fallbacks() -> None:
    chat = Script("nope", json.dumps(GOOD))
    ex = LLMExtractor(chat, max_retries=1)
    (call,) = ex.extract_with_usage(TURNS, now=NOW).calls
    assert call.attempts == 2 and call.error is None
    assert call.output_tokens == count_tokens("nope") + count_tokens(json.dumps(GOOD))
    ex2 = LLMExtractor(Script("x"), max_retries=0, fallback=Fixed())
    (bad,) = ex2.extract_with_usage(TURNS, now=NOW).calls
    assert bad.error is not None and "invalid output" in bad.error
    assert ex2.usage.fallbacks == 1


def test_a_failing_batch_falls_back_alone() -> None:
    good = PerTurn()

    def chat(messages: list[dict[str, str]]) -> str | ChatReply:
        if "[id=t9]" in messages[-1]["content"]:
            return "not json"
        return good(messages)

    ex = LLMExtractor(chat, batch_size=5, max_retries=0, fallback=Fixed())
    got = ex.extract(_turns(10), now=NOW)
    assert [c.value for c in got[:5]] == [f"t{i}" for i in range(5)]
    assert [c.text for c in got[5:]] == ["fallback"]  # only the second batch fell back
    assert ex.last_error is not None


def test_concurrency_is_bounded_per_extractor() -> None:
    chat = PerTurn(delay=0.15)
    ex = LLMExtractor(chat, batch_size=1, max_concurrency=2, fallback=None)
    results: list[int] = []
    workers = [
        threading.Thread(target=lambda: results.append(len(ex.extract(_turns(4), now=NOW)))) for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert results == [4, 4]
    assert len(chat.calls) == 8
    assert chat.peak == 2  # calls overlap, but never more than max_concurrency at once


def test_instructions_reach_the_system_prompt() -> None:
    chat = Script('{"memories": []}')
    LLMExtractor(chat, instructions="Only keep food preferences.").extract(TURNS, now=NOW)
    system = chat.calls[0][0]["content"]
    assert system.endswith("Only keep food preferences.")
    assert "do not override the rules above" in system
    assert "Only keep" not in build_messages(TURNS, NOW)[0]["content"]


def test_retries_follow_the_config_unless_set() -> None:
    assert LLMExtractor(Script()).max_retries == ExtractionConfig().llm_max_retries
    cfg = MemoConfig(extraction=ExtractionConfig(llm_max_retries=4))
    chat = Script(*["nope"] * 10)
    ex = LLMExtractor(chat, fallback=Fixed())
    ex.configure(cfg.extraction)
    ex.extract(TURNS, now=NOW)
    assert len(chat.calls) == 5  # 1 + llm_max_retries
    explicit = LLMExtractor(Script(), max_retries=1)
    explicit.configure(cfg.extraction)
    assert explicit.max_retries == 1


def test_bad_settings_are_refused() -> None:
    for kwargs in ({"max_retries": -1}, {"batch_size": 0}, {"max_concurrency": 0}, {"retry_backoff": -1.0}):
        with pytest.raises(ValueError):
            LLMExtractor(Script(), **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ LangChain's own fake chat models


def _langchain_chat(model: object) -> ChatFn:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}

    def chat(messages: list[dict[str, str]]) -> str | ChatReply:
        out = model.invoke([kinds[m["role"]](m["content"]) for m in messages])  # type: ignore[attr-defined]
        usage = getattr(out, "usage_metadata", None) or {}
        return ChatReply(
            text=str(out.text),
            input_tokens=usage.get("input_tokens"),
            output_tokens=usage.get("output_tokens"),
        )

    return chat


def test_with_fake_list_chat_model() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    model = FakeListChatModel(responses=["Sorry, what?", "```json\n" + json.dumps(GOOD) + "\n```"])
    ex = LLMExtractor(_langchain_chat(model), max_retries=1, fallback=None)
    res = ex.extract_with_usage(TURNS, now=NOW)
    assert [c.attribute for c in res.candidates] == ["went_to", "lives_in"]
    assert res.calls[0].attempts == 2 and res.calls[0].estimated  # this fake reports no usage


def test_with_generic_fake_chat_model_reporting_usage() -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    reply = AIMessage(
        content=json.dumps(GOOD),
        usage_metadata={"input_tokens": 321, "output_tokens": 54, "total_tokens": 375},
    )
    ex = LLMExtractor(_langchain_chat(GenericFakeChatModel(messages=iter([reply]))), fallback=None)
    res = ex.extract_with_usage(TURNS, now=NOW)
    assert len(res.candidates) == 2
    assert (res.input_tokens, res.output_tokens, res.calls[0].estimated) == (321, 54, False)
