"""An agent remembers a user across two separate runs (two processes), with MemoMiddleware.

    python examples/langchain_agent_two_runs.py [--path DIR]

The script runs itself twice as subprocesses. Run 1: the user tells the agent about herself. Run 2 (a new
process, a new thread): she asks for a snack idea; the model's system prompt now holds what run 1 stored
(printed and asserted). Offline it uses a fake chat model; with OPENAI_API_KEY set and `langchain_openai`
installed it uses ChatOpenAI (unless MEMO_EXAMPLE_OFFLINE=1). The store is a temp directory unless --path.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import wrap_model_call  # noqa: E402
from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402
from langchain_core.runnables import RunnableConfig  # noqa: E402

from langchain_memo import MemoMiddleware  # noqa: E402
from langchain_memo.testing import RecordingChatModel, scripted  # noqa: E402
from shared_core import Memory  # noqa: E402

FACT = "I'm allergic to peanuts"


def chat_model(*fake_replies: str) -> BaseChatModel:
    """A real model when one is configured (and not forced offline), else a scripted fake."""
    if not os.environ.get("MEMO_EXAMPLE_OFFLINE") and os.environ.get("OPENAI_API_KEY"):
        try:
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
        except ImportError:
            pass
    return RecordingChatModel(messages=scripted(*fake_replies))


def run(path: str, number: int) -> None:
    mem = Memory.open(path)  # default embedder: all-MiniLM-L6-v2, offline
    prompts: list[str] = []

    @wrap_model_call
    def show_prompt(request: Any, handler: Any) -> Any:  # inner to MemoMiddleware: sees the injected prompt
        prompts.append(request.system_prompt or "")
        return handler(request)

    if number == 1:
        model = chat_model("Thanks Alice, I'll remember that.")
        question = f"Hi, I'm Alice. {FACT}, and I live in Lisbon."
    else:
        model = chat_model("How about apple slices with sunflower-seed butter? No peanuts.")
        question = "Can you suggest a snack for me?"
    agent = create_agent(
        model, system_prompt="You are a helpful assistant.", middleware=[MemoMiddleware(mem), show_prompt]
    )
    # whose memory: the user from the run's config; the thread is the session the turns are tagged with
    config: RunnableConfig = {
        "configurable": {"user_id": "alice", "tenant": "acme", "thread_id": f"run-{number}"}
    }
    answer = agent.invoke({"messages": [HumanMessage(question)]}, config)["messages"][-1].text
    print(f"[run {number}] user: {question}\n[run {number}] agent: {answer}")
    print(f"[run {number}] system prompt the model saw:\n{prompts[-1]}\n")
    if number == 2:
        assert "allergic to peanuts" in prompts[-1], "run 2 should see run 1's fact in its system prompt"
        print("[run 2] OK: the second run's model saw the first run's fact.")
    mem.flush()  # the turns were durable at once; let the background extraction finish before exiting
    mem.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="store directory (default: a temp directory)")
    parser.add_argument("--run", type=int, choices=[1, 2], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.path, args.run)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or str(Path(tmp) / "memo_data")
        for number in (1, 2):  # two separate processes: nothing survives but the store
            done = subprocess.run([sys.executable, __file__, "--path", path, "--run", str(number)])
            if done.returncode != 0:
                return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
