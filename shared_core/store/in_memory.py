"""An in-memory `Store` for unit tests and ephemeral use (brute-force cosine search)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ..embed.base import Vectors
from ..errors import InvalidInput
from ..models import HistoryEntry, MemoryRecord, Scope
from .base import RecordFilter, require_readable, revision_key, revision_keys


class InMemoryStore:
    def __init__(self) -> None:
        self.dim: int | None = None
        self._records: dict[str, MemoryRecord] = {}
        self._vectors: dict[str, Vectors] = {}
        self._history: list[HistoryEntry] = []
        self._revisions: dict[str, str] = {}
        self._meta: dict[str, str] = {}
        self._lock = threading.RLock()

    def upsert(self, records: Sequence[MemoryRecord], vectors: Vectors | None, *, bump: bool = True) -> None:
        with self._lock:
            if vectors is not None:
                if len(vectors) != len(records):
                    raise InvalidInput("one vector per record is required")
                if self.dim is None and len(records):
                    self.dim = int(vectors.shape[1])
                if len(records) and vectors.shape[1] != self.dim:
                    raise InvalidInput(f"vector dimension {vectors.shape[1]} != store dimension {self.dim}")
            for i, rec in enumerate(records):
                if vectors is None and rec.id not in self._vectors:
                    raise InvalidInput(f"record {rec.id} has no stored vector; pass vectors")
                self._records[rec.id] = rec.model_copy(deep=True)
                if vectors is not None:
                    self._vectors[rec.id] = np.asarray(vectors[i], dtype=np.float32).copy()
            if bump:
                self.bump_revision(r.scope for r in records)

    def _visible(self, scope: Scope, flt: RecordFilter) -> list[MemoryRecord]:
        require_readable(scope)
        return [r for r in self._records.values() if scope.contains(r.scope) and flt.matches(r)]

    def owners(self, ids: Sequence[str]) -> dict[str, Scope]:
        with self._lock:
            return {i: self._records[i].scope for i in ids if i in self._records}

    def get(self, scope: Scope, ids: Sequence[str]) -> list[MemoryRecord]:
        require_readable(scope)
        with self._lock:
            out = []
            for i in ids:
                r = self._records.get(i)
                if r is not None and scope.contains(r.scope):
                    out.append(r.model_copy(deep=True))
            return out

    def query(
        self, scope: Scope, vector: Vectors, k: int, flt: RecordFilter
    ) -> list[tuple[MemoryRecord, float]]:
        with self._lock:
            recs = self._visible(scope, flt)
            if not recs:
                return []
            mat = np.stack([self._vectors[r.id] for r in recs])
            q = np.asarray(vector, dtype=np.float32).reshape(-1)
            dist = 1.0 - mat @ q
            order = np.argsort(dist, kind="stable")[:k]
            return [(recs[i].model_copy(deep=True), float(dist[i])) for i in order]

    def query_many(
        self, scope: Scope, vectors: Vectors, k: int, flt: RecordFilter
    ) -> list[list[tuple[MemoryRecord, float]]]:
        return [self.query(scope, v, k, flt) for v in vectors]

    def list_records(
        self, scope: Scope, flt: RecordFilter, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        with self._lock:
            recs = sorted(self._visible(scope, flt), key=lambda r: (r.created_at, r.id))
            end = None if limit is None else offset + limit
            return [r.model_copy(deep=True) for r in recs[offset:end]]

    def fetch(self, scope: Scope, ids: Sequence[str]) -> dict[str, tuple[MemoryRecord, Vectors]]:
        with self._lock:
            return {r.id: (r, self._vectors[r.id].copy()) for r in self.get(scope, ids)}

    def snapshot(self, scope: Scope, flt: RecordFilter) -> tuple[list[MemoryRecord], Vectors]:
        with self._lock:
            recs = sorted(self._visible(scope, flt), key=lambda r: r.created_at)  # ties: insertion order
            recs = [r.model_copy(deep=True) for r in recs]
            if not recs:
                return [], np.zeros((0, self.dim or 0), dtype=np.float32)
            return recs, np.stack([self._vectors[r.id] for r in recs])

    def delete(self, scope: Scope, ids: Sequence[str]) -> None:
        with self._lock:
            found = self.get(scope, ids)
            for r in found:
                self._records.pop(r.id, None)
                self._vectors.pop(r.id, None)
            if found:
                self.bump_revision(r.scope for r in found)

    def scopes(self, tenant: str) -> list[Scope]:
        with self._lock:
            found = {r.scope for r in self._records.values() if r.scope.tenant == tenant}
        return sorted(found, key=lambda s: s.key())

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        with self._lock:
            self._history.extend(e.model_copy(deep=True) for e in entries)

    def history(self, scope: Scope, record_id: str | None = None) -> list[HistoryEntry]:
        require_readable(scope)
        with self._lock:
            out = [
                e
                for e in self._history
                if scope.contains(e.scope) and (record_id is None or e.record_id == record_id)
            ]
            return sorted(out, key=lambda e: (e.at, e.version))

    def purge_scope_rows(self, scope: Scope) -> int:
        """Every record and history entry of `scope` (this store holds no unparseable rows)."""
        require_readable(scope)
        with self._lock:
            ids = [rid for rid, r in self._records.items() if scope.contains(r.scope)]
            for rid in ids:
                self._records.pop(rid, None)
                self._vectors.pop(rid, None)
            before = len(self._history)
            self._history = [e for e in self._history if not scope.contains(e.scope)]
            if ids:
                self.bump_revision([scope])
            return len(ids) + before - len(self._history)

    def delete_history(self, scope: Scope, record_ids: Sequence[str] | None = None) -> None:
        require_readable(scope)
        with self._lock:
            wanted = None if record_ids is None else set(record_ids)
            self._history = [
                e
                for e in self._history
                if not (scope.contains(e.scope) and (wanted is None or e.record_id in wanted))
            ]

    def history_since(self, since: datetime) -> list[HistoryEntry]:
        with self._lock:
            return [e for e in self._history if e.at >= since]

    def revision(self, scope: Scope) -> str:
        return self._revisions.get(revision_key(scope), "0")

    def bump_revision(self, scopes: Iterable[Scope]) -> None:
        with self._lock:
            for key in revision_keys(scopes):
                self._revisions[key] = uuid.uuid4().hex

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def raw_dump(self) -> dict[str, Any]:
        """Everything held, shaped like Chroma's `get` (documents and metadata), for erasure proofs:
        as in `ChromaStore`, a record's or history entry's text is in its JSON, its document empty."""
        with self._lock:
            recs = list(self._records.values())
            return {
                "records": {
                    "ids": [r.id for r in recs],
                    "documents": ["" for _ in recs],
                    "metadatas": [{**r.scope.model_dump(), "json": r.model_dump_json()} for r in recs],
                },
                "history": {
                    "ids": [e.id for e in self._history],
                    "documents": ["" for _ in self._history],
                    "metadatas": [
                        {**e.scope.model_dump(), "json": e.model_dump_json()} for e in self._history
                    ],
                },
                "meta": {
                    "ids": list(self._meta),
                    "documents": list(self._meta.values()),
                    "metadatas": [{} for _ in self._meta],
                },
            }

    def close(self) -> None:
        pass
