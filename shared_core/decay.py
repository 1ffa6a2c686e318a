"""Forgetting: how strong a memory still is, and which memories a sweep would expire. Pure.

`strength` is an exponential decay with a per-kind half-life (`DecayConfig.half_life_days`),
measured from the memory's anchor, the latest of:

* its event time (`valid_from`, else the first turn, else creation),
* the last time it was mentioned (the latest turn timestamp; creation when it has none),
* its last access,
* for a commitment, the end of its validity (a plan stays fresh until it is due).

Each access extends its life by `access_boost_days`; importance stretches the half-life
(`half_life * (0.5 + importance)`: x0.5 at importance 0, x1 at 0.5, x1.5 at 1). Pinned
memories always have strength 1. Without new accesses, strength never increases with time.

`plan_sweep` is the dry run: the engine applies the plan (status EXPIRED) or shows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .clock import ensure_utc
from .config import DecayConfig
from .governance.policy import GovernancePolicy
from .models import Kind, MemoryRecord, Status

__all__ = ["SweepItem", "SweepPlan", "SweepReason", "anchor_time", "plan_sweep", "strength"]

DEFAULT_HALF_LIFE_DAYS = 30.0
_DAY = 86_400.0

SweepReason = Literal["expires_at", "ttl", "inactive", "weak", "capacity"]


def anchor_time(record: MemoryRecord) -> datetime:
    """The moment a memory's decay is measured from (see the module docstring)."""
    mentioned = (
        max(record.provenance.turn_timestamps) if record.provenance.turn_timestamps else record.created_at
    )
    times = [record.event_time, mentioned]
    if record.last_accessed_at is not None:
        times.append(record.last_accessed_at)
    if record.kind is Kind.COMMITMENT and record.valid_to is not None:
        times.append(record.valid_to)
    return max(ensure_utc(t) for t in times)


def strength(record: MemoryRecord, now: datetime, cfg: DecayConfig) -> float:
    """How alive a memory is at `now`, in [0, 1]. Pinned: 1.0."""
    if record.pinned:
        return 1.0
    half_life = cfg.half_life_days.get(record.kind, DEFAULT_HALF_LIFE_DAYS) * (0.5 + record.importance)
    age_days = (ensure_utc(now) - anchor_time(record)).total_seconds() / _DAY
    age_days -= record.access_count * cfg.access_boost_days
    if age_days <= 0:
        return 1.0
    if half_life <= 0:
        return 0.0
    return min(1.0, max(0.0, float(0.5 ** (age_days / half_life))))


class SweepItem(BaseModel):
    """One memory a sweep would expire, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str
    reason: SweepReason
    strength: float = Field(ge=0.0, le=1.0)
    detail: str = ""


class SweepPlan(BaseModel):
    """What a sweep would do at `now`. Applying it is the engine's job."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    now: datetime
    to_expire: list[SweepItem] = Field(default_factory=list)
    kept: int = 0  # active memories that stay
    held: bool = False  # a legal hold: nothing expires

    @property
    def ids(self) -> list[str]:
        return [i.record_id for i in self.to_expire]


def _days(a: datetime, b: datetime) -> float:
    return (ensure_utc(a) - ensure_utc(b)).total_seconds() / _DAY


def _reason(
    rec: MemoryRecord, now: datetime, s: float, cfg: DecayConfig, policy: GovernancePolicy
) -> SweepItem | None:
    if rec.expires_at is not None and rec.expires_at <= now:
        return SweepItem(
            record_id=rec.id,
            reason="expires_at",
            strength=s,
            detail=f"expired at {rec.expires_at.isoformat()}",
        )
    ttl = policy.ttl_days.get(rec.kind)
    if ttl is not None and _days(now, rec.created_at) >= ttl:
        return SweepItem(record_id=rec.id, reason="ttl", strength=s, detail=f"older than {ttl:g} days")
    idle = policy.inactivity_days.get(rec.kind)
    if idle is not None and _days(now, rec.last_accessed_at or rec.created_at) >= idle:
        return SweepItem(record_id=rec.id, reason="inactive", strength=s, detail=f"unused for {idle:g} days")
    if s < cfg.forget_below:
        return SweepItem(
            record_id=rec.id, reason="weak", strength=s, detail=f"strength {s:.3f} < {cfg.forget_below:g}"
        )
    return None


def plan_sweep(
    records: Iterable[MemoryRecord],
    now: datetime,
    cfg: DecayConfig,
    policy: GovernancePolicy,
    held: bool = False,
) -> SweepPlan:
    """Which ACTIVE records expire at `now`: `expires_at` passed, TTL, inactivity, strength below
    `cfg.forget_below`, then per-scope capacity (the strongest are kept). Pinned records never
    expire (they still count towards capacity); a legal hold (`held=True`) expires nothing.

    TTL counts from creation; inactivity from the last access, else creation. The capacity is the
    policy's `capacity_per_scope` (retention lives in the policy, stored with the store).
    """
    now = ensure_utc(now)
    active = [r for r in records if r.status is Status.ACTIVE]
    if held:
        return SweepPlan(now=now, to_expire=[], kept=len(active), held=True)
    expire: list[SweepItem] = []
    survivors: list[tuple[MemoryRecord, float]] = []
    for rec in active:
        s = strength(rec, now, cfg)
        item = None if rec.pinned else _reason(rec, now, s, cfg, policy)
        if item is None:
            survivors.append((rec, s))
        else:
            expire.append(item)
    cap = policy.capacity_per_scope
    if cap is not None:
        by_scope: dict[str, list[tuple[MemoryRecord, float]]] = {}
        for rec, s in survivors:
            by_scope.setdefault(rec.scope.key(), []).append((rec, s))
        survivors = []
        for group in by_scope.values():
            pinned = [(r, s) for r, s in group if r.pinned]
            others = sorted(
                ((r, s) for r, s in group if not r.pinned),
                key=lambda p: (-p[1], -p[0].importance, -anchor_time(p[0]).timestamp(), p[0].id),
            )
            room = max(0, cap - len(pinned))
            survivors.extend(pinned + others[:room])
            for rec, s in others[room:]:
                expire.append(
                    SweepItem(record_id=rec.id, reason="capacity", strength=s, detail=f"over {cap} per scope")
                )
    return SweepPlan(now=now, to_expire=expire, kept=len(survivors), held=False)
