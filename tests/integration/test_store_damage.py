"""A damaged or foreign store never opens as an empty memory (#18.3), one unreadable row never stops
open, list, export or erasure (#18.1), and `Governor.check` reports and repairs each planted damage."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import chromadb
import pytest

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.errors import ConfigError, PermissionDenied, StoreCorrupted
from shared_core.governance.access import Principal, Role
from shared_core.store.base import RecordFilter

ADMIN = Principal(id="ops", role=Role.ADMIN)
AUDITOR = Principal(id="audrey", role=Role.AUDITOR)
ALICE = Scope(tenant="acme", user="alice")
BOB = Scope(tenant="acme", user="bob")


def _written(path: Path, n: int = 31) -> None:
    mem = Memory.open(path, embedder=HashingEmbedder())
    for i in range(n):
        mem.remember(f"Alice fact {i}: she visited city number {i}", scope=ALICE)
    mem.close()


def test_new_store_in_a_missing_or_empty_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "missing", tmp_path / "empty"):
        mem = Memory.open(path, embedder=HashingEmbedder())
        assert mem.records(ALICE) == []
        mem.close()


def test_zero_byte_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    _written(path)
    (path / "chroma.sqlite3").write_bytes(b"")
    with pytest.raises(StoreCorrupted, match="0 bytes"):
        Memory.open(path, embedder=HashingEmbedder())


def test_deleted_database_is_refused_not_opened_empty(tmp_path: Path) -> None:
    path = tmp_path / "s"
    _written(path)
    (path / "chroma.sqlite3").unlink()
    with pytest.raises(StoreCorrupted, match="deleted"):
        Memory.open(path, embedder=HashingEmbedder())
    assert not (path / "chroma.sqlite3").exists()  # nothing was created over it


def test_foreign_chroma_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other-app"
    client = chromadb.PersistentClient(path=str(path))
    client.get_or_create_collection("invoices", embedding_function=None).add(
        ids=["1"], embeddings=[[1.0, 0.0]]
    )
    with pytest.raises(ConfigError, match="another application"):
        Memory.open(path, embedder=HashingEmbedder())


def test_corrupt_sqlite_page_is_store_corrupted(tmp_path: Path) -> None:
    path = tmp_path / "s"
    _written(path)
    damaged = tmp_path / "damaged"
    shutil.copytree(path, damaged)
    db = damaged / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    page = 4096
    for off in range(3 * page, min(len(data), 30 * page)):
        data[off] = 0x5A
    db.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupted):
        mem = Memory.open(damaged, embedder=HashingEmbedder())
        mem.records(ALICE)  # if opening did not read the damaged pages, reading does


def _plant_unreadable_row(path: Path) -> str:
    """What an old version could write: a record whose JSON holds NaN (and so cannot be parsed)."""
    mem = Memory.open(path, embedder=HashingEmbedder())
    bad = mem.remember("Bob's score was recorded by an old version", scope=BOB)
    mem.remember("Bob likes sailing on the lake", scope=BOB)
    mem.close()
    con = sqlite3.connect(path / "chroma.sqlite3")
    rows = con.execute(
        "SELECT m.id, m.string_value FROM embedding_metadata m WHERE m.key = 'json' AND m.string_value LIKE ?",
        (f"%{bad.id}%",),
    ).fetchall()  # the record and its history snapshots, as the old version wrote them
    assert rows
    for rowid, raw in rows:
        doc = json.loads(raw)
        if isinstance(doc, list) or "hash" in doc:
            continue  # an audit row (one event or a list of them: it names the record), not the record
        target = doc["snapshot"] if "snapshot" in doc and doc["snapshot"] else doc
        target["importance"] = float("nan")
        con.execute("UPDATE embedding_metadata SET string_value = ? WHERE id = ? AND key = 'json'",
                    (json.dumps(doc), rowid))  # fmt: skip
    con.commit()
    con.close()
    return bad.id


def test_an_unreadable_row_is_quarantined_and_never_stops_anything(tmp_path: Path) -> None:
    path = tmp_path / "s"
    _written(path, 3)
    bad = _plant_unreadable_row(path)
    mem = Memory.open(path, embedder=HashingEmbedder())  # repair on open gets past it
    assert [r.text for r in mem.records(BOB)] == ["Bob likes sailing on the lake"]
    assert mem.search("sailing", scope=BOB, k=2)[0].record.text == "Bob likes sailing on the lake"
    assert len(mem.records(ALICE)) == 3  # other tenants' users are untouched
    export = mem.governor.export_subject(ADMIN, BOB)
    assert [r["text"] for r in export["records"]] == ["Bob likes sailing on the lake"]
    report = mem.governor.check(AUDITOR)
    assert report.item("quarantined").found == 2 and f"records:{bad}" in report.item("quarantined").detail
    assert not report.ok
    with pytest.raises(PermissionDenied):
        mem.governor.check(AUDITOR, repair=True)
    erased = mem.governor.forget_user(ADMIN, BOB)  # erasure reaches the unreadable row too
    assert erased.ok, [c for c in erased.checks if not c.passed]
    assert mem.governor.check(ADMIN).item("quarantined").found == 0
    mem.close()


def test_the_store_applies_metadata_filters_and_skips_unreadable_rows(tmp_path: Path) -> None:
    """`RecordFilter.metadata` is applied by the Chroma store itself (exact equality on every key,
    a bool never equals a number), and a row that cannot be read is quarantined, not fatal."""
    path = tmp_path / "s"
    bad = _plant_unreadable_row(path)
    mem = Memory.open(path, embedder=HashingEmbedder())
    for i, meta in enumerate([{"team": "a", "n": 1}, {"team": "b", "n": 1}, {"team": "a", "n": True},
                              {"team": "a", "n": 1.0}]):  # fmt: skip
        mem.remember(f"Bob note {i} about the harbour", scope=BOB, metadata=meta, consolidate=False)
    mem.flush()
    store = mem.store

    def texts(**meta: object) -> list[str]:
        return sorted(r.text for r in store.list_records(BOB, RecordFilter(metadata=meta)))  # type: ignore[arg-type]

    assert texts(team="a", n=1) == ["Bob note 0 about the harbour", "Bob note 3 about the harbour"]
    assert texts(n=True) == ["Bob note 2 about the harbour"]
    assert texts(team="b") == ["Bob note 1 about the harbour"]
    assert texts(team="c") == [] and texts(missing="x") == []
    assert len(texts()) == 5  # no filter: the four notes and the readable row planted with the bad one
    assert f"records:{bad}" in mem.store.quarantine.rows  # type: ignore[attr-defined]
    mem.close()


def test_check_repair_moves_the_row_aside(tmp_path: Path) -> None:
    path = tmp_path / "s"
    bad = _plant_unreadable_row(path)
    mem = Memory.open(path, embedder=HashingEmbedder())
    fixed = mem.governor.check(ADMIN, repair=True)
    assert (
        fixed.item("quarantined").found == 2 and fixed.item("quarantined").repaired == 2
    )  # record + history
    again = mem.governor.check(ADMIN)
    assert again.ok, again
    kept = mem.store._client.get_collection("memo_quarantine").get(ids=[f"records:{bad}"])  # type: ignore[attr-defined]
    # the row as it was, raw JSON included (the text lives there; records have no Chroma document)
    assert kept["ids"] and "old version" in kept["metadatas"][0]["json"]
    mem.close()


def test_check_finds_and_repairs_unaudited_records_and_half_applied_writes(tmp_path: Path) -> None:
    path = tmp_path / "s"
    mem = Memory.open(path, embedder=HashingEmbedder())
    rec = mem.remember("Alice's train leaves at nine", scope=ALICE)
    assert mem.governor.check(ADMIN).ok
    # a write that crashed before its audit entry: the record exists, its audit event does not
    assert mem.engine.audit is not None
    unaudited = rec.model_copy(update={"id": "r-unaudited", "text": "Alice's bus leaves at ten"})
    mem.store.upsert([unaudited], mem.engine.embedder.embed([unaudited.text]))
    # a write that crashed after its history snapshot: history is newer than the record
    newer = rec.model_copy(
        update={"version": rec.version + 1, "text": "Alice's train leaves at ten past nine"}
    )
    mem.store.append_history([mem.engine._history(newer, "update", "test", "crash")])
    report = mem.governor.check(ADMIN)
    assert report.item("unaudited").found == 1 and report.item("half_applied").found == 1 and not report.ok
    fixed = mem.governor.check(ADMIN, repair=True)
    assert fixed.ok, fixed
    assert mem.governor.check(ADMIN).ok
    assert mem.get(rec.id, scope=ALICE).text == newer.text
    assert mem.governor.audit_verify(AUDITOR).ok
    mem.close()
    assert os.path.exists(path / "chroma.sqlite3")
