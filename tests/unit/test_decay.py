"""Strength and sweep plans (shared_core.decay): pure functions of records and time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared_core.config import DecayConfig
from shared_core.decay import SweepPlan, anchor_time, plan_sweep, strength
from shared_core.governance.policy import GovernancePolicy
from shared_core.models import Kind, MemoryRecord, Provenance, Scope, Status

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CFG = DecayConfig()
POLICY = GovernancePolicy()


def rec(kind: Kind = Kind.FACT, **kw: Any) -> MemoryRecord:
    kw.setdefault("scope", Scope(user="u1"))
    kw.setdefault("created_at", T0)
    kw.setdefault("updated_at", T0)
    kw.setdefault("provenance", Provenance(turn_timestamps=[T0]))
    return MemoryRecord(kind=kind, text=kw.pop("text", "x"), **kw)


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_half_life_per_kind_at_default_importance() -> None:
    for kind, half in CFG.half_life_days.items():
        r = rec(kind, importance=0.5)
        assert strength(r, T0, CFG) == 1.0
        assert strength(r, days(half), CFG) == pytest.approx(0.5)
        assert strength(r, days(2 * half), CFG) == pytest.approx(0.25)


def test_importance_stretches_the_half_life() -> None:
    low, mid, high = (rec(Kind.EPISODE, importance=i) for i in (0.0, 0.5, 1.0))
    at = days(30)
    assert strength(low, at, CFG) < strength(mid, at, CFG) < strength(high, at, CFG)
    assert strength(high, days(45), CFG) == pytest.approx(0.5)  # 30 days * 1.5


def test_each_access_extends_life() -> None:
    r = rec(Kind.EPISODE)
    used = rec(Kind.EPISODE, access_count=2, last_accessed_at=T0)
    assert strength(used, days(30 + 14), CFG) == pytest.approx(strength(r, days(30), CFG))


def test_last_access_resets_the_clock() -> None:
    r = rec(Kind.EPISODE, access_count=0, last_accessed_at=days(100))
    assert strength(r, days(100), CFG) == 1.0
    assert anchor_time(r) == days(100)


def test_pinned_never_decays() -> None:
    assert strength(rec(Kind.EPISODE, pinned=True), days(10_000), CFG) == 1.0


def test_anchor_is_the_latest_of_event_mention_access() -> None:
    old_event = rec(Kind.EVENT, valid_from=days(-2000), provenance=Provenance(turn_timestamps=[days(5)]))
    assert anchor_time(old_event) == days(5)  # an old event mentioned recently is fresh
    plan = rec(Kind.COMMITMENT, valid_from=days(40), valid_to=days(47))
    assert anchor_time(plan) == days(47)  # a plan stays fresh until it is due
    assert strength(plan, days(46), CFG) == 1.0
    manual = rec(Kind.FACT, provenance=Provenance(), created_at=days(3), valid_from=days(-900))
    assert anchor_time(manual) == days(3)  # no turns: when it was learned


def test_strength_stays_in_unit_interval_even_with_zero_half_life() -> None:
    cfg = DecayConfig(half_life_days={Kind.FACT: 0.0})
    assert strength(rec(Kind.FACT), days(1), cfg) == 0.0
    assert strength(rec(Kind.EVENT), days(1), cfg) == pytest.approx(0.5 ** (1 / 30))  # unknown kind: 30 days


# ------------------------------------------------------------------ sweeps


def test_weak_memories_expire_only_active_ones_considered() -> None:
    fresh = rec(Kind.EPISODE, provenance=Provenance(turn_timestamps=[days(200)]))
    stale = rec(Kind.EPISODE)
    gone = rec(Kind.EPISODE, status=Status.SUPERSEDED)
    review = rec(Kind.EPISODE, status=Status.PENDING_REVIEW)
    plan = plan_sweep([fresh, stale, gone, review], days(200), CFG, POLICY)
    assert isinstance(plan, SweepPlan)
    assert plan.ids == [stale.id] and plan.to_expire[0].reason == "weak"
    assert plan.kept == 1 and plan.now == days(200) and not plan.held


def test_expires_at_ttl_and_inactivity() -> None:
    expiring = rec(Kind.FACT, expires_at=days(10))
    ttl_hit = rec(Kind.EVENT)
    idle = rec(Kind.PREFERENCE, last_accessed_at=days(1))
    fine = rec(Kind.FACT)
    policy = GovernancePolicy(ttl_days={Kind.EVENT: 5}, inactivity_days={Kind.PREFERENCE: 8})
    plan = plan_sweep([expiring, ttl_hit, idle, fine], days(10), CFG, policy)
    assert {i.record_id: i.reason for i in plan.to_expire} == {
        expiring.id: "expires_at",
        ttl_hit.id: "ttl",
        idle.id: "inactive",
    }
    assert plan.kept == 1
    early = plan_sweep([expiring, idle], days(9.5), CFG, policy)
    assert early.ids == [idle.id]


def test_pinned_records_are_exempt() -> None:
    pinned = rec(Kind.EPISODE, pinned=True, expires_at=days(1))
    plan = plan_sweep([pinned], days(5000), CFG, GovernancePolicy(ttl_days={Kind.EPISODE: 1}))
    assert plan.to_expire == [] and plan.kept == 1


def test_legal_hold_expires_nothing() -> None:
    records = [rec(Kind.EPISODE), rec(Kind.FACT, expires_at=days(1))]
    plan = plan_sweep(records, days(5000), CFG, POLICY, held=True)
    assert plan.to_expire == [] and plan.held and plan.kept == 2


def test_capacity_keeps_the_strongest_per_scope() -> None:
    a, b = Scope(user="a"), Scope(user="b")
    strong = rec(Kind.FACT, scope=a, importance=0.9)
    medium = rec(Kind.FACT, scope=a, importance=0.5)
    weak = rec(Kind.EPISODE, scope=a, importance=0.1)
    pinned = rec(Kind.EPISODE, scope=a, pinned=True)
    other = rec(Kind.EPISODE, scope=b, importance=0.1)
    capped = POLICY.model_copy(update={"capacity_per_scope": 2})
    plan = plan_sweep([weak, medium, strong, pinned, other], days(20), DecayConfig(), capped)
    assert {i.record_id for i in plan.to_expire} == {medium.id, weak.id}
    assert all(i.reason == "capacity" for i in plan.to_expire)
    assert plan.kept == 3  # pinned + strongest in scope a, and scope b's only record
    plan2 = plan_sweep(
        [weak, medium, strong], days(20), DecayConfig(), GovernancePolicy(capacity_per_scope=1)
    )
    assert {i.record_id for i in plan2.to_expire} == {medium.id, weak.id}


def test_plan_is_deterministic_and_a_dry_run() -> None:
    records = [rec(Kind.EPISODE, importance=0.5) for _ in range(5)]
    capped = POLICY.model_copy(update={"capacity_per_scope": 2})
    p1 = plan_sweep(records, days(3), DecayConfig(), capped)
    p2 = plan_sweep(list(reversed(records)), days(3), DecayConfig(), capped)
    assert sorted(p1.ids) == sorted(p2.ids) and len(p1.ids) == 3
    assert all(r.status is Status.ACTIVE for r in records)
