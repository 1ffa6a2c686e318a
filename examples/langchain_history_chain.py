"""A chat chain whose history lives in MeMo: RunnableWithMessageHistory + MemoChatMessageHistory.

    python examples/langchain_history_chain.py [--path DIR]

Two turns in session "s1"; then the store is reopened (as after a restart) and the history is still
there; then `clear()` forgets the session's turns. Offline it uses a fake chat model; with
OPENAI_API_KEY and `langchain_openai` it uses ChatOpenAI (unless MEMO_EXAMPLE_OFFLINE=1).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder  # noqa: E402
from langchain_core.runnables import RunnableConfig  # noqa: E402
from langchain_core.runnables.history import RunnableWithMessageHistory  # noqa: E402

from langchain_memo import MemoChatMessageHistory  # noqa: E402
from langchain_memo.testing import RecordingChatModel, scripted  # noqa: E402
from shared_core import Memory, Scope  # noqa: E402

ALICE = Scope(tenant="acme", user="alice")


def chat_model(*fake_replies: str) -> BaseChatModel:
    if not os.environ.get("MEMO_EXAMPLE_OFFLINE") and os.environ.get("OPENAI_API_KEY"):
        try:
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
        except ImportError:
            pass
    return RecordingChatModel(messages=scripted(*fake_replies))


def chain_for(mem: Memory, model: BaseChatModel) -> RunnableWithMessageHistory:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a concise assistant."), MessagesPlaceholder("history"), ("human", "{input}")]
    )
    with warnings.catch_warnings():  # LangChain marks RunnableWithMessageHistory deprecated; it still works
        warnings.simplefilter("ignore", DeprecationWarning)
        return RunnableWithMessageHistory(
            prompt | model,
            lambda session_id: MemoChatMessageHistory(mem, ALICE, session_id),
            input_messages_key="input",
            history_messages_key="history",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="store directory (default: a temp directory)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or str(Path(tmp) / "memo_data")
        session: RunnableConfig = {"configurable": {"session_id": "s1"}}

        mem = Memory.open(path)
        model = chat_model("Nice to meet you, Alice!", "Your name is Alice and you are learning the violin.")
        chain = chain_for(mem, model)
        for text in ("Hi, I'm Alice and I'm learning the violin.", "What's my name and what am I learning?"):
            print(f"user: {text}\nassistant: {chain.invoke({'input': text}, session).text}")
        if isinstance(model, RecordingChatModel):
            print("the model's last prompt:", [f"{m.type}: {m.text}" for m in model.seen[-1]])
            assert "learning the violin" in model.seen[-1][1].text
        mem.close()

        mem = Memory.open(path)  # as after a restart
        history = MemoChatMessageHistory(mem, ALICE, "s1")
        print("\nafter reopening the store, session s1 holds:")
        for m in history.messages:
            print(f"  {m.type}: {m.text}")
        assert len(history.messages) == 4
        history.clear()
        print(f"after clear(): {len(history.messages)} messages in s1")
        assert history.messages == []
        mem.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
