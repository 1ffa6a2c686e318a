"""The one write seam: deletion is final, legal holds on every path, provenance, audit with the
change, read your writes, non-finite metadata, background extraction (issues #13, #17, #18)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from shared_core import Memory, Scope
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder
from shared_core.engine import LegalHold
from shared_core.errors import InvalidInput
from shared_core.governance.access import Principal, Role
from shared_core.store.base import ALL_STATUSES

ADMIN = Principal(id="dpo", role=Role.ADMIN, scope=None)


def open_mem(path: Path, **kw: object) -> Memory:
    return Memory.open(path, embedder=HashingEmbedder(dim=256), **kw)  # type: ignore[arg-type]


def test_17_1_a_deleted_memory_stays_deleted_after_reopen(tmp_path: Path, alice: Scope) -> None:
    m = open_mem(tmp_path / "s")
    r = m.remember("Alice keeps her spare key under the heron statue", scope=alice)
    assert m.delete([r.id], scope=alice) == [r.id]
    assert m.search("spare key", scope=alice, k=5) == []  # at once, in this process
    m.close()
    m2 = open_mem(tmp_path / "s")
    assert all("spare key" not in h.record.text for h in m2.search("spare key", scope=alice, k=5))
    hist = m2.history(r.id, alice)
    assert hist[-1].op == "delete" and hist[-1].snapshot is None  # the tombstone
    # an import of the old export does not bring it back either
    exported = {"records": [r.model_dump(mode="json")], "history": []}
    assert m2.import_records(exported["records"], exported["history"], principal=ADMIN) == 0
    assert m2.records(alice, statuses=[s.value for s in ALL_STATUSES.statuses or []] or None) == []
    m2.close()


def test_17_1_repair_enforces_a_tombstone_over_a_stale_snapshot(tmp_path: Path, alice: Scope) -> None:
    m = open_mem(tmp_path / "s")
    r = m.remember("The vault code is 4411", scope=alice)
    m.delete([r.id], scope=alice)
    m.flush()
    # a crash of an older version: the record is back in the store, its tombstone in history
    m.engine._store.upsert([r], HashingEmbedder(dim=256).embed([r.text]))
    m.close()
    m2 = open_mem(tmp_path / "s")
    assert m2.recovered.tombstones_enforced == 1
    assert m2.search("vault code", scope=alice, k=3) == []
    m2.close()


def test_17_2_legal_hold_is_checked_on_every_delete_path(tmp_path: Path, alice: Scope) -> None:
    m = open_mem(tmp_path / "s")
    r = m.remember("Signed the supplier contract", scope=alice)
    m.add_messages(
        [{"role": "user", "content": "hello", "id": "t1"}], scope=alice, session_id="s1", extract=False
    )
    m.governor.hold(ADMIN, alice, "litigation 42")
    with pytest.raises(LegalHold):
        m.delete([r.id], scope=alice)
    with pytest.raises(LegalHold):
        m.clear_session(alice, "s1")
    with pytest.raises(LegalHold):
        m.update(r.id, alice, status="expired")
    with pytest.raises(LegalHold):
        m.engine.erase_scope(alice)
    assert m.get(r.id, alice).text == "Signed the supplier contract"
    m.remember("New facts can still be written", scope=alice)  # a hold preserves, it does not freeze
    m.governor.release(ADMIN, alice)
    assert m.delete([r.id], scope=alice) == [r.id]
    m.close()


def test_17_8_provenance_of_direct_writes_says_where_from(mem: Memory, alice: Scope) -> None:
    mem.remember(
        "Alice's badge number is 7", scope=alice, session_id="s9", source_message_ids=["m3"], actor="agent:bot",
        tool_call_id="call_1",
    )  # fmt: skip
    hit = mem.search("badge number", scope=alice, k=1)[0]
    assert hit.provenance.session_id == "s9" and hit.provenance.source_message_ids == ["m3"]
    assert hit.provenance.actor == "agent:bot" and hit.provenance.tool_call_id == "call_1"
    plain = mem.remember("Alice likes figs", scope=alice)
    assert plain.provenance.actor == "system" and plain.provenance.extractor == "manual"
    ep = mem.add_messages([{"role": "user", "content": "hi there"}], scope=alice, actor="app").episodes[0]
    assert ep.provenance.actor == "app"


def test_18_4_every_record_has_its_audit_event(mem: Memory, alice: Scope) -> None:
    mem.add_messages([{"role": "user", "content": "I live in Lyon", "id": "m1"}], scope=alice)
    r = mem.remember("Alice likes pears", scope=alice, consolidate=False)
    mem.update(r.id, alice, importance=0.9)
    mem.flush()
    audit = mem.engine.audit
    assert audit is not None and audit.verify().ok
    audited = {e.record_id for e in audit.events()}
    for rec in mem.store.list_records(alice, ALL_STATUSES):
        assert rec.id in audited
    # the audit event of a change is written before its records: a replay finds it and skips it
    assert all(e.payload.get("change") for e in audit.events() if e.action in ("write", "update"))


def test_18_1_non_finite_metadata_is_refused_and_a_damaged_row_never_stops_open(
    tmp_path: Path, alice: Scope
) -> None:
    m = open_mem(tmp_path / "s")
    with pytest.raises(InvalidInput):
        m.remember("x", scope=alice, metadata={"s": float("nan")})
    with pytest.raises(InvalidInput):
        m.add_messages([{"role": "user", "content": "x", "metadata": {"s": float("inf")}}], scope=alice)
    r = m.remember("Alice plays chess", scope=alice, metadata={"level": 3})
    m.flush()
    # a row written by an older version, with its NaN stored as null
    raw = r.model_dump_json().replace('"metadata":{"level":3}', '"metadata":{"level":null}')
    col = m.engine._store._records  # type: ignore[attr-defined]
    col.update(ids=[r.id], metadatas=[{"json": raw}])
    m.close()
    m2 = open_mem(tmp_path / "s")
    assert m2.get(r.id, alice).metadata == {}
    assert [h.record.id for h in m2.search("chess", scope=alice, k=1)] == [r.id]
    m2.close()


def test_turn_metadata_is_kept_on_the_raw_turn_and_redacted(mem: Memory, alice: Scope) -> None:
    res = mem.add_messages(
        [{"role": "assistant", "content": "ok", "metadata": {"lc": "{\"type\": \"ai\"}", "mail": "bob@example.com"}}],
        scope=alice,
    )  # fmt: skip
    got = mem.get(res.episodes[0].id, alice)
    assert got.metadata["role"] == "assistant" and got.metadata["lc"] == '{"type": "ai"}'
    assert "bob@example.com" not in str(got.metadata["mail"])


def test_a_search_right_after_a_write_returns_it(mem: Memory, alice: Scope) -> None:
    for i in range(30):
        mem.add_messages([{"role": "user", "content": f"filler turn number {i} about gardening"}], scope=alice,
                         extract=False)  # fmt: skip
    mem.search("gardening", scope=alice, k=3)  # the scope's index is built and cached
    for word in ("zeppelin", "quokka", "marzipan"):
        mem.add_messages([{"role": "user", "content": f"I just saw a {word}"}], scope=alice, extract=False)
        hits = mem.search(word, scope=alice, k=1)
        assert hits and word in hits[0].record.text  # no flush: read your writes
    r = mem.remember("Alice's locker is number 88", scope=alice, consolidate=False)
    assert mem.get(r.id, alice) == r and r in mem.records(alice)
    assert mem.engine._seam.stats["changes"] >= 4


def test_metadata_filters_apply_before_limit_offset_and_k(
    mem: Memory, alice: Scope, clock: ManualClock
) -> None:
    from datetime import timedelta

    for i in range(6):
        clock.advance(timedelta(minutes=1))
        mem.remember(
            f"note {i} about trains", scope=alice, consolidate=False, metadata={"team": "a" if i % 2 else "b"}
        )
    got = mem.records(alice, metadata={"team": "a"}, limit=2)
    assert [r.text for r in got] == ["note 1 about trains", "note 3 about trains"]
    assert [r.text for r in mem.records(alice, metadata={"team": "a"}, offset=2)] == ["note 5 about trains"]
    hits = mem.search("trains", scope=alice, k=2, metadata={"team": "b"})
    assert len(hits) == 2 and all(h.record.metadata["team"] == "b" for h in hits)
    assert mem.records(alice, metadata={"team": True}) == []  # True is not "a" (no coercion)


def test_export_import_round_trip_keeps_history_and_redacts(tmp_path: Path, alice: Scope) -> None:
    a = open_mem(tmp_path / "a")
    r = a.remember("Alice likes plums", scope=alice, consolidate=False)
    a.update(r.id, alice, text="Alice likes damson plums")
    data = a.export_records(alice)
    a.close()
    data["records"][0]["text"] += " (write to alice@example.com)"
    b = open_mem(tmp_path / "b")
    assert b.import_records(data["records"], data["history"], principal=ADMIN) == 1
    got = b.get(r.id, alice)
    assert "alice@example.com" not in got.text and "damson" in got.text
    assert [h.op for h in b.history(r.id, alice)][:2] == ["add", "update"]
    with pytest.raises(InvalidInput):  # all or nothing: one bad record, nothing written
        b.import_records([*data["records"], {"scope": {"user": "z"}, "text": ""}], principal=ADMIN)
    b.close()


class SlowExtractor:
    name = "slow"
    version = "1"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def extract(self, turns: object, *, now: datetime) -> list[object]:
        self.calls += 1
        self.release.wait(30)
        return []


def test_a_hanging_extractor_never_blocks_add_messages(tmp_path: Path, alice: Scope) -> None:
    slow = SlowExtractor()
    m = open_mem(tmp_path / "s", extractor=slow, extract_timeout=0.5)
    m.engine._worker.max_attempts = 1  # type: ignore[union-attr]
    t0 = time.monotonic()
    for i in range(5):
        m.add_messages([{"role": "user", "content": f"turn {i} about kites"}], scope=alice)
    assert time.monotonic() - t0 < 5.0
    assert len(m.search("kites", scope=alice, k=10)) == 5
    m.flush(timeout=20)  # the hung call is abandoned after 0.5 s, its job given up and audited
    assert m.stats()["worker_timeouts"] >= 1
    slow.release.set()
    m.close()


def test_the_extraction_queue_resumes_after_a_restart(
    tmp_path: Path, alice: Scope, clock: ManualClock
) -> None:
    slow = SlowExtractor()
    m = open_mem(tmp_path / "s", extractor=slow, extract_timeout=30)
    m.add_messages([{"role": "user", "content": "I live in Porto", "id": "m1", "name": "Alice"}], scope=alice)
    for _ in range(100):
        if slow.calls:
            break
        time.sleep(0.05)
    m.engine._worker.close()  # type: ignore[union-attr]  # the process stops with the job unfinished
    m.engine._seam.close()
    m.engine._store.close()
    slow.release.set()
    m2 = open_mem(tmp_path / "s")  # the rule extractor this time
    assert m2.recovered.requeued_jobs == 1
    m2.flush(timeout=30)
    assert any("Porto" in r.text for r in m2.records(alice, kinds=["fact"]))
    m2.close()


# ------------------------------------------------------------------- seams used by the governor


def test_erase_scope_reaches_rows_the_store_cannot_parse(tmp_path: Path) -> None:
    path, bob = tmp_path / "s", Scope(tenant="acme", user="bob")
    m = open_mem(path)
    bad = m.remember("Bob's score was recorded by an old version", scope=bob)
    m.remember("Bob likes sailing on the lake", scope=bob)
    m.close()
    con = sqlite3.connect(path / "chroma.sqlite3")
    query = "SELECT id, string_value FROM embedding_metadata WHERE key = 'json' AND string_value LIKE ?"
    for rowid, raw in con.execute(query, (f"%{bad.id}%",)).fetchall():
        doc = json.loads(raw)
        if isinstance(doc, dict) and "hash" not in doc:  # record + history snapshot, not audit: unparseable
            (doc["snapshot"] if doc.get("snapshot") else doc)["importance"] = float("nan")
            con.execute(
                "UPDATE embedding_metadata SET string_value = ? WHERE id = ? AND key = 'json'",
                (json.dumps(doc), rowid),
            )
    con.commit()
    con.close()
    m = open_mem(path)
    assert [r.text for r in m.records(bob)] == ["Bob likes sailing on the lake"]  # the bad row is quarantined
    assert m.engine.erase_scope(bob, actor="dpo") == (1, 1)
    m.flush()
    m.close()
    con = sqlite3.connect(path / "chroma.sqlite3")
    left = [json.loads(raw) for _, raw in con.execute(query, (f"%{bad.id}%",)).fetchall()]
    con.close()
    # only audit rows (one event, or a list of events) still name it
    assert [d for d in left if isinstance(d, dict) and "hash" not in d] == []


def test_audit_events_go_through_the_seam_and_write_lock_is_public(tmp_path: Path, alice: Scope) -> None:
    m = open_mem(tmp_path / "s")
    rec = m.remember("Alice's train leaves at nine", scope=alice)
    with m.engine.write_lock:  # re-entrant: a write inside the held lock does not deadlock
        m.engine.audit_events(
            [("write", rec, "repair", "audit entry added by check --repair")], "system:check"
        )
    m.flush()
    assert m.engine.audit is not None
    events = [e for e in m.engine.audit.events() if e.record_id == rec.id]
    assert [(e.actor, e.decision) for e in events][-1] == ("system:check", "repair")
    m.close()


def test_policy_in_force_has_a_per_store_hash_key(tmp_path: Path) -> None:
    from shared_core.config import MemoConfig
    from shared_core.governance.policy import GovernancePolicy

    m = open_mem(tmp_path / "a")
    key = m.policy().hash_key
    assert key != GovernancePolicy().hash_key and m.engine.config.policy.hash_key == key
    m.close()
    again = open_mem(tmp_path / "a")
    assert again.policy().hash_key == key  # kept with the store
    again.close()
    other = open_mem(tmp_path / "b")
    assert other.policy().hash_key != key
    other.close()
    own = Memory.in_memory(
        embedder=HashingEmbedder(dim=256), config=MemoConfig(policy=GovernancePolicy(hash_key="from-a-vault"))
    )
    assert own.policy().hash_key == "from-a-vault"
    own.close()


def test_connect_options_are_checked_before_any_connection() -> None:
    from shared_core.errors import ConfigError

    with pytest.raises(ConfigError):
        Memory.connect("127.0.0.1", 9, timeout=0)
    with pytest.raises(ConfigError):
        Memory.connect("127.0.0.1", 9, retries=-1)
