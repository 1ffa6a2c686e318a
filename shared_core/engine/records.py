"""Reads of records and history, with this process's pending writes merged over the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import validate
from ..errors import NotFound
from ..models import HistoryEntry, MemoryRecord, Scope
from ..store.base import ALL_STATUSES, RecordFilter
from .base import SYSTEM, EngineBase


class RecordsMixin(EngineBase):
    def get(self, record_id: str, scope: Any) -> MemoryRecord:
        """One record by id: O(1) (pending overlay, then one keyed store read)."""
        sc = validate.scope(scope)
        rid = validate.identifier(record_id, "record_id")
        found = self.get_many(sc, [rid])
        if not found:
            raise NotFound(f"no memory {rid!r} in this scope")
        return found[0]

    def get_many(self, sc: Scope, ids: Sequence[str]) -> list[MemoryRecord]:
        pending = self._seam.pending.lookup(ids) if self._seam.pending else {}
        ask = [i for i in ids if i not in pending]
        stored = {r.id: r for r in self._store.get(sc, ask)} if ask else {}
        out = []
        for i in dict.fromkeys(ids):
            r = pending[i] if i in pending else stored.get(i)
            if r is not None and sc.contains(r.scope):
                out.append(r)
        return out

    def list_records(
        self, scope: Any, flt: RecordFilter | None = None, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        """Records oldest first; every filter (kind, status, time, metadata) applies before
        `offset` and `limit`."""
        sc = validate.scope(scope)
        flt = flt or RecordFilter()
        limit = validate.limit(limit)
        offset = validate.offset(offset)
        overlay = bool(self._seam.pending) and self._seam.pending.touches(sc)
        if not overlay and not flt.metadata:
            return list(self._store.list_records(sc, flt, limit, offset))
        recs = self._store.list_records(sc, flt.without_metadata())
        if overlay:
            recs = self._seam.pending.merge_list(recs, sc, flt.without_metadata())
        if flt.metadata:
            recs = [r for r in recs if flt.metadata_matches(r)]
        end = None if limit is None else offset + limit
        return recs[offset:end]

    def history_of_scope(self, sc: Scope, record_id: str | None = None) -> list[HistoryEntry]:
        entries = list(self._store.history(sc, record_id))
        if self._seam.pending:
            have = {e.id for e in entries}
            entries += [e for e in self._seam.pending.history(sc, record_id) if e.id not in have]
        return sorted(entries, key=lambda e: (e.at, e.version))

    def history(self, record_id: str, scope: Any) -> list[HistoryEntry]:
        sc = validate.scope(scope)
        rid = validate.identifier(record_id, "record_id")
        entries = self.history_of_scope(sc, rid)
        if not entries:
            found = self.get_many(sc, [rid])
            if not found:
                raise NotFound(f"no memory {rid!r} in this scope")
            # a raw turn never changed since it was written: the record is its own first snapshot
            entries = [self._first_entry(found[0])]
        return entries

    def _first_entry(self, rec: MemoryRecord) -> HistoryEntry:
        return HistoryEntry(
            record_id=rec.id,
            scope=rec.scope,
            version=rec.version,
            op="add",
            at=rec.created_at,
            actor=SYSTEM,
            reason="raw turn",
            snapshot=rec,
        )

    def export_records(self, scope: Any) -> dict[str, list[dict[str, Any]]]:
        """Every record of a scope (any status) with its history, JSON-ready: `import_records` input."""
        sc = validate.scope(scope)
        records = self.list_records(sc, ALL_STATUSES)
        history = self.history_of_scope(sc)
        return {
            "records": [r.model_dump(mode="json") for r in records],
            "history": [e.model_dump(mode="json") for e in history],
        }
