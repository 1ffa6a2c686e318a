"""Memory survives a new process: one process writes through each adapter, this process reads it back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from langchain_memo import (
    MemoChatMessageHistory,
    MemoConversationMemory,
    MemoMiddleware,
    MemoRetriever,
    MemoStore,
)
from langchain_memo.testing import RecordingChatModel, scripted
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_memo import MemoChatMessageHistory, MemoConversationMemory, MemoMiddleware, MemoStore
    from langchain_memo.testing import RecordingChatModel, scripted
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder

    mem = Memory.open(sys.argv[1], embedder=HashingEmbedder(256))
    agent = create_agent(RecordingChatModel(messages=scripted("Got it.")), middleware=[MemoMiddleware(mem)])
    run = {"configurable": {"user_id": "u-agent", "tenant": "acme", "thread_id": "t1"}}
    agent.invoke({"messages": [HumanMessage("My boat is called Wavelet")]}, run)
    history = MemoChatMessageHistory(mem, Scope(tenant="acme", user="u-history"), "s1")
    history.add_messages([HumanMessage("hello from process one"), AIMessage("hi!")])
    mem.remember("The retriever user collects stamps", Scope(tenant="acme", user="u-retriever"))
    legacy = MemoConversationMemory(memory=mem, scope=Scope(tenant="acme", user="u-legacy"), session_id="s1")
    legacy.save_context({"input": "my sister is called Ana"}, {"output": "noted"})
    MemoStore(mem, tenant="acme").put(("memories", "u-store"), "k1", {"text": "store item", "n": 1})
    mem.close()
    """
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lc-processes") / "store"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "ORT_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return path


@pytest.fixture
def reopened(written: Path) -> Iterator[Memory]:
    mem = Memory.open(written, embedder=HashingEmbedder(256))
    yield mem
    mem.close()


def test_middleware(reopened: Memory) -> None:
    model = RecordingChatModel(messages=scripted("Wavelet."))
    agent = create_agent(model, middleware=[MemoMiddleware(reopened, save=False)])
    agent.invoke(
        {"messages": [HumanMessage("What is my boat called?")]},
        {"configurable": {"user_id": "u-agent", "tenant": "acme"}},
    )
    assert "My boat is called Wavelet" in model.last_system_prompt


def test_history(reopened: Memory) -> None:
    msgs = MemoChatMessageHistory(reopened, Scope(tenant="acme", user="u-history"), "s1").messages
    assert [(m.type, m.text) for m in msgs] == [("human", "hello from process one"), ("ai", "hi!")]


def test_retriever(reopened: Memory) -> None:
    docs = MemoRetriever(memory=reopened, scope=Scope(tenant="acme", user="u-retriever")).invoke("stamps")
    assert docs[0].page_content == "The retriever user collects stamps"


def test_legacy(reopened: Memory) -> None:
    legacy = MemoConversationMemory(
        memory=reopened, scope=Scope(tenant="acme", user="u-legacy"), session_id="s1"
    )
    assert (
        "Human: my sister is called Ana\nAI: noted"
        in legacy.load_memory_variables({"input": "sister"})["history"]
    )


def test_store(reopened: Memory) -> None:
    item = MemoStore(reopened, tenant="acme").get(("memories", "u-store"), "k1")
    assert item is not None and item.value == {"text": "store item", "n": 1}
