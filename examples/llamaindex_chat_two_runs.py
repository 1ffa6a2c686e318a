"""A LlamaIndex chat engine that remembers a user across two separate runs (two processes).

    python examples/llamaindex_chat_two_runs.py [--path ./memo_data]

The script runs itself twice, as two subprocesses sharing one MeMo store:
  run 1: Priya tells the assistant about herself; MeMo stores the turns and extracts facts.
  run 2: a brand-new process and a new session; the LLM's prompt carries run 1's facts as a
         cited <memories> block, which this script prints and asserts.

Offline by default (a recording MockLLM, hashing embedder). With OPENAI_API_KEY set and
`llama-index-llms-openai` installed it uses OpenAI instead, unless MEMO_EXAMPLE_OFFLINE=1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

USER = "priya"
RUN_1 = [
    "Hi! My name is Priya.",
    "I live in Lisbon with my dog.",
    "I'm allergic to peanuts, so I always check labels.",
]
RUN_2 = "Can you suggest a snack for my hike tomorrow?"


def pick_llm() -> tuple[Any, bool]:
    """OpenAI when configured (and not forced offline), else a MockLLM that records its prompts."""
    if os.environ.get("MEMO_EXAMPLE_OFFLINE") != "1" and os.environ.get("OPENAI_API_KEY"):
        try:
            from llama_index.llms.openai import OpenAI

            return OpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini")), True
        except ImportError:
            pass
    from llamaindex_memo.testing import RecordingLLM

    return RecordingLLM(reply="Happy to help!"), False


def capture_llm_inputs() -> list[list[Any]]:
    """Every message list any LLM is sent, via LlamaIndex instrumentation (works for real LLMs too)."""
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    from llama_index.core.instrumentation.events.llm import LLMChatStartEvent

    seen: list[list[Any]] = []

    class Capture(BaseEventHandler):
        def handle(self, event: Any, **kwargs: Any) -> None:
            if isinstance(event, LLMChatStartEvent):
                seen.append(list(event.messages))

    get_dispatcher().add_event_handler(Capture())
    return seen


def child(run: int, path: str) -> None:
    from llama_index.core.chat_engine import SimpleChatEngine

    from llamaindex_memo import MemoMemory, extractor_from_llm
    from shared_core import Memory, Scope

    llm, real = pick_llm()
    if real:  # MeMo's default offline embedder (MiniLM); the real LLM also extracts the memories
        mem = Memory.open(path, extractor=extractor_from_llm(llm))
    else:
        from shared_core.embed import HashingEmbedder

        mem = Memory.open(path, embedder=HashingEmbedder(dim=256))
    seen = capture_llm_inputs()
    memory = MemoMemory(mem, scope=Scope(tenant="demo", user=USER), session_id=f"run-{run}")
    engine = SimpleChatEngine.from_defaults(
        llm=llm, memory=memory, system_prompt="You are a helpful assistant."
    )

    if run == 1:
        for text in RUN_1:
            print(f"[run 1] user: {text}\n[run 1] assistant: {engine.chat(text)}")
        mem.flush()  # each turn is durable at once; extraction runs in the background: wait for it
        facts = [r.text for r in mem.records(Scope(tenant="demo", user=USER)) if r.kind.value != "episode"]
        print(f"[run 1] MeMo extracted: {facts}")
    else:
        print(f"[run 2] user: {RUN_2}\n[run 2] assistant: {engine.chat(RUN_2)}")
        # the chat engine's call (with a real LLM, MeMo's extractor calls the LLM too)
        sent = next(c for c in reversed(seen) if any((m.content or "").endswith(RUN_2) for m in c))
        prompt = "\n".join(f"{m.role.value}: {m.content}" for m in sent)
        print(f"[run 2] what the LLM was sent:\n{prompt}")
        # an LLM-inferred health fact ("allergic to peanuts") waits in MeMo's review queue and is not
        # injected until approved; the rule extractor's stated version is injected at once
        expected = ["<memories>", "Lisbon"] if real else ["<memories>", "Lisbon", "peanuts"]
        assert all(x in prompt for x in expected), f"run 1's facts missing: {expected}"
        print("[run 2] OK: the LLM saw what Priya said in run 1, in another process.")
    mem.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", help="MeMo store directory (default: a temporary directory)")
    ap.add_argument("--run", type=int, choices=(1, 2), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        child(args.run, args.path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or str(Path(tmp) / "memo_data")
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
        for run in (1, 2):
            done = subprocess.run([sys.executable, __file__, "--run", str(run), "--path", path], env=env)
            if done.returncode != 0:
                print(f"run {run} failed", file=sys.stderr)
                return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
