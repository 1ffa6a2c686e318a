"""`Governor.check`: whole-store checks for what crashes and old versions leave behind (orphans,
unaudited records, half-applied writes, rows that cannot be parsed, the audit chain, the database
file), each reported with how many were found and, with `repair`, repaired. One bad row never
stops it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from pydantic import BaseModel, ConfigDict

from .errors import AuditIntegrityError, InvalidInput
from .governance.access import Principal, authorize
from .models import HistoryEntry, Kind, MemoryRecord, Scope, Status
from .store import chroma_files

if TYPE_CHECKING:
    from .engine import Engine
    from .store.base import Store


class Governor(Protocol):
    """What the checks use of `governor.Governor` (a protocol: this module does not import it)."""

    engine: Engine
    store: Store

    def _audit(
        self,
        principal: Principal | None,
        action: str,
        scope: Scope | None,
        record_id: str | None,
        decision: str,
        reason: str,
        **payload: Any,
    ) -> None: ...


class CheckItem(BaseModel):
    """One kind of damage `Governor.check` looks for: how many it found, how many it repaired."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    found: int = 0
    repaired: int = 0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.found == self.repaired


class CheckReport(BaseModel):
    """`Governor.check`: orphans, unaudited records, half-applied writes, quarantined rows, the
    audit chain and the database file. `ok` when nothing is left unrepaired."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repair: bool
    items: list[CheckItem]

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)

    def item(self, name: str) -> CheckItem:
        return next(i for i in self.items if i.name == name)


def run_check(self: Governor, principal: Principal, repair: bool) -> CheckReport:
    """Find (and with `repair`, fix) what crashes and old versions leave behind; one bad row
    never stops it. Reading is an audited admin/auditor operation; repairing is admin only."""
    authorize(principal, "repair" if repair else "check", None)
    from .store.chroma import ChromaStore

    items: list[CheckItem] = []
    if not hasattr(self.store, "check_rows"):  # the engine's view of the store (see Engine.store)
        raise InvalidInput("check works on a Chroma store")
    store = cast(ChromaStore, self.store)
    if store.path is not None:
        verdict = chroma_files.integrity(store.path)
        items.append(CheckItem(name="database", found=int(verdict != "ok"), detail=verdict))
    records, history, bad = store.check_rows()
    moved = store.quarantine_rows(sorted(bad)) if repair else 0
    items.append(
        CheckItem(name="quarantined", found=len(bad), repaired=moved, detail=", ".join(sorted(bad)[:5]))
    )
    items.append(_check_half_applied(self, records, history, repair))
    items.append(_check_orphans(self, records, history, repair))
    items.append(_check_unaudited(self, records, repair))
    if self.engine.audit is not None:
        rep = self.engine.audit.verify()
        items.append(
            CheckItem(name="audit_chain", found=int(not rep.ok), detail=rep.detail or f"{rep.count} events")
        )
    self._audit(
        principal,
        "check",
        None,
        None,
        "repair" if repair else "report",
        "store check",
        **{i.name: i.found for i in items},
    )
    return CheckReport(repair=repair, items=items)


def _check_half_applied(
    self: Governor, records: list[MemoryRecord], history: list[HistoryEntry], repair: bool
) -> CheckItem:
    versions = {r.id: r.version for r in records}
    newest: dict[str, HistoryEntry] = {}
    for e in history:
        if e.snapshot is not None and (e.record_id not in newest or e.version >= newest[e.record_id].version):
            newest[e.record_id] = e
    tombs = {e.record_id for e in history if e.op == "delete"}
    half = [e for rid, e in newest.items() if rid not in tombs and versions.get(rid, -1) < e.version]
    fixed = 0
    if repair and half:
        since = min(e.at for e in half)
        fixed = min(len(half), self.engine.repair(since))  # TODO(core): repair must respect tombstones
    return CheckItem(
        name="half_applied",
        found=len(half),
        repaired=fixed,
        detail="history snapshots newer than their record",
    )


def _check_orphans(
    self: Governor, records: list[MemoryRecord], history: list[HistoryEntry], repair: bool
) -> CheckItem:
    """An extracted memory whose source turn was never stored (nor deleted later): with
    `repair` it waits for review instead of being injected on evidence nobody can see."""
    from .engine import episode_id

    have = {r.id for r in records} | {e.record_id for e in history if e.op == "delete"}
    orphans = [
        r
        for r in records
        if r.kind is not Kind.EPISODE
        and r.status is Status.ACTIVE
        and r.provenance.extractor != "manual"
        and r.provenance.source_message_ids
        and not any(
            episode_id(r.scope, r.provenance.session_id, m) in have for m in r.provenance.source_message_ids
        )
    ]
    fixed = 0
    if repair:
        for r in orphans:
            self.engine.update(
                r.id,
                r.scope,
                status=Status.PENDING_REVIEW,
                actor="system:check",
                reason="source turn missing",
                op="review",
            )
            fixed += 1
    return CheckItem(
        name="orphans",
        found=len(orphans),
        repaired=fixed,
        detail="extracted memories whose source turn is missing",
    )


def _check_unaudited(self: Governor, records: list[MemoryRecord], repair: bool) -> CheckItem:
    if self.engine.audit is None:
        return CheckItem(name="unaudited", detail="no audit log configured")
    try:
        audited = {e.record_id for e in self.engine.audit.events() if e.record_id}
    except AuditIntegrityError as exc:  # reported by the audit_chain item
        return CheckItem(name="unaudited", detail=f"not checked: {exc}")
    missing = [r for r in records if r.id not in audited]
    if repair and missing:
        from .engine import AuditItem

        actor = "system:check"
        items = [
            AuditItem.of("write", r, "repair", "audit entry added by check --repair", actor) for r in missing
        ]
        self.engine.audit_events(items, actor)
    return CheckItem(
        name="unaudited",
        found=len(missing),
        repaired=len(missing) if repair else 0,
        detail="records without an audit event",
    )
