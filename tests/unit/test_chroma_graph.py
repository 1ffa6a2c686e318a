"""Chroma keeps every vector in an HNSW graph that MeMo never searches: new collections build the
smallest one, and a store whose collections were created with Chroma's default graph reopens,
reads and writes as before.

Checked from outside: the collection configuration Chroma itself reports, and the vectors read
back from its files."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.models import Kind, MemoryRecord
from shared_core.store.base import RecordFilter
from shared_core.store.chroma import ChromaStore
from shared_core.store.chroma_graph import UNSEARCHED_GRAPH

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
ALICE = Scope(tenant="t", user="alice")


def _graphs(path: Path) -> dict[str, dict[str, object]]:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    client = chromadb.PersistentClient(str(path), settings=Settings(anonymized_telemetry=False))
    try:
        return {c.name: c.configuration_json.get("hnsw") or {} for c in client.list_collections()}
    finally:
        client.clear_system_cache()


def test_new_collections_build_the_smallest_graph_and_keep_exact_vectors(tmp_path: Path) -> None:
    store = ChromaStore.persistent(tmp_path / "s", dim=8, embedder_name="test")
    recs = [
        MemoryRecord(scope=ALICE, kind=Kind.FACT, text=f"fact {i}", created_at=T0, updated_at=T0)
        for i in range(300)
    ]
    vecs = np.random.default_rng(1).standard_normal((300, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.upsert(recs, vecs)
    got, stored = store.snapshot(ALICE, RecordFilter())
    by_id = {r.id: v for r, v in zip(got, stored)}
    assert np.allclose(np.stack([by_id[r.id] for r in recs]), vecs, atol=1e-6)  # the vectors are intact
    # exact cosine over the scope, whatever the graph: the nearest record to each vector is itself
    nearest = store.query_many(ALICE, vecs[:20], 1, RecordFilter())
    assert [hits[0][0].id for hits in nearest] == [r.id for r in recs[:20]]
    store.close()
    graphs = _graphs(tmp_path / "s")
    assert graphs and all(
        g.get("ef_construction") == UNSEARCHED_GRAPH["ef_construction"]
        and g.get("max_neighbors") == UNSEARCHED_GRAPH["max_neighbors"]
        for g in graphs.values()
    ), graphs
    assert graphs["memo_records"].get("space") == "cosine"


def test_a_store_made_with_chromas_default_graph_reopens_and_grows(tmp_path: Path) -> None:
    path = tmp_path / "old"
    client = chromadb.PersistentClient(str(path), settings=Settings(anonymized_telemetry=False))
    for name in ("memo_records", "memo_history", "memo_meta", "memo_audit"):  # as MeMo made them before
        conf = {"hnsw": {"space": "cosine"}} if name == "memo_records" else None
        client.get_or_create_collection(name, embedding_function=None, configuration=conf)
    client.clear_system_cache()
    mem = Memory.open(str(path), embedder=HashingEmbedder())
    mem.add_messages([{"role": "user", "content": "I keep a red bicycle in the hall"}], ALICE, session_id="s")
    mem.flush()
    mem.close()
    mem = Memory.open(str(path), embedder=HashingEmbedder())
    assert "red bicycle" in mem.search("bicycle", ALICE, k=1)[0].record.text
    assert mem.engine.audit is not None and mem.engine.audit.verify().ok
    mem.close()
    assert _graphs(path)["memo_records"].get("max_neighbors") == 16  # Chroma fixed it at creation
