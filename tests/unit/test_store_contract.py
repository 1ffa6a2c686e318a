"""Every Store passes the same contract: in memory and embedded Chroma (server: tests/integration)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared_core.store import InMemoryStore
from shared_core.store.chroma import ChromaStore
from shared_core.testing import StoreContract


class TestInMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> InMemoryStore:
        return InMemoryStore()


class TestChromaPersistentStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ChromaStore]:
        s = ChromaStore.persistent(tmp_path / "chroma", prefix="contract", dim=64)
        yield s
        s.close()


def test_schema_1_store_is_migrated_on_open(tmp_path: Path) -> None:
    """A store written before composite scope keys (schema 1) is found by scope after one open."""
    import chromadb
    from chromadb.config import Settings

    from shared_core.clock import to_ts
    from shared_core.models import HistoryEntry, Scope
    from shared_core.store.base import ALL_STATUSES
    from shared_core.testing import make_record

    alice, bob = Scope(tenant="t1", user="alice"), Scope(tenant="t1", user="bob", agent="helper")
    recs = [make_record(alice, "alice's fact"), make_record(bob, "bob's fact")]
    client = chromadb.PersistentClient(
        path=str(tmp_path / "old"), settings=Settings(anonymized_telemetry=False)
    )
    old = client.get_or_create_collection(
        "memo_records", embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
        metadata={"memo_schema": 1, "embedder": "hashing-64", "dim": 64},
    )  # fmt: skip
    old.upsert(
        ids=[r.id for r in recs],
        embeddings=[[1.0] + [0.0] * 63, [0.0, 1.0] + [0.0] * 62],
        documents=[r.index_text() for r in recs],
        metadatas=[
            {**{k: v or "" for k, v in r.scope.model_dump().items()}, "kind": r.kind.value, "status": r.status.value,
             "created_ts": to_ts(r.created_at), "event_ts": to_ts(r.event_time), "pinned": False, "version": 1,
             "json": r.model_dump_json()}
            for r in recs
        ],
    )  # fmt: skip
    entry = HistoryEntry(
        record_id=recs[1].id, scope=bob, version=1, op="add", at=recs[1].created_at, snapshot=recs[1]
    )
    client.get_or_create_collection("memo_history", embedding_function=None).upsert(
        ids=[entry.id], embeddings=[[1.0]], documents=[recs[1].text],
        metadatas=[{**{k: v or "" for k, v in bob.model_dump().items()}, "record_id": entry.record_id, "version": 1,
                    "op": "add", "at_ts": to_ts(entry.at), "json": entry.model_dump_json()}],
    )  # fmt: skip
    del client, old

    store = ChromaStore.persistent(tmp_path / "old", dim=64, embedder_name="hashing-64")
    assert store._records.metadata["memo_schema"] == 2
    assert [r.text for r in store.list_records(alice, ALL_STATUSES)] == ["alice's fact"]
    assert [r.text for r in store.list_records(Scope(tenant="t1", agent="helper"), ALL_STATUSES)] == [
        "bob's fact"
    ]
    assert [e.id for e in store.history(Scope(tenant="t1", user="bob"), recs[1].id)] == [entry.id]
    (found, _), = store.query(alice, [1.0] + [0.0] * 63, 5, ALL_STATUSES)  # fmt: skip
    assert found.id == recs[0].id
    store.close()
    again = ChromaStore.persistent(
        tmp_path / "old", dim=64, embedder_name="hashing-64"
    )  # a second open: no-op
    assert [r.text for r in again.list_records(alice, ALL_STATUSES)] == ["alice's fact"]


def test_a_scope_is_read_in_pages(tmp_path: Path) -> None:
    """Chroma fails a read binding more than 32,766 rows ("too many SQL variables", found with a
    scope of ~35,000 records): a scope scan reads pages. Small pages here, same code."""
    import numpy as np

    from shared_core.models import Scope
    from shared_core.store.base import ALL_STATUSES, RecordFilter
    from shared_core.testing import make_record

    alice, bob = Scope(tenant="t", user="alice"), Scope(tenant="t", user="bob")
    store = ChromaStore.persistent(tmp_path / "chroma", prefix="pages", dim=4)
    store.scan_page = 7
    recs = [make_record(alice if i % 3 else bob, f"fact {i}") for i in range(50)]
    vecs = np.random.default_rng(1).random((50, 4)).astype(np.float32)
    store.upsert(recs, vecs)
    mine = [r for r in recs if r.scope == alice]
    listed = store.list_records(alice, ALL_STATUSES)
    assert sorted(r.id for r in listed) == sorted(r.id for r in mine)
    got, got_vecs = store.snapshot(alice, RecordFilter())
    assert sorted(r.id for r in got) == sorted(r.id for r in mine)
    by_id = {r.id: v for r, v in zip(recs, vecs)}
    for r, v in zip(got, got_vecs):
        assert np.allclose(v / np.linalg.norm(v), by_id[r.id] / np.linalg.norm(by_id[r.id]), atol=1e-5)
    store.close()


def test_record_and_history_text_is_stored_once_and_an_old_document_is_cleared(tmp_path: Path) -> None:
    """A record's text lives in its JSON metadata only: no Chroma document (nothing in Chroma's
    full-text index), and an upsert over a row an older version wrote with a document clears it."""
    import numpy as np

    from shared_core.models import HistoryEntry, Scope
    from shared_core.store.base import ALL_STATUSES
    from shared_core.testing import make_record

    alice = Scope(tenant="t1", user="alice")
    rec = make_record(alice, "alice keeps bees on the roof")
    store = ChromaStore.persistent(tmp_path / "s", dim=2)
    store._records.upsert(  # as an older version wrote it: the text as the document too
        ids=[rec.id], embeddings=[[1.0, 0.0]], documents=["alice keeps bees on the roof"],
        metadatas=[{"tenant": "t1", "user": "alice", "json": rec.model_dump_json()}],
    )  # fmt: skip
    new = rec.model_copy(update={"text": "alice keeps wasps"})
    store.upsert([new], np.array([[0.0, 1.0]], dtype=np.float32))
    store.append_history(
        [HistoryEntry(record_id=rec.id, scope=alice, version=2, op="update", at=rec.created_at, snapshot=new)]
    )
    dump = store.raw_dump()
    assert dump["records"]["documents"] == [""] and dump["history"]["documents"] == [""]
    assert not any("bees" in str(m) for m in dump["records"]["metadatas"])
    assert [r.text for r in store.list_records(alice, ALL_STATUSES)] == ["alice keeps wasps"]
    assert [e.snapshot.text for e in store.history(alice, rec.id) if e.snapshot] == ["alice keeps wasps"]
    store.close()
