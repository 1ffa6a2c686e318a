"""The governance policy stored with the store (#17.6): versioned, admin-only, audited, and the
same in every process. The two-process tests use a real embedded Chroma store, one process after
the other (an embedded store is single-process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared_core import MemoConfig, Memory
from shared_core.embed import HashingEmbedder
from shared_core.errors import InvalidInput, PermissionDenied, PolicyConflict, StoreCorrupted
from shared_core.governance import policy_store
from shared_core.governance.access import Principal, Role
from shared_core.governance.policy import GovernancePolicy
from shared_core.models import Kind, Scope
from shared_core.store.in_memory import InMemoryStore

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
ADMIN = Principal(id="dpo", role=Role.ADMIN)
TTL = GovernancePolicy(ttl_days={Kind.FACT: 1.0}, hash_key="process-secret")


def test_nothing_stored_means_the_configured_policy() -> None:
    store = InMemoryStore()
    assert policy_store.load(store) is None
    assert policy_store.effective(store, TTL) is TTL
    assert policy_store.history(store) == []


def test_change_is_versioned_audited_and_keeps_the_secret_out() -> None:
    store = InMemoryStore()
    v1, entries = policy_store.change(store, ADMIN, TTL, reason="retention v1", now=NOW)
    assert v1.version == 1 and v1.changed_by == "dpo" and len(entries) == 1
    e = entries[0]
    assert (e.actor, e.action, e.decision, e.reason) == ("dpo", "policy", "change", "retention v1")
    assert e.payload["version"] == 1 and e.payload["previous_version"] == 0
    raw = store.get_meta(policy_store.KEY)
    assert raw is not None and "process-secret" not in raw  # the HMAC key is never persisted
    other = GovernancePolicy(hash_key="another-process-key")
    got = policy_store.effective(store, other)
    assert got.ttl_days == {Kind.FACT: 1.0} and got.hash_key == "another-process-key"
    # unchanged: no new version, nothing to audit
    same, none = policy_store.change(store, ADMIN, TTL, reason="again", now=NOW)
    assert same.version == 1 and none == []
    v2, entries2 = policy_store.change(
        store,
        ADMIN,
        {"ttl_days": {"fact": 2}},
        reason="longer",
        now=NOW + timedelta(days=1),
        expected_version=1,
    )
    assert v2.version == 2 and entries2[0].payload["previous_digest"] == v1.digest
    assert [s.version for s in policy_store.history(store)] == [1, 2]
    assert policy_store.history(store)[0].policy.ttl_days == {Kind.FACT: 1.0}


@pytest.mark.parametrize(
    "who",
    [
        Principal(id="a", role=Role.AGENT, scope=Scope(tenant="t", agent="bot")),
        Principal(id="s", role=Role.SUBJECT, scope=Scope(tenant="t", user="u")),
        Principal(id="r", role=Role.REVIEWER),
        Principal(id="au", role=Role.AUDITOR),
        Principal(id="ta", role=Role.ADMIN, scope=Scope(tenant="t", user="u")),  # bound admin
    ],
)
def test_only_an_unbound_admin_may_change_it(who: Principal) -> None:
    store = InMemoryStore()
    with pytest.raises(PermissionDenied):
        policy_store.change(store, who, TTL, reason="x", now=NOW)
    assert policy_store.load(store) is None


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        ({"ttl_days": {"fact": float("nan")}}, "ok"),
        ({"ttl_days": {"fact": float("inf")}}, "ok"),
        ({"ttl_days": {"fact": -3}}, "ok"),
        ({"ttl_days": {"bogus": 3}}, "ok"),
        ({"no_such_option": 1}, "ok"),
        ("not a policy", "ok"),
        (TTL, ""),
        (TTL, "nul\x00"),
    ],
)
def test_bad_policies_and_reasons_are_invalid_input(policy: object, reason: str) -> None:
    store = InMemoryStore()
    with pytest.raises(InvalidInput):
        policy_store.change(store, ADMIN, policy, reason=reason, now=NOW)  # type: ignore[arg-type]
    assert policy_store.load(store) is None


def test_a_stale_expected_version_is_a_conflict() -> None:
    store = InMemoryStore()
    policy_store.change(store, ADMIN, TTL, reason="v1", now=NOW)
    with pytest.raises(PolicyConflict):
        policy_store.change(store, ADMIN, GovernancePolicy(), reason="v2", now=NOW, expected_version=0)


def test_a_damaged_stored_policy_is_store_corrupted() -> None:
    store = InMemoryStore()
    policy_store.change(store, ADMIN, TTL, reason="v1", now=NOW)
    raw = json.loads(store.get_meta(policy_store.KEY) or "")
    raw["policy"]["ttl_days"]["fact"] = 99.0  # edited behind MeMo's back: the digest no longer matches
    store.set_meta(policy_store.KEY, json.dumps(raw))
    with pytest.raises(StoreCorrupted):
        policy_store.load(store)
    store.set_meta(policy_store.KEY, "{not json")
    with pytest.raises(StoreCorrupted):
        policy_store.effective(store, GovernancePolicy())


def test_change_and_audit_appends_to_the_log(tmp_path: Path) -> None:
    with Memory.in_memory(embedder=HashingEmbedder()) as mem:
        before = len(mem.engine.audit.events())
        policy_store.change_and_audit(mem.store, mem.engine.audit, ADMIN, TTL, reason="v1", now=NOW)
        events = mem.engine.audit.events()[before:]
        assert [(e.action, e.actor, e.payload["version"]) for e in events] == [("policy", "dpo", 1)]
        assert mem.engine.audit.verify().ok


def _run(code: str, path: Path) -> str:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "STORE": str(path)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


SET_IN_PROCESS_ONE = """
    import os
    from datetime import datetime, timezone
    from shared_core import Memory
    from shared_core.embed import HashingEmbedder
    from shared_core.governance import policy_store
    from shared_core.governance.access import Principal, Role
    from shared_core.governance.policy import GovernancePolicy
    from shared_core.models import Kind
    with Memory.open(os.environ["STORE"], embedder=HashingEmbedder()) as mem:
        stored = policy_store.change_and_audit(
            mem.store, mem.engine.audit, Principal(id="dpo", role=Role.ADMIN),
            GovernancePolicy(ttl_days={Kind.FACT: 1.0}, hash_key="one"), reason="retention",
            now=datetime.now(timezone.utc),
        )
        print(stored.version, stored.digest)
"""

READ_IN_PROCESS_TWO = """
    import os
    from shared_core import Memory, MemoConfig
    from shared_core.embed import HashingEmbedder
    from shared_core.governance import policy_store
    from shared_core.governance.policy import GovernancePolicy
    with Memory.open(os.environ["STORE"], embedder=HashingEmbedder()) as mem:
        cfg = policy_store.apply_to_config(mem.store, MemoConfig(policy=GovernancePolicy(hash_key="two")))
        stored = policy_store.load(mem.store)
        print(stored.version, stored.digest, cfg.policy.ttl_days["fact"], cfg.policy.hash_key)
"""


def test_a_policy_set_by_one_process_is_the_policy_of_the_next(tmp_path: Path) -> None:
    store = tmp_path / "store"
    version, digest = _run(SET_IN_PROCESS_ONE, store).split()
    assert version == "1"
    got = _run(READ_IN_PROCESS_TWO, store).split()
    assert got == ["1", digest, "1.0", "two"]
    with Memory.open(store, embedder=HashingEmbedder()) as mem:  # and this process too, with its audit event
        assert policy_store.effective(mem.store, GovernancePolicy()).ttl_days == {Kind.FACT: 1.0}
        assert [e.action for e in mem.engine.audit.events()].count("policy") == 1


def test_memory_open_applies_the_stored_policy(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _run(SET_IN_PROCESS_ONE, store)
    with Memory.open(store, embedder=HashingEmbedder(), config=MemoConfig()) as mem:
        assert mem.config.policy.ttl_days == {Kind.FACT: 1.0}


def test_cli_sweep_applies_the_stored_ttl(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with Memory.open(store, embedder=HashingEmbedder()) as mem:
        rec = mem.remember("the parking pass expires soon", scope=Scope(tenant="acme", user="alice"))
        mem.engine.store.upsert(
            [rec.model_copy(update={"created_at": rec.created_at - timedelta(days=3)})], None
        )
    _run(SET_IN_PROCESS_ONE, store)
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
    memo = str(Path(sys.executable).parent / "memo")
    done = subprocess.run(
        [memo, "--path", str(store), "--json", "sweep", "--tenant", "acme", "--user", "alice", "--as", "admin:dpo"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert rec.id in done.stdout


def test_the_stored_ttl_expires_what_it_should(tmp_path: Path) -> None:
    """The control of the CLI test above: with the stored policy applied, the plan expires it."""
    from shared_core.decay import plan_sweep
    from shared_core.store.base import RecordFilter

    store = tmp_path / "store"
    alice = Scope(tenant="acme", user="alice")
    with Memory.open(store, embedder=HashingEmbedder()) as mem:
        rec = mem.remember("the parking pass expires soon", scope=alice)
    _run(SET_IN_PROCESS_ONE, store)
    with Memory.open(store, embedder=HashingEmbedder()) as mem:
        cfg = policy_store.apply_to_config(mem.store, mem.config)
        records = mem.store.list_records(alice, RecordFilter())
        plan = plan_sweep(records, rec.created_at + timedelta(days=3), cfg.decay, cfg.policy)
        assert [i.record_id for i in plan.to_expire] == [rec.id]
        assert mem.config.policy.ttl_days == cfg.policy.ttl_days  # Memory.open applied it already
        unchanged = plan_sweep(
            records, rec.created_at + timedelta(days=3), MemoConfig().decay, MemoConfig().policy
        )
        assert unchanged.to_expire == []


def test_a_policy_change_is_its_own_admin_only_operation() -> None:
    from shared_core.governance.access import ALLOWED, Operation

    assert policy_store.CHANGE_OPERATION is Operation.SET_POLICY
    assert [r for r, ops in ALLOWED.items() if Operation.SET_POLICY in ops] == [Role.ADMIN]
    stored, _ = policy_store.change(InMemoryStore(), ADMIN, TTL, reason="r", now=NOW)
    assert stored.policy.hash_key is None  # no secret, and no placeholder either
