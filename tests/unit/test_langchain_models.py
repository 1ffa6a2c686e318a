"""LangChain models inside MeMo: an Embeddings as the embedder, a chat model as the LLM extractor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.messages import AIMessage

from langchain_memo import chat_callable, embedder_from_langchain, extractor_from_chat_model
from langchain_memo.testing import RecordingChatModel, scripted
from shared_core import LLMError, Memory, Scope
from shared_core.embed import HashingEmbedder


class HashingEmbeddings(Embeddings):
    """A LangChain Embeddings over MeMo's hashing embedder (lexical, deterministic)."""

    model = "hashing-64"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return HashingEmbedder(64).embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_embedder_probes_dim_and_names_itself() -> None:
    emb = embedder_from_langchain(DeterministicFakeEmbedding(size=48))
    assert emb.dim == 48 and emb.name == "DeterministicFakeEmbedding"
    vecs = emb.embed(["a", "b"])
    assert vecs.shape == (2, 48) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder_from_langchain(HashingEmbeddings(), dim=64).name == "HashingEmbeddings-hashing-64"


def test_memory_with_a_langchain_embedder_persists(tmp_path: Path) -> None:
    alice = Scope(tenant="acme", user="alice")
    with Memory.open(tmp_path / "s", embedder=embedder_from_langchain(HashingEmbeddings())) as mem:
        mem.remember_many(["Alice lives in Berlin", "Alice plays chess"], alice)
    with Memory.open(tmp_path / "s", embedder=embedder_from_langchain(HashingEmbeddings())) as mem:
        assert mem.search("chess", alice, k=1)[0].text == "Alice plays chess"


def test_chat_callable_converts_roles_and_returns_text() -> None:
    model = RecordingChatModel(messages=scripted(AIMessage(content=[{"type": "text", "text": "[]"}])))
    chat = chat_callable(model)
    out = chat(
        [
            {"role": "system", "content": "extract"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"},
        ]
    )
    assert out == "[]"
    assert [(m.type, m.text) for m in model.seen[0]] == [("system", "extract"), ("human", "hi"), ("ai", "yo")]


def test_extractor_from_chat_model_extracts_with_the_model(tmp_path: Path) -> None:
    reply = json.dumps({"memories": [{"kind": "preference", "text": "Alice keeps bees", "subject": "alice",
                                      "attribute": "hobby", "value": "bees", "source_message_ids": ["m1"]}]})  # fmt: skip
    model = RecordingChatModel(messages=scripted(reply))
    extractor = extractor_from_chat_model(model, fallback=None)
    alice = Scope(tenant="acme", user="alice")
    with Memory.open(tmp_path / "s", embedder=HashingEmbedder(64), extractor=extractor) as mem:
        result = mem.add_messages(
            [{"role": "user", "content": "I have two beehives", "id": "m1"}], alice, "s1", wait=True
        )  # wait=True: extraction in the call, so its result is in `added`
        assert [r.text for r in result.added] == ["Alice keeps bees"]
        assert result.added[0].provenance.origin.value == "inferred"
    assert model.seen[0][0].type == "system" and "I have two beehives" in model.seen[0][1].text


def test_a_failing_chat_model_is_an_llm_error(tmp_path: Path) -> None:
    extractor = extractor_from_chat_model(RecordingChatModel(messages=iter([])), fallback=None, max_retries=0)
    with (
        Memory.open(tmp_path / "s", embedder=HashingEmbedder(64), extractor=extractor) as mem,
        pytest.raises(LLMError),
    ):
        mem.add_messages(  # wait=True: the extractor's error is raised by the call itself
            [{"role": "user", "content": "I have two beehives"}], Scope(tenant="acme", user="a"), wait=True
        )


@pytest.mark.parametrize("missing", ["langchain_core", "langgraph", "langchain_classic"])
def test_import_without_the_extra_names_the_install_command(missing: str) -> None:
    code = f"import sys; sys.modules[{missing!r}] = None\ntry:\n    import langchain_memo\nexcept ImportError as e:\n    print(e)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert 'pip install "memo-memory[langchain]"' in out.stdout and missing in out.stdout
