"""Read your writes: what this process has journaled but the store does not hold yet.

Every read of the engine (get, list, history, the search index build) merges these pending
changes over what the store returns, so a write is visible to its own process the moment it
is acknowledged. Entries leave once the applier has written them to the store.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..embed.base import Vectors
from ..models import HistoryEntry, MemoryRecord, Scope
from ..store.base import RecordFilter
from .changes import ChangeSet


class Pending:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[int, ChangeSet] = {}
        self._records: dict[str, tuple[int, MemoryRecord, Vectors | None]] = {}
        self._deleted: dict[str, tuple[int, Scope]] = {}
        self._history: list[tuple[int, HistoryEntry]] = []

    def __bool__(self) -> bool:
        return bool(self._changes)

    def add(self, seq: int, change: ChangeSet) -> None:
        with self._lock:
            self._changes[seq] = change
            for rec, vec in zip(change.records, change.vectors):
                prev = self._records.get(rec.id)
                if prev is not None and prev[0] > seq:
                    continue
                dead = self._deleted.get(rec.id)
                if dead is not None and dead[0] > seq:
                    continue
                if vec is None and prev is not None and not change.embed:  # embed: its vector is to come
                    vec = prev[2]
                self._records[rec.id] = (seq, rec, vec)
                self._deleted.pop(rec.id, None)
            for d in change.deletions:
                for rid in d.record_ids:
                    prev = self._records.get(rid)
                    if prev is not None and prev[0] > seq:
                        continue
                    self._records.pop(rid, None)
                    self._deleted[rid] = (seq, d.scope)
                if d.purge_history:
                    gone = set(d.record_ids)
                    self._history = [(s, h) for s, h in self._history if h.record_id not in gone]
            self._history.extend((seq, h) for h in change.history)

    def vectors_came(self, seq: int, change: ChangeSet) -> None:
        """The raw turns of change `seq`, registered without vectors, have them now."""
        with self._lock:
            for rec, vec in zip(change.records, change.vectors):
                cur = self._records.get(rec.id)
                if cur is not None and cur[0] == seq and cur[2] is None:
                    self._records[rec.id] = (seq, cur[1], vec)

    def changes(self, after: int, limit: int) -> list[tuple[int, ChangeSet]]:
        """Contiguous changes from `after + 1` (a gap means a writer has not registered yet)."""
        out: list[tuple[int, ChangeSet]] = []
        with self._lock:
            seq = after + 1
            while seq in self._changes and len(out) < limit:
                out.append((seq, self._changes[seq]))
                seq += 1
        return out

    def applied(self, upto: int) -> None:
        with self._lock:
            for seq in [s for s in self._changes if s <= upto]:
                del self._changes[seq]
            self._records = {k: v for k, v in self._records.items() if v[0] > upto}
            self._deleted = {k: v for k, v in self._deleted.items() if v[0] > upto}
            self._history = [(s, h) for s, h in self._history if s > upto]

    def highest(self) -> int:
        with self._lock:
            return max(self._changes, default=0)

    # -- reads ------------------------------------------------------------------------------
    def lookup(self, ids: Sequence[str]) -> dict[str, MemoryRecord | None]:
        """Pending state of these ids: a record, None (deleted), or absent (ask the store)."""
        out: dict[str, MemoryRecord | None] = {}
        with self._lock:
            for i in ids:
                if i in self._records:
                    out[i] = self._records[i][1]
                elif i in self._deleted:
                    out[i] = None
        return out

    def in_scope(self, scope: Scope) -> tuple[list[tuple[MemoryRecord, Vectors | None]], set[str]]:
        """Pending records of a read scope (latest versions, with vectors when known) and ids
        deleted there."""
        with self._lock:
            recs = [(r, v) for _, r, v in self._records.values() if scope.contains(r.scope)]
            gone = {rid for rid, (_, s) in self._deleted.items() if scope.contains(s) or s.contains(scope)}
        return recs, gone

    def touches(self, scope: Scope) -> bool:
        with self._lock:
            return any(scope.contains(r.scope) for _, r, _ in self._records.values()) or bool(self._deleted)

    def history(self, scope: Scope, record_id: str | None) -> list[HistoryEntry]:
        with self._lock:
            return [
                h
                for _, h in self._history
                if scope.contains(h.scope) and (record_id is None or h.record_id == record_id)
            ]

    def merge_list(
        self, stored: Sequence[MemoryRecord], scope: Scope, flt: RecordFilter
    ) -> list[MemoryRecord]:
        recs, gone = self.in_scope(scope)
        by_id = {r.id: r for r in stored if r.id not in gone}
        for r, _ in recs:
            by_id.pop(r.id, None)
            if flt.matches(r):
                by_id[r.id] = r
        return sorted(by_id.values(), key=lambda r: (r.created_at, r.id))
