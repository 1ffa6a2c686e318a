"""MeMo as a LlamaIndex retriever: `MemoRetriever` inside a `RetrieverQueryEngine`.

    python examples/llamaindex_retriever_pipeline.py [--path ./memo_data]

A support conversation is stored in MeMo (raw turns plus extracted facts); a query engine then
answers from the customer's memories. Each source node carries MeMo's score and provenance
(session, source message ids, speaker, extractor) in its metadata; the script prints them and
checks that the retrieved memories reached the LLM's prompt.

Offline by default (a recording MockLLM, hashing embedder). With OPENAI_API_KEY set and
`llama-index-llms-openai` installed it uses OpenAI instead, unless MEMO_EXAMPLE_OFFLINE=1.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from llama_index.core.query_engine import RetrieverQueryEngine

from llamaindex_memo import MemoRetriever
from shared_core import Memory, Scope

CONVERSATION = [
    ("user", "Hi, I'm Dana. My laptop is a ThinkPad X1 and the battery dies after an hour."),
    ("assistant", "Sorry to hear that! We will send you a replacement battery by Friday."),
    ("user", "Thanks. I work as a photographer, so I need it for shoots next week."),
    ("user", "I prefer email over phone calls."),
]
QUESTION = "What laptop does Dana use, and how should we contact her?"


def pick_llm() -> tuple[Any, bool]:
    if os.environ.get("MEMO_EXAMPLE_OFFLINE") != "1" and os.environ.get("OPENAI_API_KEY"):
        try:
            from llama_index.llms.openai import OpenAI

            return OpenAI(model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini")), True
        except ImportError:
            pass
    from llamaindex_memo.testing import RecordingLLM

    return RecordingLLM(reply="Dana uses a ThinkPad X1; contact her by email."), False


def run(path: str) -> None:
    llm, real = pick_llm()
    if real:
        mem = Memory.open(path)
    else:
        from shared_core.embed import HashingEmbedder

        mem = Memory.open(path, embedder=HashingEmbedder(dim=256))
    dana = Scope(tenant="support", user="dana")
    when = datetime(2024, 5, 6, 9, 30, tzinfo=timezone.utc)
    turns = [
        {"role": role, "content": text, "id": f"ticket-17:{i}", "timestamp": when}
        for i, (role, text) in enumerate(CONVERSATION)
    ]
    added = mem.add_messages(turns, scope=dana, session_id="ticket-17")
    mem.flush()  # add_messages returns once the turns are durable; extraction runs in the background
    facts = [r.text for r in mem.records(dana) if r.kind.value != "episode"]
    print(f"stored {len(added.episodes)} turns, extracted: {facts}")

    engine = RetrieverQueryEngine.from_args(MemoRetriever(mem, dana, k=5), llm=llm)
    response = engine.query(QUESTION)
    print(f"\nQ: {QUESTION}\nA: {response}\n\nsources:")
    for n in response.source_nodes:
        m = n.node.metadata
        print(f"  {n.score:.3f}  [{m['kind']}] {n.node.get_content()}")
        print(
            f"         session={m['session_id']} messages={m['source_message_ids']} extractor={m['extractor']}"
        )
    assert response.source_nodes and all(
        n.node.metadata["session_id"] == "ticket-17" for n in response.source_nodes
    )
    if not real:
        assert any("ThinkPad" in p for p in llm.prompts), "the retrieved memories did not reach the LLM"
        print("\nOK: MeMo's memories, with provenance, fed the query engine's prompt.")
    mem.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", help="MeMo store directory (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args.path or str(Path(tmp) / "memo_data"))


if __name__ == "__main__":
    main()
