"""Reads for people: role-checked, audited views of a store (the CLI and `memo ui` use them).

`Inspector(memory, principal)` answers what a reviewer, an auditor, a support engineer or a
data-protection officer asks: which scopes exist, what a user's memories are (a filterable
timeline), one memory with its provenance, history, decay strength and expiry, a search as the
agent sees it (score components and the exact context block), the review queue of a tenant,
the sweep plan with texts, and the audit log with its chain status.

Every method checks the role table (`governance.access`) before reading, and every read of
memory content writes an audit event (who, which scope, what, how many). An auditor never
sees memory content: only counts, the audit log and erasure reports. Governance actions
(review, sweep, erasure, audit export) go through `Governor`; nothing here writes memories.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from . import validate
from .clock import ensure_utc
from .decay import DEFAULT_HALF_LIFE_DAYS, SweepItem, anchor_time, strength
from .errors import InvalidInput, NotFound, PermissionDenied
from .governance.access import Operation, Principal, Role, allowed_operations, authorize, is_allowed
from .governance.audit import AuditEvent, AuditReport
from .governor import ErasureReport
from .models import HistoryEntry, Hit, Kind, MemoryRecord, Scope, Status
from .render import Context
from .store.base import ALL_STATUSES, RecordFilter

if TYPE_CHECKING:
    from .memory import Memory

__all__ = [
    "AuditView",
    "Inspector",
    "MemoryDetail",
    "ScopeCount",
    "SearchView",
    "StoreStats",
    "SweepRow",
    "SweepView",
    "parse_principal",
]

_DAY = 86_400.0


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScopeCount(_Model):
    """One exact scope and how many records it holds (no content)."""

    scope: Scope
    records: int
    by_status: dict[str, int] = Field(default_factory=dict)
    by_kind: dict[str, int] = Field(default_factory=dict)


class Expiry(_Model):
    """When (and why) a memory would stop being active, if nothing changes."""

    reason: str
    at: datetime | None
    detail: str = ""


class MemoryDetail(_Model):
    record: MemoryRecord
    history: list[HistoryEntry]
    strength: float
    anchor: datetime
    half_life_days: float
    expiry: list[Expiry]
    supersedes: list[MemoryRecord]
    superseded_by: MemoryRecord | None


class SearchView(_Model):
    """A search as the agent sees it: ranked hits with score components, and the context block."""

    query: str
    scope: Scope
    hits: list[Hit]
    context: Context
    in_context: list[str]


class SweepRow(_Model):
    record_id: str
    scope: Scope
    kind: str
    text: str
    reason: str
    strength: float
    detail: str


class SweepView(_Model):
    now: datetime
    applied: bool
    rows: list[SweepRow]
    kept: int
    held_scopes: list[Scope]


class AuditView(_Model):
    report: AuditReport
    events: list[AuditEvent]
    total: int


class StoreStats(_Model):
    """Aggregates for charts: counts only, never content."""

    tenant: str
    records: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    per_day: dict[str, dict[str, int]]  # ISO day -> kind -> records created that day
    pending_by_scope: dict[str, int]
    pending_ages_days: list[float]
    history_entries: int
    audit_events: int
    disk_bytes: int | None


def parse_principal(spec: str, tenant: str | None = None) -> Principal:
    """`ROLE:NAME[@TENANT]` -> a Principal.

    A subject is bound to its own user scope (`user=NAME`), an agent to its agent scope
    (`agent=NAME`); a reviewer, auditor or admin is bound to `@TENANT` when given, otherwise
    to the whole deployment. `tenant` is the tenant a subject or agent binds to by default.
    """
    role_s, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise InvalidInput(f"a principal is ROLE:NAME[@TENANT], got {spec!r}")
    try:
        role = Role(role_s.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {role_s!r} (one of {roles})") from None
    name, _, bound_tenant = rest.partition("@")
    name = validate.identifier(name, "principal name")
    t = bound_tenant or tenant or "default"
    scope: Scope | None
    if role is Role.SUBJECT:
        scope = Scope(tenant=t, user=name)
    elif role is Role.AGENT:
        scope = Scope(tenant=t, agent=name)
    else:
        scope = Scope(tenant=bound_tenant) if bound_tenant else None
    return Principal(id=name, role=role, scope=scope)


def principal_label(p: Principal) -> str:
    bound = f"@{p.scope.tenant}" if p.scope is not None else ""
    return f"{p.role.value}:{p.id}{bound}"


def _may_read_content(p: Principal) -> bool:
    ops = allowed_operations(p.role)
    return Operation.READ_MEMORY in ops or Operation.READ_PENDING in ops


class Inspector:
    """Role-checked, audited reads of one `Memory` for one `Principal`."""

    def __init__(self, memory: Memory, principal: Principal, *, path: str | os.PathLike[str] | None = None):
        self.memory = memory
        self.principal = principal
        self.path = path

    # ----------------------------------------------------------------------------- plumbing
    @property
    def role(self) -> Role:
        return self.principal.role

    def can(self, operation: Operation | str, scope: Scope | None) -> bool:
        return is_allowed(self.principal, operation, scope)

    @property
    def sees_content(self) -> bool:
        """Whether this role may ever see memory text (an auditor never does)."""
        return _may_read_content(self.principal)

    def _log_read(self, scope: Scope | None, what: str, count: int, record_id: str | None = None) -> None:
        """Every read of memory content by a person is an audit event: who, which scope, what, how many."""
        audit = self.memory.engine.audit
        if audit is None:
            return
        audit.append(
            actor=self.principal.id,
            action="read",
            scope=scope,
            record_id=record_id,
            decision=what,
            reason=f"{self.role.value} read",
            payload={"count": count, "role": self.role.value},
        )

    def _read_op(self, scope: Scope, pending_only_ok: bool = True) -> Operation:
        """read_memory when the role has it, else read_pending (reviewers); raises otherwise."""
        if self.can(Operation.READ_MEMORY, scope):
            return Operation.READ_MEMORY
        if pending_only_ok and self.can(Operation.READ_PENDING, scope):
            return Operation.READ_PENDING
        authorize(self.principal, Operation.READ_MEMORY, scope)  # raises with the role table's reason
        raise PermissionDenied("denied")  # pragma: no cover

    def _now(self) -> datetime:
        return self.memory.clock.now()

    # ------------------------------------------------------------------------------- scopes
    def tenants(self) -> list[str]:
        """Tenants this principal may look at (bound principals: their own)."""
        if self.principal.scope is not None:
            return [self.principal.scope.tenant]
        found: set[str] = set()
        lister = getattr(self.memory.store, "tenants", None)
        if callable(lister):
            found.update(lister())
        else:  # every write is audited with its scope: the log names every tenant that holds data
            audit = self.memory.engine.audit
            if audit is not None:
                found.update(e.scope.tenant for e in audit.events() if e.scope is not None)
        return sorted(found) or ["default"]

    def groups(self, tenant: str) -> list[Scope]:
        """The readable scopes of a tenant this principal may see: one per user, plus user-less scopes."""
        t = validate.identifier(tenant, "tenant")
        bound = self.principal.scope
        if bound is not None and bound.is_readable():
            return [bound] if bound.tenant == t else []
        if bound is not None and bound.tenant != t:
            return []
        scopes = self.memory.scopes(t)
        users = sorted({s.user for s in scopes if s.user is not None})
        return [Scope(tenant=t, user=u) for u in users] + [s for s in scopes if s.user is None]

    def scopes(self, tenant: str) -> list[ScopeCount]:
        """Every exact scope (tenant, user, agent, session) of a tenant with record counts."""
        out: list[ScopeCount] = []
        for g in self.groups(tenant):
            recs = self.memory.store.list_records(g, ALL_STATUSES)
            by_scope: dict[Scope, list[MemoryRecord]] = {}
            for r in recs:
                by_scope.setdefault(r.scope, []).append(r)
            for sc, rs in sorted(by_scope.items(), key=lambda kv: kv[0].key()):
                out.append(
                    ScopeCount(
                        scope=sc,
                        records=len(rs),
                        by_status=dict(Counter(r.status.value for r in rs)),
                        by_kind=dict(Counter(r.kind.value for r in rs)),
                    )
                )
        return out

    # ------------------------------------------------------------------------------ reading
    def timeline(
        self,
        scope: Any,
        *,
        kinds: Sequence[Kind | str] | None = None,
        statuses: Sequence[Status | str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        text: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[MemoryRecord]:
        """A scope's memories, newest first by event time, filtered by kind, status, time and text.

        A reviewer sees only pending memories. Default statuses: every status."""
        sc = validate.scope(scope)
        op = self._read_op(sc)
        try:
            kind_set = frozenset(Kind(k) for k in kinds) if kinds else None
            status_set = frozenset(Status(s) for s in statuses) if statuses else None
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        if op is Operation.READ_PENDING:
            status_set = frozenset({Status.PENDING_REVIEW}) & (status_set or frozenset(Status))
        if limit is not None and (limit < 0 or offset < 0):
            raise InvalidInput("limit and offset must not be negative")
        flt = RecordFilter(
            kinds=kind_set,
            statuses=status_set,
            since=ensure_utc(since) if since else None,
            until=ensure_utc(until) if until else None,
        )
        recs = self.memory.engine.list_records(sc, flt)
        if text:
            needle = text.casefold()
            recs = [r for r in recs if needle in r.index_text().casefold()]
        recs.sort(key=lambda r: (r.event_time, r.created_at), reverse=True)
        recs = recs[offset : None if limit is None else offset + limit]
        self._log_read(sc, "timeline", len(recs))
        return recs

    def resolve_id(self, record_id: str, scope: Any, operation: Operation | str | None = None) -> str:
        """A full id, or a unique prefix of one, in the scope. Ambiguous: InvalidInput; none: NotFound."""
        sc = validate.scope(scope)
        if operation is None:
            self._read_op(sc)
        else:
            authorize(self.principal, operation, sc)
        rid = validate.identifier(record_id, "record id")
        if self.memory.store.get(sc, [rid]):
            return rid
        matches = sorted(
            {r.id for r in self.memory.store.list_records(sc, ALL_STATUSES) if r.id.startswith(rid)}
        )
        if not matches:
            raise NotFound(f"no memory {rid!r} in this scope")
        if len(matches) > 1:
            raise InvalidInput(f"id prefix {rid!r} is ambiguous: {', '.join(m[:16] for m in matches[:5])}")
        return matches[0]

    def show(self, record_id: str, scope: Any) -> MemoryDetail:
        """One memory: provenance, history, what it superseded and what superseded it, decay, expiry."""
        sc = validate.scope(scope)
        op = self._read_op(sc)
        rid = self.resolve_id(record_id, sc)
        rec = self.memory.engine.get(rid, sc)
        if op is Operation.READ_PENDING and rec.status is not Status.PENDING_REVIEW:
            raise PermissionDenied(f"role {self.role.value!r} may read pending memories only")
        hist = self.memory.engine.history(rid, sc)
        link_ids = [*rec.supersedes, *([rec.superseded_by] if rec.superseded_by else [])]
        linked = {r.id: r for r in self.memory.store.get(sc, link_ids)} if link_ids else {}
        now = self._now()
        cfg = self.memory.config
        detail = MemoryDetail(
            record=rec,
            history=hist,
            strength=strength(rec, now, cfg.decay),
            anchor=anchor_time(rec),
            half_life_days=self._half_life(rec),
            expiry=self._expiry(rec),
            supersedes=[linked[i] for i in rec.supersedes if i in linked],
            superseded_by=linked.get(rec.superseded_by) if rec.superseded_by else None,
        )
        self._log_read(sc, "show", 1, record_id=rid)
        return detail

    def _half_life(self, rec: MemoryRecord) -> float:
        cfg = self.memory.config.decay
        return cfg.half_life_days.get(rec.kind, DEFAULT_HALF_LIFE_DAYS) * (0.5 + rec.importance)

    def _expiry(self, rec: MemoryRecord) -> list[Expiry]:
        """Every rule that would expire this memory and when (earliest first)."""
        if rec.pinned:
            return [Expiry(reason="pinned", at=None, detail="pinned memories never expire")]
        cfg, policy = self.memory.config.decay, self.policy_object()
        out: list[Expiry] = []
        if rec.expires_at is not None:
            out.append(Expiry(reason="expires_at", at=rec.expires_at, detail="set on the memory"))
        ttl = policy.ttl_days.get(rec.kind)
        if ttl is not None:
            out.append(Expiry(reason="ttl", at=rec.created_at + timedelta(days=ttl), detail=f"{ttl:g} days"))
        idle = policy.inactivity_days.get(rec.kind)
        if idle is not None:
            since = rec.last_accessed_at or rec.created_at
            out.append(
                Expiry(reason="inactive", at=since + timedelta(days=idle), detail=f"unused {idle:g} days")
            )
        hl = self._half_life(rec)
        if 0 < cfg.forget_below < 1 and hl > 0:
            days = hl * math.log2(1 / cfg.forget_below) + rec.access_count * cfg.access_boost_days
            out.append(
                Expiry(
                    reason="weak",
                    at=anchor_time(rec) + timedelta(days=days),
                    detail=f"strength falls below {cfg.forget_below:g}",
                )
            )
        return sorted(out, key=lambda e: e.at or datetime.max.replace(tzinfo=rec.created_at.tzinfo))

    def decay_curve(self, rec: MemoryRecord, days: int = 365, points: int = 60) -> list[tuple[float, float]]:
        """(days from now, strength) if the memory is not used again (for charts; no content)."""
        now = self._now()
        step = max(days / max(points - 1, 1), 1e-9)
        cfg = self.memory.config.decay
        return [(i * step, strength(rec, now + timedelta(days=i * step), cfg)) for i in range(points)]

    def kind_curves(self, days: int = 365, points: int = 60) -> dict[str, list[tuple[float, float]]]:
        """Decay of a fresh memory of each kind at importance 0.5 (configuration only)."""
        cfg = self.memory.config.decay
        out: dict[str, list[tuple[float, float]]] = {}
        step = days / max(points - 1, 1)
        for k in Kind:
            hl = cfg.half_life_days.get(k, DEFAULT_HALF_LIFE_DAYS)
            out[k.value] = [(i * step, 0.5 ** (i * step / hl) if hl > 0 else 0.0) for i in range(points)]
        return out

    def search(self, query: str, scope: Any, *, k: int = 10, token_budget: int = 512) -> SearchView:
        """What the agent would get: ranked hits with why (dense, lexical, recency...), and the exact
        context block `Memory.context` injects within `token_budget` tokens."""
        sc = validate.scope(scope)
        budget = validate.token_budget(token_budget)  # 0 is an error here, not "the default"
        authorize(self.principal, Operation.SEARCH, sc)
        hits = self.memory.search(query, sc, k=k)
        ctx = self.memory.context(query, sc, token_budget=budget)
        view = SearchView(
            query=query, scope=sc, hits=hits, context=ctx, in_context=[h.record.id for h in ctx.hits]
        )
        self._log_read(sc, "search", len(hits) + len(ctx.hits))
        return view

    # ------------------------------------------------------------------------- governance
    def review_queue(self, tenant: str, user: str | None = None) -> list[MemoryRecord]:
        """Pending memories across a tenant (or one user), oldest first; the governor audits each read."""
        authorize_any = [g for g in self.groups(tenant) if user is None or g.user == user]
        if not authorize_any:
            authorize(self.principal, Operation.REVIEW, Scope(tenant=tenant, user=user))
        out: list[MemoryRecord] = []
        for g in authorize_any:
            out.extend(self.memory.governor.review_queue(self.principal, g))
        return sorted(out, key=lambda r: r.created_at)

    def decide(
        self, action: str, record_id: str, scope: Any, *, reason: str = "", text: str | None = None
    ) -> MemoryRecord:
        """approve / reject / edit one pending memory through the governor."""
        sc = validate.scope(scope)
        rid = self.resolve_id(record_id, sc, Operation.REVIEW)
        gov = self.memory.governor
        if action == "approve":
            return gov.approve(self.principal, rid, sc, reason=reason or "approved")
        if action == "reject":
            return gov.reject(self.principal, rid, sc, reason=reason or "rejected")
        if action == "edit":
            if not text:
                raise InvalidInput("edit needs the corrected text")
            return gov.edit(self.principal, rid, sc, text, reason=reason or "edited")
        raise InvalidInput(f"unknown review action {action!r} (approve, reject, edit)")

    def policy_object(self) -> Any:
        """The retention/governance policy in force (the store's, when the store keeps one)."""
        getter = getattr(self.memory, "policy", None)
        if callable(getter):
            try:
                return getter()
            except TypeError:
                pass
        return self.memory.config.policy

    def policy(self) -> dict[str, Any]:
        """The policy in force and the decay settings, JSON-ready (no content)."""
        pol = self.policy_object()
        data = pol.model_dump(mode="json") if hasattr(pol, "model_dump") else dict(pol)
        data.pop("hash_key", None)  # a secret, not a setting people need to read
        return {"policy": data, "decay": self.memory.config.decay.model_dump(mode="json")}

    def sweep(self, tenant: str, *, user: str | None = None, apply: bool = False) -> SweepView:
        """The sweep plan of a tenant (or one user), with each memory's text; `apply=True` expires them."""
        groups = [g for g in self.groups(tenant) if user is None or g.user == user]
        if not groups:
            authorize(self.principal, Operation.SWEEP, Scope(tenant=tenant, user=user))
        for g in groups:
            authorize(self.principal, Operation.SWEEP, g)
        rows: list[SweepRow] = []
        held: list[Scope] = []
        kept = 0
        now = self._now()
        for g in groups:
            plan = self.memory.governor.sweep(self.principal, g, apply=apply)
            now = plan.now
            kept += plan.kept
            if plan.held:
                held.append(g)
            rows.extend(self._sweep_rows(g, plan.to_expire))
        if rows:
            self._log_read(None if len(groups) != 1 else groups[0], "sweep_plan", len(rows))
        return SweepView(now=now, applied=apply, rows=rows, kept=kept, held_scopes=held)

    def _sweep_rows(self, sc: Scope, items: Iterable[SweepItem]) -> list[SweepRow]:
        items = list(items)
        if not items:
            return []
        recs = {r.id: r for r in self.memory.store.get(sc, [i.record_id for i in items])}
        rows = []
        for i in items:
            r = recs.get(i.record_id)
            rows.append(
                SweepRow(
                    record_id=i.record_id,
                    scope=r.scope if r else sc,
                    kind=r.kind.value if r else "",
                    text=r.index_text() if r else "",
                    reason=i.reason,
                    strength=i.strength,
                    detail=i.detail,
                )
            )
        return rows

    def erase(self, scope: Any) -> ErasureReport:
        """Erase a user (or any scope) through the governor; returns the verification report."""
        return self.memory.governor.forget_user(self.principal, validate.scope(scope))

    def verify_erasure(
        self, scope: Any, samples: Sequence[str] = (), data_dir: str | os.PathLike[str] | None = None
    ) -> ErasureReport:
        """`Governor.verify_erasure`; `data_dir`: also scan a server's directory (on its host)."""
        return self.memory.governor.verify_erasure(
            self.principal, validate.scope(scope), samples=samples, data_dir=data_dir
        )

    # ------------------------------------------------------------------------------ audit
    def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        tenant: str | None = None,
        user: str | None = None,
        record_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 500,
    ) -> AuditView:
        """The audit log (newest first), filtered, with the whole chain's verification."""
        report: AuditReport = self.memory.governor.audit_verify(self.principal)
        audit = self.memory.engine.audit
        events = audit.events() if audit is not None else []
        total = len(events)

        def keep(e: AuditEvent) -> bool:
            sc = e.scope
            return (
                (not actor or e.actor == actor)
                and (not action or e.action == action)
                and (not tenant or (sc is not None and sc.tenant == tenant))
                and (not user or (sc is not None and sc.user == user))
                and (not record_id or (e.record_id or "").startswith(record_id))
                and (since is None or e.at >= ensure_utc(since))
                and (until is None or e.at <= ensure_utc(until))
            )

        chosen = [e for e in reversed(events) if keep(e)]
        if limit is not None:
            chosen = chosen[:limit]
        return AuditView(report=report, events=chosen, total=total)

    def audit_export(self) -> list[dict[str, Any]]:
        return self.memory.governor.audit_export(self.principal)

    # ------------------------------------------------------------------------------ stats
    def stats(self, tenant: str) -> StoreStats:
        """Counts for charts (records per kind and day, review backlog, sizes). No content."""
        groups = self.groups(tenant)
        recs: list[MemoryRecord] = []
        for g in groups:
            recs.extend(self.memory.store.list_records(g, ALL_STATUSES))
        per_day: dict[str, Counter[str]] = {}
        for r in recs:
            per_day.setdefault(r.created_at.date().isoformat(), Counter())[r.kind.value] += 1
        now = self._now()
        pending = [r for r in recs if r.status is Status.PENDING_REVIEW]
        pend_scope = Counter(r.scope.user or r.scope.agent or r.scope.session or "-" for r in pending)
        history = sum(len(self.memory.store.history(g)) for g in groups)
        audit = self.memory.engine.audit
        return StoreStats(
            tenant=tenant,
            records=len(recs),
            by_status=dict(Counter(r.status.value for r in recs)),
            by_kind=dict(Counter(r.kind.value for r in recs)),
            per_day={d: dict(c) for d, c in sorted(per_day.items())},
            pending_by_scope=dict(pend_scope),
            pending_ages_days=[(now - r.created_at).total_seconds() / _DAY for r in pending],
            history_entries=history,
            audit_events=len(audit.events()) if audit is not None else 0,
            disk_bytes=_dir_size(self.path) if self.path else None,
        )


def _dir_size(path: str | os.PathLike[str]) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total
