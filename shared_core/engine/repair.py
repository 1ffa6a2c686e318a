"""Repair on open: finish what a crash interrupted, never undo a deletion, never stop on one bad row.

The journal replay (`Seam.recover`) finishes this process's and dead processes' acknowledged
writes. `repair` also covers stores written without a journal (or by an older version): a
history snapshot newer than its record is re-applied, through the seam, unless the record's
latest history entry is a tombstone (a deleted record stays deleted). Rows that cannot be read
are quarantined (reported, skipped), so a damaged row never blocks `Memory.open`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..errors import MemoError
from ..models import HistoryEntry
from .changes import AuditItem, ChangeSet, Deletion
from .write import WriteMixin


class RepairReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replayed: int = 0  # journaled changes applied at open
    requeued_jobs: int = 0
    restored: int = 0  # records re-applied from their newest snapshot
    tombstones_enforced: int = 0  # deleted records found in the store again, removed
    quarantined: list[str] = Field(default_factory=list)  # what could not be read, and why


class RepairMixin(WriteMixin):
    def repair(self, since: datetime) -> int:
        return self.repair_report(since).restored

    def repair_report(self, since: datetime) -> RepairReport:
        report = RepairReport()
        try:
            entries = self._store.history_since(since)
        except (MemoError, ValueError) as exc:  # one damaged history row: report, do not block open
            report.quarantined.append(f"history since {since.isoformat()}: {exc}"[:500])
            return report
        latest: dict[str, HistoryEntry] = {}
        for e in entries:
            if e.record_id not in latest or e.version >= latest[e.record_id].version:
                latest[e.record_id] = e
        change = ChangeSet(actor="repair")
        restore: list[HistoryEntry] = []
        for e in latest.values():
            scope = e.scope if e.scope.is_readable() else (e.snapshot.scope if e.snapshot else e.scope)
            if not scope.is_readable():
                continue
            try:
                have = self._store.get(scope, [e.record_id])
            except (MemoError, ValueError) as exc:
                report.quarantined.append(f"record {e.record_id}: {exc}"[:500])
                continue
            if e.op == "delete" or e.snapshot is None:  # a tombstone: deletion is never undone
                if have:
                    change.deletions.append(Deletion(scope=scope, record_ids=[e.record_id]))
                    change.audit.append(
                        AuditItem.of("repair", have[0], "delete", "tombstone enforced", "repair")
                    )
                    report.tombstones_enforced += 1
                continue
            if have and have[0].version >= e.version:
                continue
            restore.append(e)
        if restore:
            vecs = self._embed([e.snapshot.index_text() for e in restore if e.snapshot is not None])
            for e, v in zip(restore, vecs):
                assert e.snapshot is not None
                change.add(
                    e.snapshot,
                    v,
                    audit=AuditItem.of(
                        "repair", e.snapshot, "restore", "interrupted write finished", "repair"
                    ),
                )
            report.restored = len(restore)
        if not change.is_empty():
            self._seam.commit(change)
        return report
