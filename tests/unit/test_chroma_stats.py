"""An embedded store keeps SQLite's planner statistics current (`store/chroma_stats.py`), so that
Chroma reads one scope by key instead of walking every row of the collection.

Checked from outside: the statistics in the database file, and the plan SQLite picks for the
statement Chroma runs for `get(where=...)` (chromadb 1.5, rust/segment/src/sqlite_metadata.rs)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from shared_core.models import Kind, MemoryRecord, Scope
from shared_core.store import chroma_stats
from shared_core.store.base import RecordFilter
from shared_core.store.chroma import ChromaStore

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
MEMO = str(Path(sys.executable).parent / "memo")
# what Chroma runs for `collection.get(where={key: value})`
CHROMA_GET = (
    "SELECT DISTINCT e.id, e.embedding_id FROM embeddings e WHERE e.segment_id = ? AND e.id IN "
    "(SELECT id FROM embedding_metadata WHERE key = ? AND key IS NOT NULL AND string_value = ?) "
    "ORDER BY e.id ASC LIMIT 4294967295 OFFSET 0"
)


def fill(store: ChromaStore, users: range, per_user: int) -> None:
    rng = np.random.default_rng(0)
    for u in users:
        sc = Scope(tenant="t", user=f"u{u}")
        recs = [
            MemoryRecord(scope=sc, kind=Kind.FACT, text=f"fact {i} of u{u}", created_at=T0, updated_at=T0)
            for i in range(per_user)
        ]
        vecs = rng.normal(size=(per_user, 8)).astype(np.float32)
        store.upsert(recs, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))


def plan(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        seg = con.execute(
            "SELECT s.id FROM segments s JOIN collections c ON c.id = s.collection "
            "WHERE c.name = 'stats_records' AND s.scope = 'METADATA'"
        ).fetchone()[0]
        rows = con.execute("EXPLAIN QUERY PLAN " + CHROMA_GET, (seg, "sk_tu", "t\x1fu1")).fetchall()
        return " | ".join(str(r[-1]) for r in rows)
    finally:
        con.close()


def stat(db: Path) -> str | None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        got = con.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'embeddings'").fetchone()
        return None if got is None else str(got[0])
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def test_a_store_grown_past_the_threshold_is_analysed_and_chroma_reads_a_scope_by_key(tmp_path: Path) -> None:
    store = ChromaStore.persistent(tmp_path / "s", prefix="stats", dim=8)
    db = tmp_path / "s" / "chroma.sqlite3"
    fill(store, range(2), per_user=100)
    assert stat(db) is None  # small: left alone
    assert "SEARCH e USING COVERING INDEX sqlite_autoindex_embeddings_1 (segment_id=?)" in plan(db)
    fill(store, range(2, 14), per_user=100)  # 1,400 rows: analysed while it is written, no reopen
    analysed = stat(db)
    assert analysed is not None  # (a sampled analysis estimates the row count)
    assert "USING INTEGER PRIMARY KEY" in plan(db) and "segment_id=?" not in plan(db)
    # the reads are unchanged: the same records, by key
    got = store.list_records(Scope(tenant="t", user="u1"), RecordFilter())
    assert len(got) == 100 and {r.scope.user for r in got} == {"u1"}
    store.close()
    # reopened without growth: not analysed again
    again = ChromaStore.persistent(tmp_path / "s", prefix="stats", dim=8)
    assert again._planner is not None and not again._planner.refresh() and stat(db) == analysed
    again.close()


def test_statistics_that_cannot_be_written_leave_the_store_working(tmp_path: Path) -> None:
    stats = chroma_stats.PlannerStats(tmp_path / "missing")  # no database there: logged, not raised
    assert stats.analysed is None and not stats.refresh()


def test_memo_maintain_analyses_a_directory_no_process_of_ours_writes(tmp_path: Path) -> None:
    """A Chroma server's persist directory is analysed by its operator (`memo maintain`), in a real
    subprocess; a missing database is a typed error with its exit code, not a traceback."""
    store = ChromaStore.persistent(tmp_path / "s", prefix="stats", dim=8)
    fill(store, range(3), per_user=50)  # small: the store itself leaves it alone
    store.close()
    db = tmp_path / "s" / "chroma.sqlite3"
    assert stat(db) is None
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "MEMO_CONFIG": "/nonexistent/memo.json"}
    res = subprocess.run(
        [MEMO, "--path", str(tmp_path / "s"), "--json", "maintain"], capture_output=True, text=True, env=env
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["analysed_now"] is True and out["rows"] >= 150 and stat(db) is not None
    assert "USING INTEGER PRIMARY KEY" in plan(db)
    res = subprocess.run(
        [MEMO, "--path", str(tmp_path / "none"), "maintain"], capture_output=True, text=True, env=env
    )
    assert res.returncode != 0 and "no Chroma database" in res.stderr and "Traceback" not in res.stderr
