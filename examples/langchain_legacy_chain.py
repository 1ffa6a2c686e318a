"""Classic-chain memory with MeMo: MemoConversationMemory (a `langchain_classic` BaseMemory).

    python examples/langchain_legacy_chain.py [--path DIR]

LangChain deprecates ConversationChain (it still runs, with a warning: `ConversationChain(llm=llm,
memory=MemoConversationMemory(...))`). This shows the pattern that replaces it with the same memory object:
`load_memory_variables` -> prompt | model -> `save_context`. Run 1 and run 2 are separate sessions;
run 2's prompt holds run 1's long-term memory. Offline it uses a fake model; with OPENAI_API_KEY and
`langchain_openai` it uses ChatOpenAI (unless MEMO_EXAMPLE_OFFLINE=1).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402

from langchain_memo import MemoConversationMemory  # noqa: E402
from langchain_memo.testing import RecordingChatModel, scripted  # noqa: E402
from shared_core import Memory, Scope  # noqa: E402

ALICE = Scope(tenant="acme", user="alice")
PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a friendly assistant. What you know about the user:\n{history}"),
        ("human", "{input}"),
    ]
)


def chat_model(*fake_replies: str) -> BaseChatModel:
    if not os.environ.get("MEMO_EXAMPLE_OFFLINE") and os.environ.get("OPENAI_API_KEY"):
        try:
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
        except ImportError:
            pass
    return RecordingChatModel(messages=scripted(*fake_replies))


def turn(memory: MemoConversationMemory, model: BaseChatModel, text: str) -> str:
    variables = memory.load_memory_variables({"input": text})  # recent turns + relevant memories
    prompt = PROMPT.invoke({**variables, "input": text})
    print(f"--- prompt ---\n{prompt.to_string()}\n--------------")
    answer = str(model.invoke(prompt).text)
    memory.save_context({"input": text}, {"output": answer})
    print(f"user: {text}\nassistant: {answer}\n")
    return prompt.to_string()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="store directory (default: a temp directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mem = Memory.open(args.path or str(Path(tmp) / "memo_data"))
        model = chat_model(
            "Lovely! Hiking in the Alps sounds great.", "Since you love hiking, try the Dolomites."
        )
        turn(
            MemoConversationMemory(memory=mem, scope=ALICE, session_id="monday"),
            model,
            "I love hiking in the Alps.",
        )
        mem.flush()  # the turns are durable at once; memories are extracted in the background
        later = MemoConversationMemory(
            memory=mem, scope=ALICE, session_id="friday"
        )  # a new session, days later
        seen = turn(later, model, "Where should I go on holiday?")
        assert "I love hiking in the Alps" in seen, "the new session's prompt should hold the old memory"
        print("OK: the friday session's prompt held what Alice said on monday.")
        later.clear()  # forgets friday's turns; monday's memories stay
        mem.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
