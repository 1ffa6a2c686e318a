"""The Chroma store: embedded (`PersistentClient`) or a server (`HttpClient`).

Chroma's gotchas stay in here: `add` silently ignores an existing id (we only `upsert`),
empty metadata is rejected, collection names need 3+ characters, upsert merges metadata
(we always write every key), distances can be slightly negative (the scorer clamps).
We never use Chroma's embedding functions (its default downloads a model): vectors are
always passed in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from .._boundary import translate
from ..clock import ensure_utc, to_ts
from ..embed.base import Vectors
from ..errors import ConfigError, InvalidInput, StoreCorrupted
from ..models import HistoryEntry, MemoryRecord, Scope
from .base import RecordFilter, require_readable, revision_key, revision_keys

_SCOPE_KEYS = ("tenant", "user", "agent", "session")
_UNIT = [1.0]  # the vector of side collections (history, meta) that are never searched by similarity


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def _scope_meta(scope: Scope) -> dict[str, str]:
    d = scope.model_dump()
    return {k: (d[k] or "") for k in _SCOPE_KEYS}


def _where(scope: Scope, flt: RecordFilter | None = None, **extra: Any) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{k: {"$eq": v}} for k, v in scope.fields().items()]
    if flt is not None:
        if flt.kinds is not None:
            clauses.append({"kind": {"$in": sorted(k.value for k in flt.kinds)}})
        if flt.statuses is not None:
            clauses.append({"status": {"$in": sorted(s.value for s in flt.statuses)}})
        if flt.since is not None:
            clauses.append({"event_ts": {"$gte": to_ts(flt.since)}})
        if flt.until is not None:
            clauses.append({"event_ts": {"$lte": to_ts(flt.until)}})
    clauses.extend({k: {"$eq": v}} for k, v in extra.items())
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _record_meta(rec: MemoryRecord) -> dict[str, Any]:
    return {
        **_scope_meta(rec.scope),
        "kind": rec.kind.value,
        "status": rec.status.value,
        "created_ts": to_ts(rec.created_at),
        "event_ts": to_ts(rec.event_time),
        "pinned": rec.pinned,
        "version": rec.version,
        "json": rec.model_dump_json(),
    }


def _parse_record(meta: dict[str, Any] | None) -> MemoryRecord:
    if not meta or "json" not in meta:
        raise StoreCorrupted("a stored record has no payload")
    return MemoryRecord.model_validate_json(meta["json"])


class ChromaStore:
    """Records in `<prefix>_records` (cosine HNSW), history in `<prefix>_history`, meta in `<prefix>_meta`."""

    def __init__(
        self, client: Any, prefix: str = "memo", dim: int | None = None, embedder_name: str = ""
    ) -> None:
        if len(prefix) < 3:
            raise ConfigError("collection prefix needs at least 3 characters")
        self._client = client
        self.dim = dim
        with translate("store", "open collections"):
            self._records = client.get_or_create_collection(
                f"{prefix}_records",
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"memo_schema": 1, "embedder": embedder_name or "unknown", "dim": dim or 0},
            )
            meta = self._records.metadata or {}
            stored = meta.get("embedder")
            if embedder_name and stored not in (None, "unknown", embedder_name):
                raise ConfigError(
                    f"this store was written with embedder {stored!r}; opening it with {embedder_name!r} "
                    "would mix vector spaces (pass the same embedder, or use another collection prefix)"
                )
            self._history = client.get_or_create_collection(f"{prefix}_history", embedding_function=None)
            self._meta = client.get_or_create_collection(f"{prefix}_meta", embedding_function=None)
            self._max_batch = max(1, min(1000, int(getattr(client, "get_max_batch_size", lambda: 1000)())))

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def persistent(cls, path: str | os.PathLike[str], **kw: Any) -> ChromaStore:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        with translate("store", f"open {path}"):
            import chromadb

            os.makedirs(path, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=_settings())
        return cls(client, **kw)

    @staticmethod
    def recorded_embedder(client: Any, prefix: str = "memo") -> str | None:
        """The embedder name a store was written with (None for a new store)."""
        with translate("store", "read store metadata"):
            names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
            if f"{prefix}_records" not in names:
                return None
            meta = client.get_collection(f"{prefix}_records").metadata or {}
        name = meta.get("embedder")
        return str(name) if name else None

    @classmethod
    def server(cls, host: str, port: int, **kw: Any) -> ChromaStore:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        with translate("store", f"connect {host}:{port}"):
            import chromadb

            client = chromadb.HttpClient(host=host, port=port, settings=_settings())
            client.heartbeat()
        return cls(client, **kw)

    # -- records --------------------------------------------------------------------------
    def _chunks(self, n: int) -> range:
        return range(0, n, self._max_batch)

    def upsert(self, records: Sequence[MemoryRecord], vectors: Vectors | None, *, bump: bool = True) -> None:
        if not records:
            return
        if vectors is None:  # metadata-only change of existing records (same text): keep their vectors
            with translate("store", "update records"):
                for s in self._chunks(len(records)):
                    part = records[s : s + self._max_batch]
                    self._records.update(ids=[r.id for r in part], metadatas=[_record_meta(r) for r in part])
            if bump:  # after the write: a reader that sees the new token also sees the new data
                self.bump_revision(r.scope for r in records)
            return
        if len(vectors) != len(records):
            raise InvalidInput("one vector per record is required")
        if self.dim is not None and vectors.shape[1] != self.dim:
            raise InvalidInput(f"vector dimension {vectors.shape[1]} != store dimension {self.dim}")
        with translate("store", "upsert records"):
            for s in self._chunks(len(records)):
                part = records[s : s + self._max_batch]
                self._records.upsert(
                    ids=[r.id for r in part],
                    embeddings=np.asarray(vectors[s : s + len(part)], dtype=np.float32),
                    documents=[r.index_text() for r in part],
                    metadatas=[_record_meta(r) for r in part],
                )
        if bump:
            self.bump_revision(r.scope for r in records)

    def get(self, scope: Scope, ids: Sequence[str]) -> list[MemoryRecord]:
        require_readable(scope)
        if not ids:
            return []
        with translate("store", "get records"):
            got = self._records.get(ids=list(ids), include=["metadatas"])
        by_id = {}
        for meta in got["metadatas"] or []:
            rec = _parse_record(meta)
            if scope.contains(rec.scope):
                by_id[rec.id] = rec
        return [by_id[i] for i in ids if i in by_id]

    def query(
        self, scope: Scope, vector: Vectors, k: int, flt: RecordFilter
    ) -> list[tuple[MemoryRecord, float]]:
        return self.query_many(scope, np.asarray(vector, dtype=np.float32).reshape(1, -1), k, flt)[0]

    def query_many(
        self, scope: Scope, vectors: Vectors, k: int, flt: RecordFilter
    ) -> list[list[tuple[MemoryRecord, float]]]:
        require_readable(scope)
        q = np.asarray(vectors, dtype=np.float32)
        if len(q) == 0:
            return []
        with translate("store", "query"):
            res = self._records.query(
                query_embeddings=q,
                n_results=max(1, k),
                where=_where(scope, flt),
                include=["metadatas", "distances"],
            )
        out: list[list[tuple[MemoryRecord, float]]] = []
        for metas, dists in zip(res.get("metadatas") or [], res.get("distances") or []):
            row = []
            for meta, dist in zip(metas or [], dists or []):
                rec = _parse_record(meta)
                if scope.contains(rec.scope):  # defence in depth: the filter already did this
                    row.append((rec, float(dist)))
            out.append(row)
        return out + [[] for _ in range(len(q) - len(out))]

    def list_records(
        self, scope: Scope, flt: RecordFilter, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        require_readable(scope)
        with translate("store", "list"):
            got = self._records.get(where=_where(scope, flt), include=["metadatas"])
        recs = [r for r in (_parse_record(m) for m in got["metadatas"] or []) if scope.contains(r.scope)]
        recs.sort(key=lambda r: (r.created_at, r.id))
        end = None if limit is None else offset + limit
        return recs[offset:end]

    def fetch(self, scope: Scope, ids: Sequence[str]) -> dict[str, tuple[MemoryRecord, Vectors]]:
        require_readable(scope)
        if not ids:
            return {}
        with translate("store", "fetch"):
            got = self._records.get(ids=list(ids), include=["embeddings", "metadatas"])
        out: dict[str, tuple[MemoryRecord, Vectors]] = {}
        for rid, emb, meta in zip(got["ids"], got["embeddings"], got["metadatas"]):
            rec = _parse_record(meta)
            if scope.contains(rec.scope):
                out[rid] = (rec, np.asarray(emb, dtype=np.float32))
        return out

    def snapshot(self, scope: Scope, flt: RecordFilter) -> tuple[list[MemoryRecord], Vectors]:
        require_readable(scope)
        with translate("store", "read scope"):
            got = self._records.get(where=_where(scope, flt), include=["embeddings", "metadatas"])
        embeddings = got.get("embeddings")
        rows = [
            (_parse_record(m), e)
            for m, e in zip(got["metadatas"] or [], [] if embeddings is None else embeddings)
        ]
        rows = [(r, e) for r, e in rows if scope.contains(r.scope)]
        rows.sort(key=lambda row: row[0].created_at)  # stable: ties keep the store's insertion order
        if not rows:
            return [], np.zeros((0, self.dim or 0), dtype=np.float32)
        return [r for r, _ in rows], np.asarray([e for _, e in rows], dtype=np.float32)

    def delete(self, scope: Scope, ids: Sequence[str]) -> None:
        visible = self.get(scope, ids)
        if visible:
            with translate("store", "delete"):
                self._records.delete(ids=[r.id for r in visible])
            self.bump_revision(r.scope for r in visible)

    def scopes(self, tenant: str) -> list[Scope]:
        with translate("store", "list scopes"):
            got = self._records.get(where={"tenant": {"$eq": tenant}}, include=["metadatas"])
        found = {
            Scope(**{k: (m.get(k) or None) for k in _SCOPE_KEYS if k != "tenant"}, tenant=tenant)
            for m in got["metadatas"] or []
        }
        return sorted(found, key=lambda s: s.key())

    # -- history --------------------------------------------------------------------------
    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        with translate("store", "append history"):
            for s in self._chunks(len(entries)):
                part = entries[s : s + self._max_batch]
                self._history.upsert(
                    ids=[e.id for e in part],
                    embeddings=[_UNIT for _ in part],
                    documents=[e.snapshot.text if e.snapshot else "" for e in part],
                    metadatas=[
                        {
                            **_scope_meta(e.scope),
                            "record_id": e.record_id,
                            "version": e.version,
                            "op": e.op,
                            "at_ts": to_ts(e.at),
                            "json": e.model_dump_json(),
                        }
                        for e in part
                    ],
                )

    def _read_history(self, where: dict[str, Any]) -> list[HistoryEntry]:
        with translate("store", "read history"):
            got = self._history.get(where=where, include=["metadatas"])
        out = [HistoryEntry.model_validate_json(m["json"]) for m in got["metadatas"] or []]
        return sorted(out, key=lambda e: (e.at, e.version))

    def history(self, scope: Scope, record_id: str | None = None) -> list[HistoryEntry]:
        require_readable(scope)
        extra = {"record_id": record_id} if record_id else {}
        return [e for e in self._read_history(_where(scope, None, **extra)) if scope.contains(e.scope)]

    def delete_history(self, scope: Scope, record_ids: Sequence[str] | None = None) -> None:
        entries = self.history(scope)
        wanted = None if record_ids is None else set(record_ids)
        ids = [e.id for e in entries if wanted is None or e.record_id in wanted]
        with translate("store", "delete history"):
            for s in self._chunks(len(ids)):
                self._history.delete(ids=ids[s : s + self._max_batch])

    def history_since(self, since: datetime) -> list[HistoryEntry]:
        return self._read_history({"at_ts": {"$gte": to_ts(ensure_utc(since))}})

    # -- revisions and meta ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with translate("store", "read meta"):
            got = self._meta.get(ids=[key], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else None

    def set_meta(self, key: str, value: str) -> None:
        with translate("store", "write meta"):
            self._meta.upsert(ids=[key], embeddings=[_UNIT], documents=[value], metadatas=[{"kind": "meta"}])

    def revision(self, scope: Scope) -> str:
        return self.get_meta(revision_key(scope)) or "0"

    def bump_revision(self, scopes: Iterable[Scope]) -> None:
        """New tokens, in one write, for the tenants and users of `scopes`."""
        keys = revision_keys(scopes)
        if not keys:
            return
        with translate("store", "write revision"):
            self._meta.upsert(
                ids=keys,
                embeddings=[_UNIT for _ in keys],
                documents=[uuid.uuid4().hex for _ in keys],
                metadatas=[{"kind": "revision"} for _ in keys],
            )

    def raw_dump(self) -> dict[str, Any]:
        """Everything Chroma holds, as stored (documents and metadata): for erasure proofs and tests."""
        with translate("store", "dump"):
            return {
                name: col.get(include=["documents", "metadatas"])
                for name, col in (
                    ("records", self._records),
                    ("history", self._history),
                    ("meta", self._meta),
                )
            }

    def close(self) -> None:
        # PersistentClient has no close; dropping references lets the process release it
        self._records = self._history = self._meta = None
        self._client = None
