"""A LangGraph graph with MeMo as its long-term store: MemoStore.

    python examples/langchain_langgraph_store.py [--path DIR]

Namespaces are LangMem's ("memories", user_id): with MemoStore(mem, tenant="acme"), ("memories", "alice")
is Alice's memory in tenant acme (code written for InMemoryStore runs unchanged).
The graph's node searches the user's memories for the question, answers with them in the prompt, and
saves what the user said. Alice's second thread recalls her first; Bob sees none of it. Offline it uses a
fake model; with OPENAI_API_KEY and `langchain_openai` it uses ChatOpenAI (unless MEMO_EXAMPLE_OFFLINE=1).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import SystemMessage  # noqa: E402
from langgraph.graph import START, MessagesState, StateGraph  # noqa: E402
from langgraph.runtime import Runtime  # noqa: E402

from langchain_memo import MemoStore  # noqa: E402
from langchain_memo.testing import RecordingChatModel, scripted  # noqa: E402
from shared_core import Memory  # noqa: E402


@dataclass
class Context:
    user_id: str
    tenant: str = "acme"


def chat_model(*fake_replies: str) -> BaseChatModel:
    if not os.environ.get("MEMO_EXAMPLE_OFFLINE") and os.environ.get("OPENAI_API_KEY"):
        try:
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
        except ImportError:
            pass
    return RecordingChatModel(messages=scripted(*fake_replies))


def build(model: BaseChatModel, store: MemoStore, prompts: list[str]) -> Any:
    def answer(state: MessagesState, runtime: Runtime[Context]) -> dict[str, Any]:
        assert runtime.store is not None
        namespace = ("memories", runtime.context.user_id)
        question = str(state["messages"][-1].text)
        found = runtime.store.search(namespace, query=question, limit=3)
        known = "\n".join(f"- {item.value['text']}" for item in found) or "(nothing yet)"
        system = f"You are a travel assistant. What you remember about this user:\n{known}"
        prompts.append(system)
        reply = model.invoke([SystemMessage(system), *state["messages"]])
        runtime.store.put(namespace, uuid.uuid4().hex, {"text": question, "source": "chat"})
        return {"messages": [reply]}

    graph = (
        StateGraph(MessagesState, context_schema=Context).add_node("answer", answer).add_edge(START, "answer")
    )
    return graph.compile(store=store)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="store directory (default: a temp directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mem = Memory.open(args.path or str(Path(tmp) / "memo_data"))
        store = MemoStore(mem, tenant="acme")
        prompts: list[str] = []
        graph = build(
            chat_model("Noted!", "Kyoto in autumn would suit you.", "Where would you like to go?"),
            store,
            prompts,
        )
        runs = [
            ("alice", "My favourite city is Kyoto and I love temples."),
            ("alice", "Plan a short trip for me."),
            ("bob", "Plan a short trip for me."),
        ]
        for user, text in runs:
            out = graph.invoke({"messages": [("user", text)]}, context=Context(user_id=user))
            print(
                f"[{user}] user: {text}\n[{user}] prompt:\n{prompts[-1]}\n[{user}] assistant: {out['messages'][-1].text}\n"
            )
        assert "Kyoto" in prompts[1], "alice's second thread should recall her first"
        assert "Kyoto" not in prompts[2], "bob must not see alice's memories"
        print("namespaces in tenant acme:", store.list_namespaces(prefix=("memories",)))
        print("OK: alice's memory came back in a new thread; bob saw none of it.")
        mem.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
