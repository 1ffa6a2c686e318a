"""The Chroma store: embedded (`PersistentClient`) or a server (`HttpClient`).

Chroma's gotchas stay in here: `add` silently ignores an existing id (we only `upsert`),
empty metadata is rejected, collection names need 3+ characters, upsert merges metadata
(we always write every key), distances can be slightly negative (the scorer clamps).
We never use Chroma's embedding functions (its default downloads a model): vectors are
always passed in.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import ValidationError

from .._boundary import read_retrying, translate
from ..clock import ensure_utc, to_ts
from ..embed.base import Vectors
from ..errors import ConfigError, InvalidInput
from ..models import HistoryEntry, Kind, MemoryRecord, Scope
from . import chroma_check, chroma_files, chroma_lock, chroma_server, chroma_stats
from .base import RecordFilter, require_readable, revision_key, revision_keys
from .chroma_graph import UNIT, records_collection, side_collection
from .chroma_rows import Quarantine, in_pages, meta_filter, parse_history, parse_record, scope_of

log = logging.getLogger("shared_core.store")

_SCOPE_KEYS = ("tenant", "user", "agent", "session")
_READ_FIELDS = ("user", "agent", "session")
SCHEMA = 2  # 2: composite scope keys (`_scope_keys`) on records and history
SCAN_PAGE = 20_000  # rows per read of a scope scan (Chroma fails a read binding over 32,766 ids)
# records and history rows: the text lives once, in the JSON every read parses; no copy in Chroma's
# FTS index (never queried; more to purge). "" clears an older version's document on upsert
_NO_DOCUMENT = ""


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


_ERASED_IN_THIS_PROCESS: set[str] = set()  # directories whose HNSW files are scrubbed again at close


def _persist_path(client: Any) -> Any:
    """The directory of an embedded client (a `Path`), or None for a server."""
    from pathlib import Path

    try:
        settings = client.get_settings()
    except AttributeError:
        return None
    return Path(settings.persist_directory) if getattr(settings, "is_persistent", False) else None


def _refuse_foreign(client: Any, prefix: str, path: Any) -> None:
    """A database holding collections, none of them MeMo's, is another application's: refuse it."""
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    if names and not any(n.endswith(("_records", "_audit", "_meta")) for n in names):
        raise ConfigError(
            f"{path} is a Chroma database of another application (collections {', '.join(sorted(names)[:3])}); "
            "MeMo does not open it as a memory store: use a new directory"
        )


def _scope_meta(scope: Scope) -> dict[str, str]:
    d = scope.model_dump()
    return {k: (d[k] or "") for k in _SCOPE_KEYS}


def _combos() -> list[tuple[str, ...]]:
    return [c for n in (1, 2, 3) for c in itertools.combinations(_READ_FIELDS, n)]


def _scope_keys(scope: Scope) -> dict[str, str]:
    """One metadata key per combination of the fields a read scope can set, valued with the tenant
    and those fields (ids never hold control characters, so the separator is unambiguous). Every
    read then filters on one selective equality: Chroma evaluates each clause of an `$and` over
    the whole collection, which costs ~60 ms per non-selective clause at 100,000 records."""
    d = scope.model_dump()
    return {
        "sk_" + "".join(f[0] for f in combo): "\x1f".join([scope.tenant, *(d[f] for f in combo)])
        for combo in _combos()
        if all(d[f] is not None for f in combo)
    }


def _where(scope: Scope, **extra: Any) -> dict[str, Any]:
    """The scope as one equality on its composite key (plus selective equalities such as a record id)."""
    fields = tuple(f for f in _READ_FIELDS if getattr(scope, f) is not None)
    key = "sk_" + "".join(f[0] for f in fields)
    clauses = [{key: {"$eq": _scope_keys(scope)[key]}}, *({k: {"$eq": v}} for k, v in extra.items())]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _record_meta(rec: MemoryRecord) -> dict[str, Any]:
    return {
        **_scope_meta(rec.scope),
        **_scope_keys(rec.scope),
        "kind": rec.kind.value,
        "status": rec.status.value,
        "created_ts": to_ts(rec.created_at),
        "event_ts": to_ts(rec.event_time),
        "pinned": rec.pinned,
        "version": rec.version,
        "json": rec.model_dump_json(),
    }


class ChromaStore:
    """Records in `<prefix>_records` (cosine HNSW), history in `<prefix>_history`, meta in `<prefix>_meta`."""

    def __init__(
        self, client: Any, prefix: str = "memo", dim: int | None = None, embedder_name: str = ""
    ) -> None:
        if len(prefix) < 3:
            raise ConfigError("collection prefix needs at least 3 characters")
        self._client = client
        self.dim = dim
        self.scan_page = SCAN_PAGE
        self.quarantine = Quarantine()
        self.path = _persist_path(client)  # the directory of an embedded store, None for a server
        self._lock: chroma_lock.DirLock | None = getattr(client, "_memo_lock", None)
        self._where = (
            str(self.path) if self.path is not None else str(getattr(client, "_memo_where", "server"))
        )
        try:
            self._open(client, prefix, embedder_name)
        except BaseException:
            self.close()
            raise
        self._migrate()
        # an embedded database's query planner needs statistics to read one scope by key (chroma_stats)
        self._planner = chroma_stats.PlannerStats(self.path) if self.path is not None else None

    def _open(self, client: Any, prefix: str, embedder_name: str) -> None:
        dim = self.dim
        with translate("store", f"open collections {self._where}"):
            if self.path is not None:
                _refuse_foreign(client, prefix, self.path)
            created = {"memo_schema": SCHEMA, "embedder": embedder_name or "unknown", "dim": dim or 0}
            self._records = records_collection(client, f"{prefix}_records", created)
            meta = self._records.metadata or {}
            stored = meta.get("embedder")
            if embedder_name and stored not in (None, "unknown", embedder_name):
                raise ConfigError(
                    f"this store was written with embedder {stored!r}; opening it with {embedder_name!r} "
                    "would mix vector spaces (pass the same embedder, or use another collection prefix)"
                )
            self._history = side_collection(client, f"{prefix}_history")
            self._meta = side_collection(client, f"{prefix}_meta")
            self._max_batch = max(1, min(1000, int(getattr(client, "get_max_batch_size", lambda: 1000)())))

    def _migrate(self) -> None:
        """Stores written before schema 2 get the composite scope keys on every record and history row
        (idempotent: an interrupted migration is finished at the next open)."""
        meta = dict(self._records.metadata or {})
        if int(meta.get("memo_schema") or 1) >= SCHEMA:
            return
        with translate("store", f"migrate to schema 2 {self._where}"):
            for col, parse in ((self._records, parse_record), (self._history, parse_history)):
                got = col.get(include=["metadatas"])
                ids, metas = got["ids"], got["metadatas"] or []
                for s in self._chunks(len(ids)):
                    part = range(s, min(len(ids), s + self._max_batch))
                    good = [
                        (i, p)
                        for i, p in zip(
                            part,
                            self.quarantine.parse_all(
                                col.name, [ids[i] for i in part], [metas[i] for i in part], parse
                            ),
                        )
                        if p is not None
                    ]
                    if good:
                        col.update(
                            ids=[ids[i] for i, _ in good],
                            metadatas=[{**metas[i], **_scope_keys(p.scope)} for i, p in good],
                        )
            meta["memo_schema"] = SCHEMA
            self._records.modify(metadata=meta)

    # -- construction ---------------------------------------------------------------------
    @staticmethod
    def persistent_client(path: str | os.PathLike[str]) -> Any:
        """An embedded Chroma client on a directory (created if needed), locked for this process
        (`StoreLocked` if another process has it open). A directory whose database was deleted,
        emptied or damaged raises `StoreCorrupted` instead of opening as an empty memory."""
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        chroma_files.check_directory(path)
        with translate("store", f"open {path}"):
            os.makedirs(path, exist_ok=True)
        lock = chroma_lock.acquire(path)
        try:
            with translate("store", f"open {path}"):
                import chromadb

                client = chromadb.PersistentClient(path=str(path), settings=_settings())
                client.list_collections()  # reads the database: a damaged page fails here
        except BaseException:
            lock.release()
            raise
        client._memo_lock = lock  # type: ignore[attr-defined]  # handed to the ChromaStore built on it (released by its close)
        weakref.finalize(client, lock.release)  # a client dropped without a store never keeps the lock
        return client

    @staticmethod
    def server_client(
        host: str,
        port: int,
        *,
        ssl: bool = False,
        ca_file: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> Any:
        """A client of a Chroma server (`chroma run`), checked with a heartbeat. Every HTTP call is
        bounded by `timeout` seconds and transport failures are retried `retries` times with
        exponential backoff and jitter; then `StoreUnavailable` names host, port and cause.
        `ssl`/`ca_file`/`token`/`headers` reach a server behind a TLS proxy with authentication."""
        try:
            opts = chroma_server.ServerOptions(
                host=host,
                port=port,
                ssl=ssl,
                ca_file=ca_file,
                token=token,
                headers=headers,
                timeout=timeout,
                retries=retries,
                backoff=backoff,
            )
        except ValidationError as exc:
            raise ConfigError(f"invalid server options: {exc.errors(include_url=False)}") from None
        client = chroma_server.connect(opts)
        client._memo_where = f"at {host}:{port}"
        return client

    @classmethod
    def persistent(cls, path: str | os.PathLike[str], **kw: Any) -> ChromaStore:
        return cls(cls.persistent_client(path), **kw)

    @classmethod
    def server(
        cls,
        host: str,
        port: int,
        *,
        ssl: bool = False,
        ca_file: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
        **kw: Any,
    ) -> ChromaStore:
        client = cls.server_client(
            host,
            port,
            ssl=ssl,
            ca_file=ca_file,
            token=token,
            headers=headers,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )
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

    # -- records --------------------------------------------------------------------------
    def _chunks(self, n: int) -> range:
        return range(0, n, self._max_batch)

    def upsert(self, records: Sequence[MemoryRecord], vectors: Vectors | None, *, bump: bool = True) -> None:
        if not records:
            return
        if vectors is None:  # metadata-only change of existing records (same text): keep their vectors
            with translate("store", f"update records {self._where}"):
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
        with translate("store", f"upsert records {self._where}"):
            for s in self._chunks(len(records)):
                part = records[s : s + self._max_batch]
                self._records.upsert(
                    ids=[r.id for r in part],
                    embeddings=np.asarray(vectors[s : s + len(part)], dtype=np.float32),
                    documents=[_NO_DOCUMENT for _ in part],
                    metadatas=[_record_meta(r) for r in part],
                )
        if self._planner is not None:
            self._planner.wrote(len(records))
        if bump:
            self.bump_revision(r.scope for r in records)

    def get(self, scope: Scope, ids: Sequence[str]) -> list[MemoryRecord]:
        require_readable(scope)
        if not ids:
            return []
        got = read_retrying(
            lambda: self._records.get(ids=list(ids), include=["metadatas"]), f"get records {self._where}"
        )
        by_id = {}
        for rec in self._records_of(got["ids"], got["metadatas"] or []):
            if rec is not None and scope.contains(rec.scope):
                by_id[rec.id] = rec
        return [by_id[i] for i in ids if i in by_id]

    def owners(self, ids: Sequence[str]) -> dict[str, Scope]:
        if not ids:
            return {}
        got = read_retrying(
            lambda: self._records.get(ids=list(ids), include=["metadatas"]), f"owners {self._where}"
        )
        return {
            rec.id: rec.scope
            for rec in self._records_of(got["ids"], got["metadatas"] or [])
            if rec is not None
        }

    def query(
        self, scope: Scope, vector: Vectors, k: int, flt: RecordFilter
    ) -> list[tuple[MemoryRecord, float]]:
        return self.query_many(scope, np.asarray(vector, dtype=np.float32).reshape(1, -1), k, flt)[0]

    def query_many(
        self, scope: Scope, vectors: Vectors, k: int, flt: RecordFilter
    ) -> list[list[tuple[MemoryRecord, float]]]:
        """Exact cosine over the scope's vectors (Chroma's filtered HNSW query costs ~160 ms at
        100,000 records whatever the scope's size; reading a scope by its key costs ~10 ms)."""
        q = np.asarray(vectors, dtype=np.float32)
        if len(q) == 0:
            return []
        ids, metas, vecs = self._scan(scope, flt, vectors=True)
        if not metas:
            return [[] for _ in q]
        dists = 1.0 - q.reshape(len(q), -1) @ vecs.T
        n = min(max(1, k), len(metas))
        parsed: dict[int, MemoryRecord | None] = {}  # a neighbour of several queries is parsed once
        out = []
        for row in dists:
            top = np.argpartition(row, n - 1)[:n] if n < len(row) else np.arange(len(row))
            top = top[np.lexsort((top, row[top]))]
            for i in top:
                if i not in parsed:
                    parsed[i] = self._records_of([ids[i]], [metas[i]])[0]
            out.append([(rec, float(row[i])) for i in top if (rec := parsed[i]) is not None])
        return out

    def _records_of(self, ids: Sequence[str], metas: Sequence[Any]) -> list[MemoryRecord | None]:
        """Parsed records (None for a row that cannot be parsed: it is quarantined, not fatal)."""
        return self.quarantine.parse_all("records", ids, metas, parse_record)

    def _scan(
        self, scope: Scope, flt: RecordFilter, vectors: bool
    ) -> tuple[list[str], list[dict[str, Any]], Vectors]:
        """The stored metadata (and vectors) of the scope's records that pass `flt`, in insertion order."""
        require_readable(scope)
        include = ["embeddings", "metadatas"] if vectors else ["metadatas"]
        where = _where(scope)
        if flt.kinds is not None and Kind.EPISODE not in flt.kinds:
            # raw turns, the bulk of a scope, stay in Chroma (a `$ne` clause costs no scan, unlike `$eq`)
            where = {"$and": [where, {"kind": {"$ne": Kind.EPISODE.value}}]}
        ids, metas, embs = in_pages(
            lambda at, n: read_retrying(
                lambda: self._records.get(where=where, include=include, limit=n, offset=at),
                f"read scope {self._where}",
            ),
            self.scan_page,
        )
        matches = meta_filter(flt)
        keep = [i for i, m in enumerate(metas) if m and matches(m)]
        kept = ([ids[i] for i in keep], [metas[i] for i in keep])
        if not vectors or not keep:
            return kept[0], kept[1], np.zeros((0, self.dim or 0), dtype=np.float32)
        return kept[0], kept[1], np.asarray([embs[i] for i in keep], dtype=np.float32)

    def list_records(
        self, scope: Scope, flt: RecordFilter, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        ids, metas, _ = self._scan(scope, flt, vectors=False)
        recs = [r for r in self._records_of(ids, metas) if r is not None and scope.contains(r.scope)]
        recs.sort(key=lambda r: (r.created_at, r.id))
        end = None if limit is None else offset + limit
        return recs[offset:end]

    def fetch(self, scope: Scope, ids: Sequence[str]) -> dict[str, tuple[MemoryRecord, Vectors]]:
        require_readable(scope)
        if not ids:
            return {}
        got = read_retrying(
            lambda: self._records.get(ids=list(ids), include=["embeddings", "metadatas"]),
            f"fetch {self._where}",
        )
        out: dict[str, tuple[MemoryRecord, Vectors]] = {}
        recs = self._records_of(got["ids"], got["metadatas"])
        for rid, emb, rec in zip(got["ids"], got["embeddings"], recs):
            if rec is not None and scope.contains(rec.scope):
                out[rid] = (rec, np.asarray(emb, dtype=np.float32))
        return out

    def snapshot(self, scope: Scope, flt: RecordFilter) -> tuple[list[MemoryRecord], Vectors]:
        ids, metas, vecs = self._scan(scope, flt, vectors=True)
        parsed = self._records_of(ids, metas)
        recs = {i: r for i, r in enumerate(parsed) if r is not None and scope.contains(r.scope)}
        keep = sorted(recs, key=lambda i: recs[i].created_at)  # stable: ties keep the insertion order
        return [recs[i] for i in keep], vecs[keep] if keep else vecs[:0]

    def delete(self, scope: Scope, ids: Sequence[str]) -> None:
        visible = self.get(scope, ids)
        if visible:
            with translate("store", f"delete {self._where}"):
                self._records.delete(ids=[r.id for r in visible])
            self.bump_revision(r.scope for r in visible)

    def scopes(self, tenant: str) -> list[Scope]:
        got = read_retrying(
            lambda: self._records.get(where={"tenant": {"$eq": tenant}}, include=["metadatas"]),
            f"list scopes {self._where}",
        )
        found: set[Scope] = set()
        for rid, m in zip(got["ids"], got["metadatas"] or []):
            try:
                found.add(scope_of(m))
            except (ValidationError, ValueError, TypeError, AttributeError) as exc:  # quarantined, not fatal
                self.quarantine.note("records", rid, f"a stored record has an unreadable scope: {exc}"[:300])
        return sorted(found, key=lambda s: s.key())

    # -- history --------------------------------------------------------------------------
    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        with translate("store", f"append history {self._where}"):
            for s in self._chunks(len(entries)):
                part = entries[s : s + self._max_batch]
                self._history.upsert(
                    ids=[e.id for e in part],
                    embeddings=[UNIT for _ in part],
                    documents=[_NO_DOCUMENT for _ in part],
                    metadatas=[
                        {
                            **_scope_meta(e.scope),
                            **_scope_keys(e.scope),
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
        got = read_retrying(
            lambda: self._history.get(where=where, include=["metadatas"]), f"read history {self._where}"
        )
        parsed = self.quarantine.parse_all("history", got["ids"], got["metadatas"] or [], parse_history)
        out: list[HistoryEntry] = [e for e in parsed if e is not None]
        return sorted(out, key=lambda e: (e.at, e.version))

    def history(self, scope: Scope, record_id: str | None = None) -> list[HistoryEntry]:
        require_readable(scope)
        extra = {"record_id": record_id} if record_id else {}
        return [e for e in self._read_history(_where(scope, **extra)) if scope.contains(e.scope)]

    def delete_history(self, scope: Scope, record_ids: Sequence[str] | None = None) -> None:
        entries = self.history(scope)
        wanted = None if record_ids is None else set(record_ids)
        ids = [e.id for e in entries if wanted is None or e.record_id in wanted]
        with translate("store", f"delete history {self._where}"):
            for s in self._chunks(len(ids)):
                self._history.delete(ids=ids[s : s + self._max_batch])

    def history_since(self, since: datetime) -> list[HistoryEntry]:
        return self._read_history({"at_ts": {"$gte": to_ts(ensure_utc(since))}})

    # -- revisions and meta ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        got = read_retrying(
            lambda: self._meta.get(ids=[key], include=["documents"]), f"read meta {self._where}"
        )
        docs = got.get("documents") or []
        return docs[0] if docs else None

    def set_meta(self, key: str, value: str) -> None:
        with translate("store", f"write meta {self._where}"):
            self._meta.upsert(ids=[key], embeddings=[UNIT], documents=[value], metadatas=[{"kind": "meta"}])

    def revision(self, scope: Scope) -> str:
        return self.get_meta(revision_key(scope)) or "0"

    def bump_revision(self, scopes: Iterable[Scope]) -> None:
        """New tokens, in one write, for the tenants and users of `scopes`."""
        keys = revision_keys(scopes)
        if not keys:
            return
        with translate("store", f"write revision {self._where}"):
            self._meta.upsert(
                ids=keys,
                embeddings=[UNIT for _ in keys],
                documents=[uuid.uuid4().hex for _ in keys],
                metadatas=[{"kind": "revision"} for _ in keys],
            )

    def raw_dump(self) -> dict[str, Any]:
        """Everything Chroma holds, as stored (documents and metadata): for erasure proofs and tests."""
        with translate("store", f"dump {self._where}"):
            return {
                name: col.get(include=["documents", "metadatas"])
                for name, col in (
                    ("records", self._records),
                    ("history", self._history),
                    ("meta", self._meta),
                )
            }

    # -- files (embedded stores) --------------------------------------------------------------
    def purge_files(self) -> dict[str, int]:
        """Physically remove deleted and superseded data from the store's files (`chroma_files.purge`).
        For an embedded store only; a server's operator runs `Governor.purge_files(path)` on its host."""
        if self.path is None:
            raise InvalidInput("purge_files works on an embedded store; for a server see docs/reliability.md")
        _ERASED_IN_THIS_PROCESS.add(str(self.path))
        return chroma_files.purge(self.path)

    def check_rows(self) -> tuple[list[MemoryRecord], list[HistoryEntry], dict[str, str]]:
        """Every readable record and history entry, and the unreadable rows (`Governor.check`)."""
        return chroma_check.read_all(self)

    def quarantine_rows(self, keys: Sequence[str]) -> int:
        """Move unreadable rows ("collection:id") to `<prefix>_quarantine`; returns how many moved."""
        return chroma_check.move_to_quarantine(self, list(keys))

    def purge_scope_rows(self, scope: Scope) -> int:
        """Delete every record and history row carrying `scope`'s key, parsed or not (erasure must
        reach quarantined rows too). Returns how many rows were deleted."""
        require_readable(scope)
        gone: set[str] = set()
        with translate("store", f"purge scope {self._where}"):
            for col in (self._records, self._history):
                ids = col.get(where=_where(scope), include=[])["ids"]
                for s in self._chunks(len(ids)):
                    col.delete(ids=ids[s : s + self._max_batch])
                gone.update(ids)
        for key in [k for k in self.quarantine.rows if k.split(":", 1)[1] in gone]:
            del self.quarantine.rows[key]
        if gone:
            self.bump_revision([scope])
        return len(gone)

    def close(self) -> None:
        """Release Chroma's client (the last one of a directory stops its system, so a later open
        reads the files afresh, not another process's stale cache), then the directory lock."""
        client, self._client = self._client, None
        self._records = self._history = self._meta = None
        closer = getattr(client, "close", None)
        if closer is not None:
            with translate("store", f"close {self._where}"):
                closer()
        if self.path is not None and str(self.path) in _ERASED_IN_THIS_PROCESS:
            # stopping Chroma persists its HNSW buffers, whose unused bytes can hold heap copies of
            # text erased earlier in this process: zero them again (chroma_files.scrub_hnsw)
            chroma_files.scrub_all_hnsw(self.path)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
