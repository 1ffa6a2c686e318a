"""Issue #12 (LlamaIndex side): every repro is a test. `MemoMemory` keeps `ChatMemoryBuffer`'s contract."""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ImageBlock, TextBlock
from llama_index.core.chat_engine import CondensePlusContextChatEngine, ContextChatEngine, SimpleChatEngine
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.schema import QueryBundle
from llama_index.core.utils import get_tokenizer

from llamaindex_memo import MemoMemory, MemoRetriever
from llamaindex_memo.testing import RecordingLLM
from shared_core import Kind, Memory, Scope
from shared_core.clock import ManualClock

ROOT = Path(__file__).resolve().parents[2]
TOKENS = get_tokenizer()
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class TickingClock(ManualClock):
    def now(self) -> datetime:
        return self.advance(milliseconds=1)


@pytest.fixture
def clock() -> ManualClock:
    return TickingClock()


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


def tokens(messages: list[ChatMessage]) -> int:
    return sum(len(TOKENS(m.content or "")) for m in messages)


def long_text(i: int, words: int = 700) -> str:
    return f"Turn {i}: " + " ".join(f"word{(i * 31 + j) % 997}" for j in range(words))


# ------------------------------------------------------------------------------ token limit
def test_get_never_returns_more_than_token_limit_and_starts_on_a_user_turn(mem: Memory, alice: Scope) -> None:
    MemoMemory(mem, scope=alice, session_id="old").put(user("My favourite tea is oolong."))
    mem.flush()  # an earlier session: its memories were extracted long ago
    memory = MemoMemory(mem, scope=alice, session_id="s1", token_limit=3000)
    for i in range(6):
        memory.put_messages([user(long_text(2 * i)), assistant(long_text(2 * i + 1))])
    memory.put(user("Which tea do I like?"))
    out = memory.get()
    assert tokens(out) <= 3000 and out[0].role == MessageRole.USER
    assert "oolong" in (out[-1].content or "")  # the long-term block fits inside the limit
    assert len(memory.get_all()) == 13
    out = memory.get(initial_token_count=1000)
    assert tokens(out) <= 2000 and out[0].role == MessageRole.USER


def test_history_starts_on_a_user_turn_after_ten_exchanges(mem: Memory, alice: Scope) -> None:
    memory = MemoMemory(mem, scope=alice, session_id="s1", token_limit=200)
    for i in range(10):
        memory.put_messages([user(long_text(i, 10)), assistant(long_text(i, 25))])
    out = memory.get()
    assert out and out[0].role == MessageRole.USER and tokens(out) <= 200


def test_simple_chat_engine_never_overflows_the_model_window(mem: Memory, alice: Scope) -> None:
    llm = RecordingLLM(reply="Noted.", is_chat_model=True)  # MockLLM: a 3,900-token window
    engine = SimpleChatEngine.from_defaults(
        llm=llm, memory=MemoMemory.from_defaults(memory=mem, scope=alice, llm=llm), system_prompt="Be brief."
    )
    for i in range(12):
        engine.chat(long_text(i))
        assert tokens(llm.chats[-1]) <= 3900


# -------------------------------------------------------------------- messages LlamaIndex accepts
def test_empty_assistant_content_never_makes_put_raise(mem: Memory, alice: Scope) -> None:
    memory = MemoMemory(mem, scope=alice, session_id="s1")
    memory.put(user("hi"))
    memory.put(ChatMessage(role=MessageRole.ASSISTANT, content=""))
    memory.put(ChatMessage(role=MessageRole.ASSISTANT, content=None))
    assert memory.get_all()[0].content == "hi"


async def test_function_agent_whose_model_answers_empty_completes(mem: Memory, alice: Scope) -> None:
    llm = MockFunctionCallingLLM(response_generator=lambda messages, **kw: assistant(""))
    memory = MemoMemory(mem, scope=alice, session_id="s1")
    assert str(await FunctionAgent(tools=[], llm=llm).run(user_msg="Hello?", memory=memory)) == ""
    assert memory.get_all()[0].content == "Hello?"


def test_an_answer_over_16000_characters_is_kept(mem: Memory, alice: Scope) -> None:
    answer = "lorem ipsum " * 2000  # 24,000 characters
    memory = MemoMemory(mem, scope=alice, session_id="s1")
    assert (
        str(SimpleChatEngine.from_defaults(llm=RecordingLLM(reply=answer), memory=memory).chat("go"))
        == answer
    )
    assert memory.get_all()[-1].content == answer


def test_one_odd_message_never_loses_a_batch(mem: Memory, alice: Scope) -> None:
    memory = MemoMemory(mem, scope=alice, session_id="s1")
    memory.put_messages([user("first"), assistant(""), user("second")])
    got = [m.content for m in memory.get_all()]
    assert got[0] == "first" and got[-1] == "second"


def test_images_round_trip_and_an_image_only_message_stays(mem: Memory, alice: Scope) -> None:
    memory = MemoMemory(mem, scope=alice, session_id="s1")
    with_text = ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(image=PNG)])
    image_only = ChatMessage(role="user", blocks=[ImageBlock(url="https://example.org/cat.png")])
    memory.put(with_text)
    memory.put(assistant("A pixel."))
    memory.put(image_only)
    again = MemoMemory(mem, scope=alice, session_id="s1")  # read back from the store
    assert again.get_all() == [with_text, assistant("A pixel."), image_only]
    llm = RecordingLLM(reply="Another pixel.", is_chat_model=True)
    SimpleChatEngine.from_defaults(llm=llm, memory=again).chat("And now?")
    sent = [b for m in llm.chats[-1] for b in m.blocks]
    assert sum(isinstance(b, ImageBlock) for b in sent) == 2  # the model sees both images again


# ------------------------------------------------------------------------------ engines
def test_get_accepts_a_query_bundle(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice's favourite city is Kyoto", alice)
    memory = MemoMemory(mem, scope=alice, session_id="s1", insert_method="system")
    out = memory.get(input=QueryBundle(query_str="favourite city"))
    assert "Kyoto" in (out[0].content or "")


def system_messages(chat: list[ChatMessage]) -> int:
    return sum(m.role == MessageRole.SYSTEM for m in chat)


async def test_one_system_message_per_prompt(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice is allergic to peanuts", alice)
    llm = RecordingLLM(reply="Noted.", is_chat_model=True)
    simple = SimpleChatEngine.from_defaults(
        llm=llm, memory=MemoMemory(mem, alice, "s1"), system_prompt="You are kind."
    )
    context = ContextChatEngine.from_defaults(
        retriever=MemoRetriever(mem, alice, k=3), llm=llm, memory=MemoMemory(mem, alice, "s2")
    )
    for engine in (simple, context):
        for q in ("peanut snack?", "another peanut idea?", "a peanut dessert?"):
            engine.chat(q)
            assert system_messages(llm.chats[-1]) == 1
    assert "allergic to peanuts" in (llm.chats[-1][-1].content or "") + (llm.chats[-1][0].content or "")
    seen: list[list[ChatMessage]] = []

    def reply(messages: list[ChatMessage], **kw: object) -> ChatMessage:
        seen.append(list(messages))
        return assistant("Noted.")

    agent = FunctionAgent(
        tools=[], llm=MockFunctionCallingLLM(response_generator=reply), system_prompt="Be kind."
    )
    memory = MemoMemory(mem, alice, "s3")
    for q in ("peanut snack?", "another peanut idea?"):
        await agent.run(user_msg=q, memory=memory)
        assert system_messages(seen[-1]) == 1 and "allergic to peanuts" in (seen[-1][-1].content or "")


def test_condense_plus_context_does_not_condense_the_first_question(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice's favourite city is Kyoto", alice)
    llm = RecordingLLM(reply="Kyoto.")
    engine = CondensePlusContextChatEngine.from_defaults(
        retriever=MemoRetriever(mem, alice, k=3), llm=llm, memory=MemoMemory(mem, alice, "new-session")
    )
    engine.chat("Which city do I like?")
    assert not any("Standalone question" in p for p in llm.prompts)
    engine.chat("Why?")
    assert any("Standalone question" in p for p in llm.prompts)  # from the second question on, as built-in


def test_injected_memories_are_recorded_as_used(mem: Memory, alice: Scope) -> None:
    rec = mem.remember("Alice's favourite city is Kyoto", alice)
    memory = MemoMemory(mem, alice, "s1")
    memory.put(user("Which city do I like?"))
    assert "Kyoto" in (memory.get()[-1].content or "")
    mem.flush()
    assert mem.get(rec.id, alice).access_count == 1


# ------------------------------------------------------------------------------ serialization
def test_to_dict_from_dict_json_and_pickle_reconnect(mem: Memory, alice: Scope) -> None:
    memory = MemoMemory(mem, alice, "s1", token_limit=1234)
    memory.put_messages([user("hello"), assistant("hi")])
    data = memory.to_dict()
    text = json.dumps(data)
    assert "Client" not in text and "object at" not in text  # configuration, never a handle
    for again in (
        MemoMemory.from_dict(json.loads(text)),
        MemoMemory.from_json(memory.to_json()),
        pickle.loads(pickle.dumps(memory)),
    ):
        assert isinstance(again, MemoMemory) and again.memory is mem
        assert (again.scope, again.session_id, again.token_limit) == (alice, "s1", 1234)
        assert [m.content for m in again.get_all()] == ["hello", "hi"]


def test_a_serialized_memory_reconnects_in_another_process(tmp_path: Path, alice: Scope) -> None:
    from shared_core.embed import HashingEmbedder

    mem = Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256))
    memory = MemoMemory(mem, alice, "s1")
    memory.put_messages([user("My favourite tea is oolong."), assistant("Lovely.")])
    data = json.dumps(memory.to_dict())
    mem.close()
    script = (
        "import json, sys\nfrom llamaindex_memo import MemoMemory\n"
        "m = MemoMemory.from_dict(json.loads(sys.argv[1]))\n"
        "m.put(__import__('llama_index.core.llms', fromlist=['x']).ChatMessage(role='user', content='more'))\n"
        "print(json.dumps([x.content for x in m.get_all()]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, data], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [
        "My favourite tea is oolong.",
        "Lovely.",
        "more",
    ]


async def test_workflow_context_to_dict_from_dict_keeps_the_memory(mem: Memory, alice: Scope) -> None:
    from workflows import Context
    from workflows.context.serializers import JsonSerializer

    llm = MockFunctionCallingLLM(response_generator=lambda messages, **kw: assistant("Noted."))
    agent = FunctionAgent(tools=[], llm=llm)
    ctx = Context(agent)
    await agent.run(user_msg="I like green tea.", memory=MemoMemory(mem, alice, "s1"), ctx=ctx)
    data = json.loads(json.dumps(ctx.to_dict(serializer=JsonSerializer())))
    restored = Context.from_dict(agent, data, serializer=JsonSerializer())
    await agent.run(user_msg="And black tea?", ctx=restored)
    memory = await restored.store.get("memory")
    assert isinstance(memory, MemoMemory) and memory.session_id == "s1"
    got = [m.content for m in MemoMemory(mem, alice, "s1").get_all()]
    assert got == ["I like green tea.", "Noted.", "And black tea?", "Noted."]


# ------------------------------------------------------------------------------ packaging
def test_import_without_the_extra_names_the_install_command() -> None:
    script = "import sys; sys.modules['llama_index'] = None; import llamaindex_memo"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0
    assert "ImportError" in done.stderr and 'pip install "memo-memory[llamaindex]"' in done.stderr


def test_kinds_default_to_long_term_memories(mem: Memory, alice: Scope) -> None:
    assert MemoMemory(mem, alice).kinds == [Kind.FACT, Kind.PREFERENCE, Kind.EVENT, Kind.COMMITMENT]


def test_a_restore_reconnects_to_the_memory_open_now(tmp_path: Path, alice: Scope) -> None:
    from shared_core.embed import HashingEmbedder

    first = Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256))
    kept = MemoMemory(first, alice, "s1")  # still referenced: its memory object stays alive
    first.close()
    second = Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256))
    current = MemoMemory(second, alice, "s1")
    assert MemoMemory.from_dict(kept.to_dict()).memory is second
    assert MemoMemory.from_dict(current.to_dict()).memory is second
    second.close()
