"""The LangChain adapters over a real `chroma run` server: two clients share one memory."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from langchain_memo import MemoChatMessageHistory, MemoMiddleware, MemoStore
from langchain_memo.testing import RecordingChatModel, scripted
from shared_core import Memory, Scope

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]


def test_two_clients_share_agent_memory_history_and_store(
    server_mem: Memory, chroma_server: tuple[str, int]
) -> None:
    host, port = chroma_server
    other = Memory.connect(host, port, embedder=server_mem.engine.embedder, config=server_mem.config)
    run = {"configurable": {"user_id": "alice", "tenant": "acme", "thread_id": "t1"}}
    writer = create_agent(
        RecordingChatModel(messages=scripted("Noted.")), middleware=[MemoMiddleware(server_mem)]
    )
    writer.invoke({"messages": [HumanMessage("My build server is called bluebird")]}, run)
    MemoStore(server_mem, tenant="acme").put(
        ("memories", "alice", "notes"), "k", {"text": "deploys on fridays", "n": 1}
    )
    server_mem.flush()  # journaled writes reach the server (and extraction finishes) before the other client reads

    model = RecordingChatModel(messages=scripted("bluebird"))
    reader = create_agent(model, middleware=[MemoMiddleware(other, save=False)])
    reader.invoke({"messages": [HumanMessage("What is my build server called?")]}, run)
    assert "bluebird" in model.last_system_prompt
    alice = Scope(tenant="acme", user="alice")
    assert [m.text for m in MemoChatMessageHistory(other, alice, "t1").messages] == [
        "My build server is called bluebird",
        "Noted.",
    ]
    assert MemoStore(other, tenant="acme").get(("memories", "alice", "notes"), "k").value == {
        "text": "deploys on fridays",
        "n": 1,
    }  # type: ignore[union-attr]
    other.close()
