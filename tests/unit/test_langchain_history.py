"""MemoChatMessageHistory: a chat-history contract (run on LangChain's in-memory history too), plus
RunnableWithMessageHistory, isolation, review, extraction feed and errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from langchain_memo import MemoChatMessageHistory
from langchain_memo.testing import RecordingChatModel, scripted
from shared_core import MemoError, Memory, Scope, Status
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder

HistoryFactory = Callable[[str], BaseChatMessageHistory]
TOOL_TURN: list[BaseMessage] = [
    HumanMessage("what is 2+3?"),
    AIMessage(
        "", tool_calls=[{"name": "add", "args": {"a": 2, "b": 3}, "id": "call-1", "type": "tool_call"}]
    ),
    ToolMessage("5", tool_call_id="call-1", name="add"),
    AIMessage([{"type": "text", "text": "It is 5."}, {"type": "text", "text": " Anything else?"}]),
]


class ChatHistoryContract:
    """What any chat message history must do. Subclasses provide `factory`: session id -> history."""

    def test_starts_empty(self, factory: HistoryFactory) -> None:
        assert factory("s1").messages == []

    def test_order_and_types_round_trip(self, factory: HistoryFactory) -> None:
        h = factory("s1")
        h.add_messages([SystemMessage("be brief"), HumanMessage("hi"), AIMessage("hello!")])
        h.add_user_message("how are you?")
        h.add_ai_message("fine")
        got = factory("s1").messages  # a fresh object sees the same history
        assert [(m.type, m.text) for m in got] == [
            ("system", "be brief"), ("human", "hi"), ("ai", "hello!"), ("human", "how are you?"), ("ai", "fine"),
        ]  # fmt: skip

    def test_sessions_are_separate(self, factory: HistoryFactory) -> None:
        factory("s1").add_user_message("in one")
        factory("s2").add_user_message("in two")
        assert [m.text for m in factory("s1").messages] == ["in one"]
        assert [m.text for m in factory("s2").messages] == ["in two"]

    def test_clear(self, factory: HistoryFactory) -> None:
        h = factory("s1")
        h.add_user_message("forget me")
        factory("s2").add_user_message("keep me")
        h.clear()
        assert factory("s1").messages == [] and [m.text for m in factory("s2").messages] == ["keep me"]

    async def test_async_parity(self, factory: HistoryFactory) -> None:
        h = factory("s1")
        await h.aadd_messages([HumanMessage("a"), AIMessage("b")])
        assert [m.text for m in await h.aget_messages()] == ["a", "b"]
        await h.aclear()
        assert await h.aget_messages() == []


class TestReferenceInMemoryHistory(ChatHistoryContract):
    """The contract holds for LangChain's own history (so it tests the interface, not our choices)."""

    @pytest.fixture
    def factory(self) -> HistoryFactory:
        store: dict[str, InMemoryChatMessageHistory] = {}

        def make(sid: str) -> BaseChatMessageHistory:
            with warnings.catch_warnings():  # LangChain deprecates its in-memory history
                warnings.simplefilter("ignore", DeprecationWarning)
                return store.setdefault(sid, InMemoryChatMessageHistory())

        return make


class TickingClock(ManualClock):
    """Every reading is 1 ms after the previous one, like a real clock between calls."""

    def now(self) -> datetime:
        return self.advance(timedelta(milliseconds=1))


class TestMemoChatMessageHistory(ChatHistoryContract):
    @pytest.fixture
    def factory(self, tmp_path: Path) -> Iterator[HistoryFactory]:
        mem = Memory.open(tmp_path / "ticking", embedder=HashingEmbedder(256), clock=TickingClock())
        yield lambda sid: MemoChatMessageHistory(mem, Scope(tenant="acme", user="alice"), sid)
        mem.close()

    def test_users_are_isolated(self, mem: Memory, alice: Scope, bob: Scope) -> None:
        MemoChatMessageHistory(mem, alice, "s1").add_user_message("alice's words")
        assert MemoChatMessageHistory(mem, bob, "s1").messages == []

    def test_pending_review_turn_is_not_returned(self, mem: Memory, alice: Scope) -> None:
        h = MemoChatMessageHistory(mem, alice, "s1")
        h.add_messages([HumanMessage("my PIN is 1234"), AIMessage("ok")])
        pin = next(t for t in mem.recent_turns(alice, "s1") if "PIN" in t.text)
        mem.update(pin.id, alice, status=Status.PENDING_REVIEW)
        assert [m.text for m in h.messages] == ["ok"]

    def test_turns_feed_long_term_memory_and_clear_keeps_it(self, mem: Memory, alice: Scope) -> None:
        MemoChatMessageHistory(mem, alice, "s1").add_user_message("I live in Lisbon")
        mem.flush()  # extraction runs in the background
        MemoChatMessageHistory(mem, alice, "s1").clear()
        assert MemoChatMessageHistory(mem, alice, "s1").messages == [] and mem.recent_turns(alice) == []
        recalled = [h.record for h in mem.search("Where does the user live?", alice)]
        assert recalled and all(r.kind.value != "episode" for r in recalled)
        assert any("Lisbon" in r.text and r.provenance.session_id == "s1" for r in recalled)

    def test_max_messages_window_starts_on_a_user_turn(self, mem: Memory, alice: Scope) -> None:
        h = MemoChatMessageHistory(mem, alice, "s1", max_messages=3)
        h.add_messages([HumanMessage("1"), AIMessage("2"), HumanMessage("3"), AIMessage("4")])
        assert [m.text for m in h.messages] == ["3", "4"]
        assert [m.text for m in MemoChatMessageHistory(mem, alice, "s1").messages] == ["1", "2", "3", "4"]

    def test_max_tokens_bounds_the_window(self, mem: Memory, alice: Scope, clock: ManualClock) -> None:
        h = MemoChatMessageHistory(mem, alice, "s1", max_tokens=300)
        for i in range(12):
            clock.advance(timedelta(seconds=1))
            h.add_messages(
                [HumanMessage(f"question {i} " + "word " * 100), AIMessage(f"answer {i} " + "word " * 100)]
            )
        window = h.messages
        assert window and isinstance(window[0], HumanMessage) and count_tokens_approximately(window) <= 300
        assert window[-1].text.startswith("answer 11")

    def test_tool_calling_turns_are_kept(self, mem: Memory, alice: Scope) -> None:
        h = MemoChatMessageHistory(mem, alice, "s1")
        h.add_messages(TOOL_TURN)  # InvalidInput "content is empty" before
        got = h.messages
        assert [type(m) for m in got] == [type(m) for m in TOOL_TURN]
        assert "add" in got[1].text or got[1].tool_calls  # type: ignore[attr-defined]

    def test_tool_calls_tool_call_id_and_blocks_round_trip_exactly(self, mem: Memory, alice: Scope) -> None:
        h = MemoChatMessageHistory(mem, alice, "s1")
        h.add_messages(TOOL_TURN)
        got = h.messages
        assert got[1].tool_calls == TOOL_TURN[1].tool_calls  # type: ignore[attr-defined]
        assert got[2].tool_call_id == "call-1" and got[3].content == TOOL_TURN[3].content  # type: ignore[attr-defined]
        assert [m.model_dump(exclude={"id"}) for m in got] == [
            m.model_dump(exclude={"id"}) for m in TOOL_TURN
        ]

    @pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
    def test_no_turn_is_silently_lost_in_runnable_with_message_history(
        self, mem: Memory, alice: Scope
    ) -> None:
        call = AIMessage("", tool_calls=[{"name": "add", "args": {"a": 2, "b": 3}, "id": "call-1"}])
        chain = RunnableWithMessageHistory(
            RecordingChatModel(messages=scripted(call)), lambda sid: MemoChatMessageHistory(mem, alice, sid)
        )
        chain.invoke([HumanMessage("what is 2+3?")], {"configurable": {"session_id": "s1"}})
        assert [m.type for m in MemoChatMessageHistory(mem, alice, "s1").messages] == ["human", "ai"]

    def test_bad_input_is_a_memo_error(self, mem: Memory, alice: Scope) -> None:
        with pytest.raises(MemoError):
            MemoChatMessageHistory(mem, Scope(tenant="acme"), "s1")
        with pytest.raises(MemoError):
            MemoChatMessageHistory(mem, alice, "")
        with pytest.raises(MemoError):
            MemoChatMessageHistory(None, alice, "s1")  # type: ignore[arg-type]

    @pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
    def test_with_runnable_with_message_history(self, mem: Memory, alice: Scope, clock: ManualClock) -> None:
        prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{input}")])
        model = RecordingChatModel(messages=scripted("Hi Alice!", "You said your name is Alice."))
        chain = RunnableWithMessageHistory(
            prompt | model, lambda sid: MemoChatMessageHistory(mem, alice, sid),
            input_messages_key="input", history_messages_key="history",
        )  # fmt: skip
        cfg = {"configurable": {"session_id": "s1"}}
        chain.invoke({"input": "I'm Alice"}, cfg)
        clock.advance(timedelta(seconds=1))
        chain.invoke({"input": "What's my name?"}, cfg)
        assert [m.text for m in model.seen[-1]] == ["I'm Alice", "Hi Alice!", "What's my name?"]
        assert len(MemoChatMessageHistory(mem, alice, "s1").messages) == 4

    @pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
    async def test_runnable_with_message_history_async(self, mem: Memory, alice: Scope) -> None:
        prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{input}")])
        model = RecordingChatModel(messages=scripted("noted"))
        chain = RunnableWithMessageHistory(
            prompt | model, lambda sid: MemoChatMessageHistory(mem, alice, sid),
            input_messages_key="input", history_messages_key="history",
        )  # fmt: skip
        await chain.ainvoke({"input": "I'm Alice"}, {"configurable": {"session_id": "s2"}})
        assert [m.text for m in await MemoChatMessageHistory(mem, alice, "s2").aget_messages()] == [
            "I'm Alice",
            "noted",
        ]
