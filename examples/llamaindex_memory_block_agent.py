"""A LlamaIndex agent whose `Memory` gains MeMo long-term memory through `MemoMemoryBlock`.

    python examples/llamaindex_memory_block_agent.py [--path ./memo_data]

Monday: LlamaIndex's `Memory` with its defaults keeps the short-term buffer; the block stores every
turn it sees in MeMo (raw turns kept, facts extracted), and the agent saves one fact itself with
the `save_memory` tool.
Tuesday: a new LlamaIndex session (empty buffer); the agent's system message carries MeMo's
cited <memories> block with Monday's facts. The script prints it and checks it.

Offline by default (a scripted MockFunctionCallingLLM, hashing embedder). With OPENAI_API_KEY
set and `llama-index-llms-openai` installed it uses OpenAI instead, unless MEMO_EXAMPLE_OFFLINE=1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ToolCallBlock
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.memory import Memory as LIMemory

from llamaindex_memo import MemoMemoryBlock, memory_tools
from shared_core import Memory, Scope

MONDAY = [
    "Hi! My dog is called Biscuit.",
    "I'm training for the Berlin marathon in September.",
    "Please remember that my gate code is 4471.",
    "My favourite food is ramen.",
]
TUESDAY = "What's my dog's name, and what was my gate code?"


def scripted(messages: list[ChatMessage], **kwargs: Any) -> ChatMessage:
    """The offline stand-in for a tool-calling model: saves what it is asked to remember."""
    last = messages[-1]
    if last.role == MessageRole.TOOL:
        return ChatMessage(role=MessageRole.ASSISTANT, content="Saved.")
    text = last.content or ""
    if text.lower().startswith("please remember that my "):
        fact = "The user's " + text[len("please remember that my ") :].rstrip(".")
        call = ToolCallBlock(tool_call_id="call-1", tool_name="save_memory", tool_kwargs={"text": fact})
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])
    return ChatMessage(role=MessageRole.ASSISTANT, content="Got it!")


def pick_llm(seen: list[list[ChatMessage]]) -> tuple[Any, bool]:
    if os.environ.get("MEMO_EXAMPLE_OFFLINE") != "1" and os.environ.get("OPENAI_API_KEY"):
        try:
            from llama_index.llms.openai import OpenAI

            return OpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini")), True
        except ImportError:
            pass

    def recording(messages: list[ChatMessage], **kwargs: Any) -> ChatMessage:
        seen.append(list(messages))
        return scripted(messages, **kwargs)

    return MockFunctionCallingLLM(response_generator=recording), False


async def run(path: str) -> None:
    seen: list[list[ChatMessage]] = []
    llm, real = pick_llm(seen)
    if real:
        mem = Memory.open(path)
    else:
        from shared_core.embed import HashingEmbedder

        mem = Memory.open(path, embedder=HashingEmbedder(dim=256))
    scope = Scope(tenant="demo", user="sam")
    agent = FunctionAgent(
        tools=[*memory_tools(mem, scope)],
        llm=llm,
        system_prompt="You are a helpful assistant. Save lasting facts about the user with save_memory.",
    )

    def session(name: str) -> LIMemory:
        # LlamaIndex's defaults: the block stores every turn it sees, not only turns flushed past ~21k tokens
        return LIMemory.from_defaults(session_id=name, memory_blocks=[MemoMemoryBlock(mem, scope=scope)])

    monday = session("monday")
    for text in MONDAY:
        print(f"[monday] user: {text}\n[monday] agent: {await agent.run(user_msg=text, memory=monday)}")
    mem.flush()  # each turn is durable at once; extraction runs in the background: wait for it
    print("[monday] MeMo now holds:")
    for rec in mem.records(scope):
        print(f"  - {rec.kind.value:10} {rec.text}")

    tuesday = session("tuesday")
    reply = await agent.run(user_msg=TUESDAY, memory=tuesday)
    print(f"[tuesday] user: {TUESDAY}\n[tuesday] agent: {reply}")
    if real:
        print("[tuesday] (real model: see its answer above)")
    else:
        system = "\n".join(m.content or "" for m in seen[-1] if m.role == MessageRole.SYSTEM)
        print(f"[tuesday] the agent's system message:\n{system}")
        assert "<memo_memories>" in system and "Biscuit" in system and "4471" in system
        print("[tuesday] OK: a new session recalled Monday's facts through MemoMemoryBlock.")
    mem.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", help="MeMo store directory (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.path or str(Path(tmp) / "memo_data")))


if __name__ == "__main__":
    main()
