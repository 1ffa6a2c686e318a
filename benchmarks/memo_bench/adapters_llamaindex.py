"""Put/get cost of LlamaIndex chat memories with N messages of one user: MeMo's `MemoMemory` beside
LlamaIndex's `ChatMemoryBuffer` and `Memory` (the classes it replaces).

`rows(sizes)` is what `memo bench adapters` reports for LlamaIndex: for each size, each memory is
filled with N messages of one user's session, then timed over a chat loop (put the user's message,
get the prompt's history, put the answer), as an engine drives it. MeMo runs as a user gets it:
an embedded store with the built-in MiniLM embedder and the rule extractor.

    python -m memo_bench.adapters_llamaindex 50 400 5000
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

LOOPS = 12  # chat turns timed per size (each: put, get, put)
BUFFER_MAX = 1000  # ChatMemoryBuffer.get is quadratic in its history: 534 s per call at 5,000 (2026-11-30)
SLOW_S = 2.0  # a memory whose get takes longer than this is timed over fewer turns
TOPICS = ["tea", "hiking", "the new job", "a trip to Lisbon", "the cat", "cooking", "a book", "the garden"]


def message(i: int) -> tuple[str, str]:
    """The i-th message of a synthetic conversation: alternating user / assistant, ~25 words each."""
    role = "user" if i % 2 == 0 else "assistant"
    topic = TOPICS[(i // 2) % len(TOPICS)]
    text = (
        f"Message {i} about {topic}: I keep thinking about {topic} and what we said last time, "
        f"so here is one more detail number {i % 97} that matters for the plan this week."
    )
    return role, text


def _p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _loop(memory: Any, n: int, chat: Callable[[str, str], Any]) -> dict[str, list[float]]:
    puts: list[float] = []
    gets: list[float] = []
    for i in range(LOOPS):
        question = chat("user", message(n + 2 * i)[1])
        answer = chat("assistant", f"Noted, reply {i}.")
        puts.append(_time(partial(memory.put, question)))
        gets.append(_time(memory.get))
        puts.append(_time(partial(memory.put, answer)))
        if gets[-1] > SLOW_S * 1000 and i >= 1:
            break
    return {"put": puts, "get": gets}


def _measure(
    name: str, replaces: str, n: int, build: Callable[[list[Any]], Any], chat: Any
) -> list[dict[str, Any]]:
    history = [chat(*message(i)) for i in range(n)]
    t = time.perf_counter()
    memory = build(history)
    fill_s = time.perf_counter() - t
    memory.get()  # first read (MemoMemory loads the session once per instance)
    times = _loop(memory, n, chat)
    return [
        {
            "framework": "llamaindex",
            "adapter": name,
            "replaces": replaces,
            "items": n,
            "op": op,
            "p50_ms": round(statistics.median(v), 2),
            "p95_ms": round(_p(v, 0.95), 2),
            "samples": len(v),
            "fill_s": round(fill_s, 2),
        }
        for op, v in times.items()
    ]


def rows(sizes: list[int]) -> list[dict[str, Any]]:
    """Put and get cost (p50/p95 ms) per memory class and size: MemoMemory, ChatMemoryBuffer, Memory."""
    from llama_index.core.llms import ChatMessage
    from llama_index.core.memory import ChatMemoryBuffer
    from llama_index.core.memory import Memory as LIMemory

    from llamaindex_memo import MemoMemory
    from shared_core import Memory, Scope

    def chat(role: str, text: str) -> ChatMessage:
        return ChatMessage(role=role, content=text)

    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memo-bench-li-") as tmp:
        for n in sizes:
            mem = Memory.open(Path(tmp) / f"store-{n}")
            scope = Scope(tenant="bench", user=f"user-{n}")

            def memo(history: list[Any], mem: Memory = mem, scope: Scope = scope) -> MemoMemory:
                sid = uuid.uuid4().hex
                for start in range(0, len(history), 200):  # filled as past turns, 200 per write
                    turns = [
                        {"role": m.role.value, "content": m.content} for m in history[start : start + 200]
                    ]
                    mem.add_messages(turns, scope, session_id=sid)
                mem.flush()  # the past turns' background extraction is done before anything is timed
                return MemoMemory(mem, scope=scope, session_id=sid)

            def buffer(history: list[Any]) -> ChatMemoryBuffer:
                return ChatMemoryBuffer.from_defaults(chat_history=history)

            def li_memory(history: list[Any]) -> LIMemory:
                return LIMemory.from_defaults(session_id=uuid.uuid4().hex, chat_history=history)

            out += _measure("MemoMemory", "ChatMemoryBuffer / Memory", n, memo, chat)
            if n <= BUFFER_MAX:
                out += _measure("ChatMemoryBuffer (built-in)", "", n, buffer, chat)
            out += _measure("Memory (built-in)", "", n, li_memory, chat)
            mem.close()
    return out


def main(argv: list[str] | None = None) -> int:
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [50, 400, 5000]
    for n in sizes:  # one size at a time, printed as it is done
        for row in rows([n]):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
