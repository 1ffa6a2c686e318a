"""`MemoMemoryBlock` inside LlamaIndex's `Memory`: flushed messages reach MeMo, memories reach the LLM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.memory import Memory as LIMemory

from llamaindex_memo import MemoMemoryBlock
from llamaindex_memo.testing import RecordingLLM
from shared_core import Kind, MemoError, Memory, Scope, ScopeError, Status

ROOT = Path(__file__).resolve().parents[2]


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def small_memory(block: MemoMemoryBlock, session_id: str = "li-s1") -> LIMemory:
    """A tiny short-term buffer, so that a few messages are flushed into the block."""
    return LIMemory.from_defaults(
        session_id=session_id,
        token_limit=60,
        token_flush_size=20,
        chat_history_token_ratio=0.5,
        memory_blocks=[block],
    )


async def test_flushed_messages_reach_memo_and_come_back(mem: Memory, alice: Scope) -> None:
    memory = small_memory(MemoMemoryBlock(mem, scope=alice))
    await memory.aput(user("I live in Berlin and I work at Siemens as an engineer."))
    for i in range(6):
        await memory.aput(user(f"Filler message number {i} about nothing in particular at all."))
    episodes = mem.records(alice, kinds=[Kind.EPISODE])
    assert any("Berlin" in e.text for e in episodes)
    assert {e.provenance.session_id for e in episodes} == {"li-s1"}  # LlamaIndex's session id
    mem.flush()  # extraction runs in the background
    assert any("Siemens" in r.text for r in mem.records(alice, kinds=[Kind.FACT]))
    out = await memory.aget(input="Where do I work?")
    assert out[0].role == MessageRole.SYSTEM
    system = out[0].content or ""
    assert "<memo_memories>" in system and "<memories>" in system and "Siemens" in system


async def test_aget_with_no_messages_is_empty(mem: Memory, alice: Scope) -> None:
    block = MemoMemoryBlock(mem, scope=alice)
    assert await block.aget([]) == ""
    assert await block.aget(None) == ""


def test_block_text_reaches_the_llm_of_a_chat_engine(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice is vegetarian", alice, kind="preference")
    llm = RecordingLLM(reply="Here is a veggie recipe.")
    memory = LIMemory.from_defaults(session_id="s1", memory_blocks=[MemoMemoryBlock(mem, scope=alice)])
    engine = SimpleChatEngine.from_defaults(memory=memory, llm=llm)
    assert str(engine.chat("Suggest a dinner for a vegetarian like me")) == "Here is a veggie recipe."
    assert "Alice is vegetarian" in (llm.chats[-1][0].content or "")
    assert (
        "".join(engine.stream_chat("another vegetarian dinner?").response_gen) == "Here is a veggie recipe."
    )
    assert "Alice is vegetarian" in (llm.chats[-1][0].content or "")


def test_two_users_never_see_each_other(mem: Memory, alice: Scope, bob: Scope) -> None:
    mem.remember("Alice's locker code is 4471", alice)
    mem.remember("Bob's locker code is 9902", bob)
    bob_memory = LIMemory.from_defaults(session_id="s1", memory_blocks=[MemoMemoryBlock(mem, scope=bob)])
    system = " ".join(m.content or "" for m in bob_memory.get(input="what is the locker code? 4471 Alice"))
    assert "9902" in system and "4471" not in system


async def test_pending_review_is_never_returned(mem: Memory, alice: Scope) -> None:
    rec = mem.remember("Alice's doctor is Dr Hansen", alice)
    block = MemoMemoryBlock(mem, scope=alice)
    assert "Hansen" in await block.aget([user("who is my doctor?")])
    mem.update(rec.id, alice, status=Status.PENDING_REVIEW)
    assert "Hansen" not in await block.aget([user("who is my doctor? Dr Hansen")])


async def test_sync_and_async_memory_give_the_same_block(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice plays the cello in an orchestra", alice)
    memory = LIMemory.from_defaults(session_id="s1", memory_blocks=[MemoMemoryBlock(mem, scope=alice)])
    sync = memory.get(input="what instrument do I play?")
    asyn = await memory.aget(input="what instrument do I play?")
    assert [m.content for m in sync] == [m.content for m in asyn]
    assert "cello" in (sync[0].content or "")


async def test_bad_input_is_a_memo_error(mem: Memory, alice: Scope) -> None:
    block = MemoMemoryBlock(mem, scope=alice)
    with pytest.raises(ScopeError):
        MemoMemoryBlock(mem, scope=None)
    with pytest.raises(ScopeError):
        MemoMemoryBlock(mem, scope={"tenant": "acme"})
    with pytest.raises(MemoError):
        MemoMemoryBlock(mem, scope=alice, session_id="\x00")
    # agent scratchpad (tool calls, tool results) is never an error: kept whole (`Turn.metadata`)
    await block.aput(
        [ChatMessage(role=MessageRole.TOOL, content="42", additional_kwargs={"tool_call_id": "c"})]
    )
    assert len(mem.records(alice, kinds=[Kind.EPISODE])) == 1


async def test_one_odd_message_never_loses_a_flushed_batch(mem: Memory, alice: Scope) -> None:
    block = MemoMemoryBlock(mem, scope=alice, store_active=False)
    too_long = user("x" * 1_000_001)  # beyond what MeMo stores: logged, the others kept
    await block.aput(
        [user("I live in Lisbon."), ChatMessage(role="assistant", content=""), too_long, user("ok")]
    )
    texts = [e.text for e in mem.records(alice, kinds=[Kind.EPISODE])]
    assert "I live in Lisbon." in texts and "ok" in texts and not any(t.startswith("xxx") for t in texts)


def test_with_llamaindex_defaults_every_turn_reaches_memo(mem: Memory, alice: Scope) -> None:
    """LlamaIndex's `Memory` flushes to blocks only past ~21,000 tokens: the block stores what it sees."""
    memory = LIMemory.from_defaults(session_id="s1", memory_blocks=[MemoMemoryBlock(mem, scope=alice)])
    engine = SimpleChatEngine.from_defaults(memory=memory, llm=RecordingLLM(reply="Noted."))
    engine.chat("I work at Siemens as an engineer.")
    engine.chat("I also play the cello.")
    texts = [e.text for e in mem.records(alice, kinds=[Kind.EPISODE])]
    assert texts == ["I work at Siemens as an engineer.", "Noted.", "I also play the cello."]
    engine.chat("thanks")
    assert len(mem.records(alice, kinds=[Kind.EPISODE])) == 5  # nothing stored twice
    mem.flush()  # extraction runs in the background
    assert any("Siemens" in r.text for r in mem.records(alice, kinds=[Kind.FACT]))


def test_the_block_serializes_to_its_configuration(mem: Memory, alice: Scope) -> None:
    import json
    import pickle

    block = MemoMemoryBlock(mem, scope=alice, session_id="s1", k=7)
    data = json.loads(json.dumps(block.model_dump(mode="json")))
    assert "Client" not in json.dumps(data)
    for again in (
        MemoMemoryBlock.model_validate(data),
        MemoMemoryBlock(**data),
        pickle.loads(pickle.dumps(block)),
    ):
        assert again.memory is mem and (again.scope, again.session_id, again.k) == (alice, "s1", 7)


WRITE = """
import asyncio, sys
from llama_index.core.llms import ChatMessage
from llama_index.core.memory import Memory as LIMemory
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from llamaindex_memo import MemoMemoryBlock
mem = Memory.open(sys.argv[1], embedder=HashingEmbedder(dim=256))
block = MemoMemoryBlock(mem, scope=Scope(tenant="acme", user="alice"))
memory = LIMemory.from_defaults(session_id="run1", token_limit=60, token_flush_size=20,
                                chat_history_token_ratio=0.5, memory_blocks=[block])
memory.put(ChatMessage(role="user", content="My favourite tea is oolong."))
for i in range(6):
    memory.put(ChatMessage(role="user", content=f"Filler message number {i} about nothing in particular at all."))
mem.close()
"""


WRITE_DEFAULTS = """
import sys
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import Memory as LIMemory
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from llamaindex_memo import MemoMemoryBlock
from llamaindex_memo.testing import RecordingLLM
mem = Memory.open(sys.argv[1], embedder=HashingEmbedder(dim=256))
memory = LIMemory.from_defaults(session_id="run1", memory_blocks=[MemoMemoryBlock(mem, scope=Scope(tenant="acme", user="alice"))])
engine = SimpleChatEngine.from_defaults(memory=memory, llm=RecordingLLM(reply="Noted."))
engine.chat("My favourite tea is oolong.")
engine.chat("Good night.")
mem.close()
"""


def run(script: str, store: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(store)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_memory_survives_a_new_process(tmp_path: Path) -> None:
    """A subprocess flushes turns into the block; this process reads the store afresh."""
    from shared_core.embed import HashingEmbedder

    run(WRITE, tmp_path / "store")
    mem = Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256))
    out = {}
    for name in ("alice", "bob"):
        block = MemoMemoryBlock(mem, scope=Scope(tenant="acme", user=name))
        memory = LIMemory.from_defaults(session_id="run2", memory_blocks=[block])
        out[name] = [m.content or "" for m in memory.get(input="which tea do I like?")]
    assert len(out["alice"]) == 1 and "oolong" in out["alice"][0]
    assert out["bob"] == []
    mem.close()


def test_with_defaults_recall_crosses_processes(tmp_path: Path) -> None:
    """The README's one line (LlamaIndex defaults): a process chats, another one recalls."""
    from shared_core.embed import HashingEmbedder

    run(WRITE_DEFAULTS, tmp_path / "store")
    mem = Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256))
    llm = RecordingLLM(reply="Oolong.")
    block = MemoMemoryBlock(mem, scope=Scope(tenant="acme", user="alice"))
    memory = LIMemory.from_defaults(session_id="run2", memory_blocks=[block])
    SimpleChatEngine.from_defaults(memory=memory, llm=llm).chat("Which tea do I like?")
    assert "oolong" in (llm.chats[-1][0].content or "")
    mem.close()
