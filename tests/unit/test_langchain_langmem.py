"""LangMem's own memory tools, written for InMemoryStore, run unchanged on MemoStore (issue #12), and the
middleware of the same user recalls what they wrote; LangMem's delete is not undone by a reopen."""

from __future__ import annotations

import json
from pathlib import Path

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langmem import create_manage_memory_tool, create_search_memory_tool

from langchain_memo import MemoMiddleware, MemoStore
from langchain_memo.testing import RecordingChatModel, scripted
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder

RUN = {"configurable": {"langgraph_user_id": "alice", "thread_id": "t1"}}  # LangMem's documented config
ALICE = Scope(tenant="acme", user="alice")


def call(name: str, args: dict[str, object], cid: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": cid}])


def test_langmem_tools_on_memostore_and_middleware_recall(tmp_path: Path) -> None:
    mem = Memory.open(tmp_path / "store", embedder=HashingEmbedder(256))
    store = MemoStore(mem, tenant="acme")
    tools = [create_manage_memory_tool(namespace=("memories", "{langgraph_user_id}")),
             create_search_memory_tool(namespace=("memories", "{langgraph_user_id}"))]  # fmt: skip
    model = RecordingChatModel(
        messages=scripted(
            call("manage_memory", {"content": "Alice is allergic to peanuts", "action": "create"}, "c1"),
            call("search_memory", {"query": "allergy"}, "c2"),
            "Noted.",
        )  # fmt: skip
    )
    out = create_agent(model, tools=tools, store=store).invoke(
        {"messages": [HumanMessage("I'm allergic to peanuts")]}, RUN
    )
    found = json.loads([m for m in out["messages"] if isinstance(m, ToolMessage)][-1].text)
    assert found and found[0]["value"]["content"] == "Alice is allergic to peanuts"
    assert found[0]["namespace"] == ["memories", "alice"]
    # Alice's own scope in acme
    assert [r.text for r in mem.records(ALICE)] == ["Alice is allergic to peanuts"]

    recall = RecordingChatModel(messages=scripted("Avoid peanuts."))
    create_agent(recall, middleware=[MemoMiddleware(mem, tenant="acme", save=False)]).invoke(
        {"messages": [HumanMessage("any food I should avoid? peanuts?")]}, RUN
    )
    assert "allergic to peanuts" in recall.last_system_prompt

    key = found[0]["key"]
    forget = RecordingChatModel(
        messages=scripted(call("manage_memory", {"action": "delete", "id": key}, "c3"), "ok")
    )
    create_agent(forget, tools=tools, store=store).invoke({"messages": [HumanMessage("forget it")]}, RUN)
    assert store.get(("memories", "alice"), key) is None and mem.records(ALICE) == []
    mem.close()


def test_a_langmem_delete_is_not_undone_by_a_reopen(tmp_path: Path) -> None:
    mem = Memory.open(tmp_path / "store", embedder=HashingEmbedder(256))
    tools = [
        create_manage_memory_tool(
            namespace=("memories", "{langgraph_user_id}"), store=MemoStore(mem, tenant="acme")
        )
    ]
    manage = tools[0]
    created = manage.invoke({"content": "Alice keeps her spare key under the heron statue"}, RUN)
    key = created.rsplit(" ", 1)[-1]
    manage.invoke({"action": "delete", "id": key}, RUN)
    mem.close()
    reopened = Memory.open(tmp_path / "store", embedder=HashingEmbedder(256))
    try:
        assert MemoStore(reopened, tenant="acme").get(("memories", "alice"), key) is None
    finally:
        reopened.close()
