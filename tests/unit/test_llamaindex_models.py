"""LlamaIndex models behind MeMo's ports: `embedder_from_llamaindex` and `extractor_from_llm`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MessageRole

from llamaindex_memo import embedder_from_llamaindex, extractor_from_llm
from llamaindex_memo.testing import RecordingLLM
from shared_core import AsyncMemory, EmbeddingError, LLMError, Memory, Scope, Status
from shared_core.embed import HashingEmbedder
from shared_core.extract.base import ExtractInput

ROOT = Path(__file__).resolve().parents[2]


class HashEmbedding(BaseEmbedding):
    """A LlamaIndex embedding model with real (lexical) similarity, offline."""

    def _vec(self, text: str) -> list[float]:
        return [float(x) for x in HashingEmbedder(dim=64).embed([text])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)


class BrokenEmbedding(HashEmbedding):
    fail: bool = False

    def _get_text_embedding(self, text: str) -> list[float]:
        if self.fail:
            raise RuntimeError("provider down")
        return self._vec(text)


@pytest.fixture
def hmem(tmp_path: Path) -> Any:
    m = Memory.open(tmp_path / "store", embedder=embedder_from_llamaindex(HashEmbedding(model_name="hash64")))
    yield m
    m.close()


def test_embedder_probes_dim_and_names_itself() -> None:
    emb = embedder_from_llamaindex(HashEmbedding(model_name="hash64"))
    assert emb.dim == 64 and emb.name == "llamaindex:HashEmbedding:hash64"
    assert emb.embed(["a b", "c"]).shape == (2, 64)
    mock = embedder_from_llamaindex(MockEmbedding(embed_dim=8), name="mock")
    assert mock.dim == 8 and mock.name == "mock"


def test_embedder_drives_search_and_isolation(hmem: Memory, alice: Scope, bob: Scope) -> None:
    hmem.remember("Alice grows tomatoes on her balcony", alice)
    hmem.remember("Alice drives a blue van", alice)
    hmem.remember("Bob grows tomatoes too", bob)
    hits = hmem.search("balcony tomatoes", alice, k=2)
    assert hits[0].text == "Alice grows tomatoes on her balcony"
    assert all(h.record.scope.user == "alice" for h in hits)


def test_pending_review_is_not_returned(hmem: Memory, alice: Scope) -> None:
    rec = hmem.remember("Alice's pin is in the red notebook", alice)
    hmem.update(rec.id, alice, status=Status.PENDING_REVIEW)
    assert hmem.search("red notebook pin", alice) == []


async def test_async_parity(hmem: Memory, alice: Scope) -> None:
    for t in ("Alice likes chess", "Alice visits Porto in May", "Alice's brother is Tom"):
        hmem.remember(t, alice)
    sync = [(h.id, h.score) for h in hmem.search("chess and Porto", alice)]
    asyn = [(h.id, h.score) for h in await AsyncMemory(hmem).search("chess and Porto", alice)]
    assert sync == asyn


def test_embedding_failures_are_memo_errors(tmp_path: Path, alice: Scope) -> None:
    model = BrokenEmbedding(model_name="broken")
    mem = Memory.open(tmp_path / "store", embedder=embedder_from_llamaindex(model))
    model.fail = True
    with pytest.raises(EmbeddingError, match="provider down"):
        mem.remember("Alice likes tea", alice)
    mem.close()


def test_extractor_calls_llm_chat_with_chat_messages(hmem: Memory, alice: Scope) -> None:
    reply = {"memories": [{"kind": "preference", "text": "Alice loves sea kayaking", "subject": "alice",
                           "attribute": "likes", "value": "sea kayaking", "source_message_ids": ["m1"]}]}  # fmt: skip
    llm = RecordingLLM(reply=json.dumps(reply))
    mem = Memory(hmem.store, embedder=hmem.engine.embedder, extractor=extractor_from_llm(llm))
    res = mem.add_messages(
        [{"role": "user", "content": "Kayaking at sea is my thing!", "id": "m1"}], alice, "s1", wait=True
    )  # wait=True: extraction in the call, so its result is in `added`
    assert [r.text for r in res.added] == ["Alice loves sea kayaking"]
    prov = res.added[0].provenance
    assert prov.origin.value == "inferred" and prov.source_message_ids == ["m1"]
    assert prov.extractor.startswith("llamaindex:")
    sent = llm.chats[-1]
    assert [m.role for m in sent] == [MessageRole.SYSTEM, MessageRole.USER]
    assert "Kayaking at sea is my thing!" in (sent[1].content or "")


def test_extractor_failures(alice: Scope) -> None:
    turn = ExtractInput(
        message_id="m1", text="I live in Oslo.", timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc)
    )
    now = datetime(2024, 1, 2, tzinfo=timezone.utc)
    fallback = extractor_from_llm(RecordingLLM(reply="no json here"), max_retries=0)
    assert any("Oslo" in c.text for c in fallback.extract([turn], now=now))  # rule fallback
    assert fallback.last_error
    strict = extractor_from_llm(RecordingLLM(reply="still no json"), fallback=None, max_retries=1)
    with pytest.raises(LLMError):
        strict.extract([turn], now=now)


SCRIPT = """
import sys
sys.path.insert(0, sys.argv[2])
from test_llamaindex_models import HashEmbedding
from shared_core import Memory, Scope
from llamaindex_memo import embedder_from_llamaindex
mem = Memory.open(sys.argv[1], embedder=embedder_from_llamaindex(HashEmbedding(model_name="hash64")))
mem.remember("Alice collects vinyl records", Scope(tenant="acme", user="alice"))
mem.close()
"""


def test_store_written_with_the_wrapped_model_reads_in_a_new_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "store"), str(Path(__file__).parent)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    mem = Memory.open(
        tmp_path / "store", embedder=embedder_from_llamaindex(HashEmbedding(model_name="hash64"))
    )
    got = {
        u: [h.text for h in mem.search("vinyl records", Scope(tenant="acme", user=u))]
        for u in ("alice", "bob")
    }
    assert got == {"alice": ["Alice collects vinyl records"], "bob": []}
    mem.close()
