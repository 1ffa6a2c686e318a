"""Governance end to end on an embedded Chroma store: PII, review, retention, erasure, audit, roles."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from shared_core import MemoConfig, Memory, PermissionDenied, PolicyViolation, Scope, Status
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder
from shared_core.extract.llm import LLMExtractor
from shared_core.governance.access import Principal, Role
from shared_core.governance.policy import GovernancePolicy, PIIAction, PIIType
from shared_core.models import Kind
from shared_core.store.base import ALL_STATUSES
from shared_core.store.chroma_audit import ChromaAuditBackend
from shared_core.testing import FakeChat

ADMIN = Principal(id="ops-admin", role=Role.ADMIN)
REVIEWER = Principal(id="rita", role=Role.REVIEWER)
AUDITOR = Principal(id="audrey", role=Role.AUDITOR)

SECRETS = {
    "email": "alice.liddell@example.com",
    "card": "4111 1111 1111 1111",
    "phone": "+44 20 7946 0958",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "ssn": "123-45-6789",
    "ip": "192.168.14.27",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


def everything_stored(mem: Memory) -> str:
    dump = mem.store.raw_dump()  # type: ignore[attr-defined]
    assert mem.engine.audit is not None
    audit = ChromaAuditBackend(mem.store).raw_dump()  # type: ignore[arg-type]
    return json.dumps([dump, audit], default=str)


def test_pii_never_reaches_chroma(mem: Memory, alice: Scope) -> None:
    text = (
        f"My email is {SECRETS['email']}, card {SECRETS['card']}, call me on {SECRETS['phone']}. "
        f"IBAN {SECRETS['iban']}, SSN {SECRETS['ssn']}, my laptop is at {SECRETS['ip']}, token {SECRETS['jwt']}"
    )
    res = mem.add_messages([{"role": "user", "content": text, "id": "m1"}], scope=alice, session_id="s1")
    assert res.redactions >= 7
    mem.remember(f"Alice's backup email is {SECRETS['email']}", scope=alice)
    stored = everything_stored(mem)
    for kind, value in SECRETS.items():
        assert value not in stored, f"{kind} leaked into the store"
    assert "[EMAIL]" in res.episodes[0].text and "[CARD]" in res.episodes[0].text


def test_pii_reject_policy_stores_nothing(tmp_path: Path, alice: Scope) -> None:
    policy = GovernancePolicy(pii={**GovernancePolicy().pii, PIIType.CARD: PIIAction.REJECT})
    mem = Memory.open(tmp_path / "s", embedder=HashingEmbedder(), config=MemoConfig(policy=policy))
    with pytest.raises(PolicyViolation) as info:
        mem.add_messages([{"role": "user", "content": "ok"}, {"role": "user", "content": f"card {SECRETS['card']}"}],
                         scope=alice)  # fmt: skip
    assert SECRETS["card"] not in str(info.value)
    assert mem.store.list_records(alice, ALL_STATUSES) == []


def test_keyed_hash_links_same_value(tmp_path: Path, alice: Scope) -> None:
    policy = GovernancePolicy(pii={**GovernancePolicy().pii, PIIType.EMAIL: PIIAction.HASH}, hash_key="k1")
    mem = Memory.open(tmp_path / "s", embedder=HashingEmbedder(), config=MemoConfig(policy=policy))
    a = mem.remember(f"primary email {SECRETS['email']}", scope=alice)
    b = mem.remember(f"send invoices to {SECRETS['email'].upper()}", scope=alice)
    token_a = a.text.split()[-1]
    assert token_a.startswith("[EMAIL:") and token_a in b.text


def inferred_memory_reply(confidence: float, text: str = "Alice is considering a job change") -> str:
    return json.dumps({"memories": [{"kind": "fact", "text": text, "subject": "alice", "attribute": "career",
                                     "value": "change", "confidence": confidence, "source_message_ids": ["m1"]}]})  # fmt: skip


def llm_memory(tmp_path: Path, reply: str, clock: ManualClock | None = None) -> Memory:
    return Memory.open(tmp_path / "llm", embedder=HashingEmbedder(), extractor=LLMExtractor(FakeChat([reply])),
                       clock=clock)  # fmt: skip


def test_doubtful_inferred_memory_waits_for_review_and_is_never_returned(
    tmp_path: Path, alice: Scope
) -> None:
    mem = llm_memory(tmp_path, inferred_memory_reply(0.4))
    res = mem.add_messages([{"role": "user", "content": "Maybe I should look at other jobs", "id": "m1"}],
                           scope=alice, session_id="s1", wait=True)  # fmt: skip
    assert [r.text for r in res.pending_review] == ["Alice is considering a job change"]
    pending = res.pending_review[0]
    assert pending.provenance.origin.value == "inferred" and pending.confidence == 0.4
    for q in ("job change", "Alice is considering a job change", "career"):
        assert pending.id not in [h.id for h in mem.search(q, scope=alice, k=20)]
        assert pending.id not in [h.id for h in mem.context(q, scope=alice, token_budget=2000).hits]
    assert [r.id for r in mem.governor.review_queue(REVIEWER, alice)] == [pending.id]
    approved = mem.governor.approve(REVIEWER, pending.id, alice, reason="user confirmed in chat")
    assert approved.status is Status.ACTIVE
    assert pending.id in [h.id for h in mem.search("job change", scope=alice, k=5)]
    last = mem.history(pending.id, alice)[-1]
    assert (last.op, last.actor, last.reason) == ("review", "rita", "user confirmed in chat")


def test_review_reject_and_edit(tmp_path: Path, alice: Scope) -> None:
    second = json.dumps({"memories": [{"kind": "preference", "text": "Alice may dislike open offices", "subject": "alice",
                                       "attribute": "dislikes", "value": "open offices", "confidence": 0.5}]})  # fmt: skip
    mem = Memory.open(tmp_path / "llm", embedder=HashingEmbedder(),
                      extractor=LLMExtractor(FakeChat([inferred_memory_reply(0.5), second])))  # fmt: skip
    mem.add_messages([{"role": "user", "content": "hmm, jobs", "id": "m1"}], scope=alice, wait=True)
    item = mem.governor.review_queue(REVIEWER, alice)[0]
    edited = mem.governor.edit(REVIEWER, item.id, alice, "Alice is happy in her job", reason="misread")
    assert edited.text == "Alice is happy in her job" and edited.status is Status.ACTIVE
    mem.add_messages([{"role": "user", "content": "again, jobs", "id": "m2"}], scope=alice, wait=True)
    item2 = mem.governor.review_queue(REVIEWER, alice)
    assert item2, "a second doubtful memory is queued"
    mem.governor.reject(REVIEWER, item2[0].id, alice, reason="not stated")
    assert mem.governor.review_queue(REVIEWER, alice) == []
    assert mem.store.get(alice, [item2[0].id]) == []
    with pytest.raises(PermissionDenied):
        mem.governor.review_queue(AUDITOR, alice)


def test_sensitive_inferred_memory_goes_to_review(tmp_path: Path, alice: Scope) -> None:
    mem = llm_memory(tmp_path, inferred_memory_reply(0.95, "Alice was diagnosed with diabetes"))
    res = mem.add_messages(
        [{"role": "user", "content": "the doctor called", "id": "m1"}], scope=alice, wait=True
    )
    assert [r.text for r in res.pending_review] == ["Alice was diagnosed with diabetes"]


def test_sweep_is_dry_run_by_default_and_respects_pins_and_holds(tmp_path: Path, alice: Scope) -> None:
    clock = ManualClock()
    policy = GovernancePolicy(ttl_days={Kind.EVENT: 30})
    mem = Memory.open(
        tmp_path / "s", embedder=HashingEmbedder(), clock=clock, config=MemoConfig(policy=policy)
    )
    old = mem.remember("Went to a concert", scope=alice, kind="event")
    pinned = mem.remember("Graduated from university", scope=alice, kind="event", pinned=True)
    fact = mem.remember("Alice is a nurse", scope=alice, kind="fact")
    clock.advance(days=45)
    plan = mem.governor.sweep(ADMIN, alice)
    assert [i.record_id for i in plan.to_expire] == [old.id]
    assert mem.get(old.id, alice).status is Status.ACTIVE  # dry run changed nothing
    mem.governor.hold(ADMIN, alice, "litigation 2024-17")
    assert mem.governor.sweep(ADMIN, alice, apply=True).to_expire == []
    with pytest.raises(PolicyViolation):
        mem.governor.forget_user(ADMIN, alice)
    mem.governor.release(ADMIN, alice)
    mem.governor.sweep(ADMIN, alice, apply=True)
    assert mem.get(old.id, alice).status is Status.EXPIRED
    assert (
        mem.get(pinned.id, alice).status is Status.ACTIVE and mem.get(fact.id, alice).status is Status.ACTIVE
    )
    assert old.id not in [h.id for h in mem.search("concert", scope=alice, k=10)]
    with pytest.raises(PermissionDenied):
        mem.governor.sweep(REVIEWER, alice)


def seed_two_users(mem: Memory) -> tuple[Scope, Scope]:
    alice, bob = Scope(tenant="acme", user="alice"), Scope(tenant="acme", user="bob")
    for who, scope in (("alice", alice), ("bob", bob)):
        mem.add_messages([{"role": "user", "content": f"I live in Lyon and my cat is named {who.title()}kins", "id": "m1"},
                          {"role": "user", "content": f"I love {who}-flavoured tea", "id": "m2"}],
                         scope=scope, session_id="s1")  # fmt: skip
        rec = mem.remember(f"{who} prefers window seats", scope=scope, kind="preference")
        mem.update(rec.id, scope, importance=0.9)
    mem.flush()  # extraction runs in the background: governance acts on the settled store
    return alice, bob


def test_erasure_removes_one_user_and_proves_it(mem: Memory) -> None:
    alice, bob = seed_two_users(mem)
    bob_before = {r.id for r in mem.store.list_records(bob, ALL_STATUSES)}
    report = mem.governor.forget_user(Principal(id="alice", role=Role.SUBJECT, scope=alice), alice)
    assert report.ok, report.checks
    assert report.erased_records >= 3 and report.erased_history >= 1 and report.redacted_audit_events >= 3
    assert {c.name for c in report.checks} >= {"records", "history", "review_queue", "lexical_index", "raw_scan",
                                                "audit_payloads", "search"}  # fmt: skip
    assert mem.store.list_records(alice, ALL_STATUSES) == []
    assert {r.id for r in mem.store.list_records(bob, ALL_STATUSES)} == bob_before
    assert mem.search("cat named", scope=bob, k=3)
    assert mem.governor.audit_verify(ADMIN).ok
    again = mem.governor.verify_erasure(ADMIN, alice, samples=["Alicekins", "alice-flavoured tea"])
    assert again.ok, again.checks


def test_verify_erasure_fails_when_residue_is_planted(mem: Memory) -> None:
    alice, _ = seed_two_users(mem)
    erased = {r.id: r for r in mem.store.list_records(alice, ALL_STATUSES)}
    history = mem.store.history(alice)
    assert mem.governor.forget_user(ADMIN, alice).ok
    # a history row that a buggy delete left behind
    mem.store.append_history([history[0]])
    report = mem.governor.verify_erasure(ADMIN, alice)
    assert not report.ok
    # (the files check counts text a stored row holds as that row's: the raw scan reports it)
    assert {c.name for c in report.checks if not c.passed} == {"history", "raw_scan", "scope_rows"}
    mem.store.delete_history(alice)
    assert mem.governor.verify_erasure(ADMIN, alice).failed() == ["files"]  # deleted, still in the files
    mem.governor.purge_files(ADMIN, mem.store.path)  # type: ignore[attr-defined]
    assert mem.governor.verify_erasure(ADMIN, alice).ok
    # erased content copied into a row that names no subject (e.g. a meta document)
    episode = next(r for r in erased.values() if r.kind is Kind.EPISODE)
    mem.store.set_meta("cache:last-turn", episode.text)
    report = mem.governor.verify_erasure(ADMIN, alice)
    assert report.failed() == ["raw_scan"]
    mem.store.set_meta("cache:last-turn", "")
    mem.governor.purge_files(ADMIN, mem.store.path)  # type: ignore[attr-defined]
    assert mem.governor.verify_erasure(ADMIN, alice).ok
    # and a record planted back into the erased scope fails the records and search checks too
    mem.remember("alice still here", scope=alice, consolidate=False)
    report = mem.governor.verify_erasure(ADMIN, alice, samples=["alice still here"])
    assert {"records", "search", "raw_scan", "scope_rows"} <= {c.name for c in report.checks if not c.passed}


def test_forget_single_record(mem: Memory, alice: Scope) -> None:
    keep = mem.remember("Alice likes chess", scope=alice)
    gone = mem.remember("Alice's locker code is 4411", scope=alice)
    mem.update(gone.id, alice, importance=0.8)
    report = mem.governor.forget_record(ADMIN, gone.id, alice)
    assert report.ok, report.checks
    assert mem.store.get(alice, [gone.id]) == [] and mem.store.history(alice, gone.id) == []
    assert mem.get(keep.id, alice).text == "Alice likes chess"


def test_audit_tamper_is_detected(mem: Memory, alice: Scope) -> None:
    for i in range(4):
        mem.remember(f"note {i}", scope=alice, consolidate=False)
        mem.flush()  # one applied batch, so one audit row, per note
    assert mem.governor.audit_verify(AUDITOR).ok
    backend = ChromaAuditBackend(mem.store)  # type: ignore[arg-type]
    rows = backend._col.get(include=["metadatas"])
    # the row that holds seq 2 (a row is one append: one event, or a JSON list of several)
    rid, meta = next(
        (i, m) for i, m in zip(rows["ids"], rows["metadatas"]) if m["first_seq"] <= 2 <= m["seq"]
    )
    body = json.loads(meta["json"])
    for ev in body if isinstance(body, list) else [body]:
        if ev["seq"] == 2:
            ev["decision"] = "forged"
    # an attacker with write access to Chroma rewrites one entry (bypassing the backend's checks)
    forged = {**meta, "json": json.dumps(body)}
    backend._col.upsert(ids=[rid], embeddings=[[1.0]], documents=["write"], metadatas=[forged])
    report = mem.governor.audit_verify(AUDITOR)
    assert not report.ok and report.first_bad_seq == 2
    backend._col.upsert(ids=[rid], embeddings=[[1.0]], documents=["write"], metadatas=[meta])
    assert mem.governor.audit_verify(AUDITOR).ok
    backend._col.delete(ids=[rid])  # a removed entry, with rows after it
    assert rid != rows["ids"][-1]
    assert not mem.governor.audit_verify(AUDITOR).ok


def test_denied_roles_get_typed_errors_and_write_nothing(mem: Memory) -> None:
    alice, bob = seed_two_users(mem)
    n_events = len(mem.engine.audit.events()) if mem.engine.audit else 0
    before = len(mem.store.list_records(alice, ALL_STATUSES))
    bob_subject = Principal(id="bob", role=Role.SUBJECT, scope=bob)
    agent = Principal(id="bot", role=Role.AGENT, scope=Scope(tenant="acme", agent="bot"))
    attempts = [
        lambda: mem.governor.forget_user(bob_subject, alice),
        lambda: mem.governor.forget_user(AUDITOR, alice),
        lambda: mem.governor.forget_user(REVIEWER, alice),
        lambda: mem.governor.export_subject(AUDITOR, alice),
        lambda: mem.governor.export_subject(bob_subject, alice),
        lambda: mem.governor.sweep(bob_subject, alice, apply=True),
        lambda: mem.governor.hold(REVIEWER, alice, "x"),
        lambda: mem.governor.audit_export(bob_subject),
        lambda: mem.governor.review_queue(agent, alice),
        lambda: mem.governor.forget_record(agent, "x", alice),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert len(mem.store.list_records(alice, ALL_STATUSES)) == before
    assert (len(mem.engine.audit.events()) if mem.engine.audit else 0) == n_events


def test_subject_export_holds_only_their_data(mem: Memory) -> None:
    alice, _ = seed_two_users(mem)
    data = mem.governor.export_subject(Principal(id="alice", role=Role.SUBJECT, scope=alice), alice)
    assert data["records"] and all(r["scope"]["user"] == "alice" for r in data["records"])
    assert data["history"] and all(h["scope"]["user"] == "alice" for h in data["history"])
    assert data["audit"] and all(e["scope"]["user"] == "alice" for e in data["audit"])
    assert "bob" not in json.dumps(data["records"])


def test_superseded_memory_shows_replacement(mem: Memory, alice: Scope, clock: ManualClock) -> None:
    mem.add_messages(
        [{"role": "user", "content": "I live in Paris.", "id": "m1", "name": "Alice"}], scope=alice, wait=True
    )
    clock.advance(timedelta(days=40))
    res = mem.add_messages(
        [{"role": "user", "content": "I moved to Berlin.", "id": "m2", "name": "Alice"}],
        scope=alice,
        wait=True,
    )
    assert res.superseded, "the Paris fact is superseded"
    old = mem.get(res.superseded[0].id, alice)
    assert old.status is Status.SUPERSEDED and old.superseded_by and old.valid_to is not None
    new = mem.get(old.superseded_by, alice)
    assert old.id in new.supersedes and "Berlin" in new.text
    assert new.provenance.source_message_ids == ["m2"]
    current = [h.record.text for h in mem.search("where does Alice live", scope=alice, k=5, kinds=["fact"])]
    assert "Paris" not in " ".join(current)
    before = mem.search(
        "where did Alice live before", scope=alice, k=5, kinds=["fact"], include_superseded=True
    )
    assert any("Paris" in h.record.text for h in before)


def test_each_store_gets_its_own_pii_hash_key(tmp_path: Path) -> None:
    from shared_core.store.chroma_audit import pii_hash_key

    one = Memory.open(tmp_path / "one", embedder=HashingEmbedder())
    two = Memory.open(tmp_path / "two", embedder=HashingEmbedder())
    key = pii_hash_key(one.store)
    assert len(key) == 64 and int(key, 16) and key != pii_hash_key(two.store)
    assert key != GovernancePolicy().hash_key
    one.close()
    again = Memory.open(tmp_path / "one", embedder=HashingEmbedder())
    assert pii_hash_key(again.store) == key  # kept with the store
    again.close()
    two.close()


def test_a_keyless_hash_policy_uses_the_store_key(tmp_path: Path, alice: Scope) -> None:
    from shared_core.store.chroma_audit import PII_KEY, pii_hash_key, with_pii_hash_key
    from shared_core.store.in_memory import InMemoryStore

    plain = MemoConfig()
    store = InMemoryStore()
    assert with_pii_hash_key(plain, store) is plain and store.get_meta(PII_KEY) is None  # nothing to hash
    hashing = MemoConfig(
        policy=GovernancePolicy(pii={**GovernancePolicy().pii, PIIType.EMAIL: PIIAction.HASH})
    )
    keyed = with_pii_hash_key(hashing, store)
    assert keyed.policy.hash_key == pii_hash_key(store) and keyed.policy.pii == hashing.policy.pii
    own = hashing.model_copy(update={"policy": hashing.policy.model_copy(update={"hash_key": "mine"})})
    assert with_pii_hash_key(own, store) is own  # a deployer's own key wins
    mem = Memory(store, embedder=HashingEmbedder(), config=keyed)
    one = mem.remember("Alice's email is alice@example.com", scope=alice)
    two = mem.remember("Write to alice@example.com on Monday", scope=alice)
    token = [w for w in one.text.split() if w.startswith("[EMAIL:")]
    assert token and token[0] in two.text and "alice@example.com" not in one.text + two.text
