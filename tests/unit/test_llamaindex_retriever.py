"""`MemoRetriever` (nodes with provenance) and the agent memory tools (search / save / forget)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore

from llamaindex_memo import MemoRetriever, memory_tools
from llamaindex_memo.testing import RecordingLLM
from shared_core import InvalidInput, MemoError, Memory, Scope, ScopeError, Status

ROOT = Path(__file__).resolve().parents[2]


def summary(nodes: list[NodeWithScore]) -> list[tuple[str, str, float | None]]:
    return [(n.node.node_id, n.node.get_content(), n.score) for n in nodes]


def test_nodes_carry_score_and_provenance(mem: Memory, alice: Scope) -> None:
    mem.add_messages(
        [{"role": "user", "content": "I live in Berlin.", "id": "m1", "name": "Alice"}],
        scope=alice,
        session_id="s7",
    )
    mem.remember("Alice likes jazz", alice, kind="preference")
    mem.flush()  # extraction runs in the background
    # long-term kinds only: with raw turns allowed, the turn "I live in Berlin." would stand for the fact
    kinds = ["fact", "preference"]
    nodes = MemoRetriever(mem, alice, k=5, kinds=kinds).retrieve("where does Alice live? Berlin")
    assert nodes and all(0.0 <= (n.score or 0.0) <= 1.0 for n in nodes)
    assert [n.node.node_id for n in nodes] == [
        h.id for h in mem.search("where does Alice live? Berlin", alice, k=5, kinds=kinds)
    ]
    berlin = next(n for n in nodes if "Berlin" in n.node.get_content() and n.node.metadata["kind"] == "fact")
    meta = berlin.node.metadata
    assert meta["session_id"] == "s7" and meta["source_message_ids"] == ["m1"]
    assert (
        meta["memo_id"] == berlin.node.node_id
        and meta["extractor"]
        and meta["origin"] in ("stated", "inferred")
    )
    assert meta["date"] and meta["speaker"] == "Alice"
    llm_view = berlin.node.get_content(metadata_mode=MetadataMode.LLM)
    assert "session_id: s7" in llm_view and "source_message_ids" not in llm_view


def test_kinds_and_token_budget(mem: Memory, alice: Scope) -> None:
    mem.remember_many(
        [f"Alice read book number {i} about sailing the Baltic sea" for i in range(30)],
        alice,
        consolidate=False,
    )
    mem.remember("Alice prefers sailing in the Baltic sea", alice, kind="preference")
    prefs = MemoRetriever(mem, alice, kinds=["preference"]).retrieve("Baltic sailing")
    assert [n.node.metadata["kind"] for n in prefs] == ["preference"]
    small = MemoRetriever(mem, alice, k=30, token_budget=80).retrieve("Baltic sailing book")
    assert 0 < len(small) < 30


def test_retriever_in_a_query_engine(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice's flight to Lima leaves on 3 March", alice, kind="event")
    llm = RecordingLLM(reply="On 3 March.")
    engine = RetrieverQueryEngine.from_args(MemoRetriever(mem, alice, k=3), llm=llm)
    resp = engine.query("When does my flight to Lima leave?")
    assert str(resp) == "On 3 March."
    assert "flight to Lima leaves on 3 March" in llm.seen()
    assert resp.source_nodes and resp.source_nodes[0].node.metadata["kind"] == "event"


def test_two_users_never_see_each_other(mem: Memory, alice: Scope, bob: Scope) -> None:
    mem.remember("Alice's wifi password is tangerine", alice)
    mem.remember("Bob's wifi password is marmalade", bob)
    got = " ".join(
        n.node.get_content() for n in MemoRetriever(mem, bob, k=20).retrieve("wifi password tangerine")
    )
    assert "marmalade" in got and "tangerine" not in got
    search = memory_tools(mem, bob)[0]
    assert "tangerine" not in str(search.call(query="wifi password tangerine"))


def test_pending_review_is_never_returned(mem: Memory, alice: Scope) -> None:
    rec = mem.remember("Alice's bank is Nordbank", alice)
    retriever = MemoRetriever(mem, alice)
    assert any("Nordbank" in n.node.get_content() for n in retriever.retrieve("which bank?"))
    mem.update(rec.id, alice, status=Status.PENDING_REVIEW)
    assert not any("Nordbank" in n.node.get_content() for n in retriever.retrieve("which bank? Nordbank"))
    assert "Nordbank" not in str(memory_tools(mem, alice)[0].call(query="Nordbank bank"))


async def test_async_parity(mem: Memory, alice: Scope) -> None:
    for t in ("Alice runs marathons", "Alice owns a red bicycle", "Alice's sister is called Nora"):
        mem.remember(t, alice)
    retriever = MemoRetriever(mem, alice, k=3)
    first = summary(retriever.retrieve("sport and bicycle"))
    mem.flush()  # the retriever reports its hits as used (`record_use`), which moves their scores a little
    again = summary(await retriever.aretrieve("sport and bicycle"))
    assert [(i, t) for i, t, _ in first] == [(i, t) for i, t, _ in again]
    assert all(s1 is not None and s2 is not None and s2 >= s1 for (_, _, s1), (_, _, s2) in zip(first, again))
    mem.flush()
    search = memory_tools(mem, alice)[0]  # the tool does not report use: equal scores
    assert str(search.call(query="sister")) == str(await search.acall(query="sister"))


def test_bad_input_is_a_memo_error(mem: Memory, alice: Scope) -> None:
    with pytest.raises(InvalidInput):
        MemoRetriever(mem, alice).retrieve("")
    with pytest.raises(ScopeError):
        MemoRetriever(mem, None)
    with pytest.raises(ScopeError):
        MemoRetriever(mem, Scope(tenant="acme"))
    with pytest.raises(MemoError):
        MemoRetriever(mem, alice, k=0).retrieve("anything")
    with pytest.raises(ScopeError):
        memory_tools(mem, None)
    search, save, forget = memory_tools(mem, alice)
    with pytest.raises(InvalidInput):
        save.call(text="")
    with pytest.raises(InvalidInput):
        save.call(text="Alice likes tea", kind="rumour")
    with pytest.raises(InvalidInput):
        search.call(query="  ")
    with pytest.raises(MemoError):
        forget.call(memory_id="")


async def test_tools_save_search_forget(mem: Memory, alice: Scope) -> None:
    search, save, forget = memory_tools(mem, alice, k=3)
    assert [t.metadata.name for t in (search, save, forget)] == [
        "search_memory",
        "save_memory",
        "forget_memory",
    ]
    saved = json.loads(str(save.call(text="Alice's dentist appointment is on Friday", kind="event")))
    hits = json.loads(str(await search.acall(query="dentist appointment")))
    assert hits[0]["id"] == saved["saved"] and hits[0]["kind"] == "event"
    assert mem.get(saved["saved"], alice).metadata == {"via": "llamaindex_tool"}
    assert json.loads(str(await forget.acall(memory_id=saved["saved"]))) == {"deleted": [saved["saved"]]}
    assert json.loads(str(search.call(query="dentist appointment"))) == []
    assert json.loads(str(forget.call(memory_id=saved["saved"]))) == {"deleted": []}
    again = json.loads(str(await save.acall(text="Alice's gym is on Elm Street")))
    assert again["kind"] == "fact"


WRITE = """
import sys
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from llamaindex_memo import memory_tools
mem = Memory.open(sys.argv[1], embedder=HashingEmbedder(dim=256))
print(memory_tools(mem, Scope(tenant="acme", user="alice"))[1].call(text="Alice keeps bees on her roof"))
mem.close()
"""


def test_memory_survives_a_new_process(tmp_path: Path) -> None:
    """A subprocess saves through the tool; this process retrieves from the store afresh."""
    from shared_core.embed import HashingEmbedder

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", WRITE, str(tmp_path / "store")], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    mem = Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256))
    got = {u: [n.node.get_content() for n in MemoRetriever(mem, Scope(tenant="acme", user=u)).retrieve("bees")]
           for u in ("alice", "bob")}  # fmt: skip
    assert got == {"alice": ["Alice keeps bees on her roof"], "bob": []}
    mem.close()
