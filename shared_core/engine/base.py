"""What every part of the engine shares: its parts (store, embedder, seam, caches) and small helpers."""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict, Field

from .._boundary import translate
from ..clock import Clock
from ..config import MemoConfig
from ..embed.base import Embedder, Vectors, embed_with_queries
from ..extract.base import Extractor
from ..governance import pii
from ..governance.audit import AuditLog
from ..models import HistoryEntry, HistoryOp, Kind, MemoryRecord, MetaValue, Scope
from ..search.index import IndexCache
from ..store.base import Store

if TYPE_CHECKING:
    from ..store.jobs import JobQueue
    from .seam import Seam
    from .worker import Worker

SYSTEM = "system"


class AddResult(BaseModel):
    """What one `add_messages` call did. With background extraction (the default) only
    `episodes` is filled when the call returns; `extraction` says "queued" and the memories
    follow (`Memory.flush()` waits for them)."""

    model_config = ConfigDict(extra="forbid")

    episodes: list[MemoryRecord] = Field(default_factory=list)
    added: list[MemoryRecord] = Field(default_factory=list)
    merged: list[MemoryRecord] = Field(default_factory=list)
    superseded: list[MemoryRecord] = Field(default_factory=list)
    pending_review: list[MemoryRecord] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    redactions: int = 0
    extraction: str = "done"  # "done" (ran in the call), "queued" (background) or "off"


def lexical_documents(records: Sequence[MemoryRecord], with_context: bool) -> list[tuple[str, str]]:
    """What the BM25 index sees: each memory's text, and for a raw turn also the turn before it in
    its session (an answer such as "A sunset!" is found by the question that prompted it)."""
    docs = []
    previous: dict[str | None, str] = {}
    for r in records:  # oldest first
        text = r.index_text()
        if with_context and r.kind is Kind.EPISODE:
            session = r.provenance.session_id
            docs.append((r.id, f"{text} {previous.get(session, '')}"))
            previous[session] = r.text
        else:
            docs.append((r.id, text))
    return docs


def episode_id(scope: Scope, session_id: str | None, message_id: str) -> str:
    """Deterministic id of a raw turn: re-adding the same message replaces, never duplicates."""
    raw = "\x1f".join([scope.key(), session_id or "", message_id])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def key_id(scope: Scope, key: str) -> str:
    """The record id of `remember(..., key=key)` in `scope`."""
    return derived_id("key", scope.key(), key)


def derived_id(*parts: str) -> str:
    """A deterministic id (history entries, extracted memories): a replay writes the same ids."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


class Serialized:
    """The store with one call at a time in this process: the applier thread writes while callers
    read, and embedded Chroma fails a read that races the first write of a segment ("Error
    creating hnsw segment reader"). Calls are short; searches read their cached index instead."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self._lock = threading.RLock()
        self.dim = getattr(target, "dim", None)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        lock = self._lock

        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return attr(*args, **kwargs)

        return call


class Flushed:
    """The store (or audit log) as seen from outside the engine (governor, CLI, tests): every
    call first waits until this process's journaled writes are in the store, so a direct read
    or write never races them. The engine itself reads through its pending overlay instead."""

    def __init__(self, engine: EngineBase, target: Any) -> None:
        self._engine = engine
        self._target = target

    _WRITES = frozenset(
        {
            "upsert",
            "delete",
            "delete_history",
            "append_history",
            "set_meta",
            "bump_revision",
            "redact_scope",
            "append",
            "append_many",
        }
    )

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        self._engine._seam.flush()
        if name not in self._WRITES:
            return attr
        cache = self._engine._indexes

        def write(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            finally:  # a change made around the seam: this process reads revisions afresh
                cache.forget_tokens()

        return write


class EngineBase:
    _store: Store
    embedder: Embedder
    floor: float  # the embedder's `cosine_floor`, read once (see `search.score.similarities`)
    config: MemoConfig
    clock: Clock
    extractor: Extractor
    _audit: AuditLog | None
    _indexes: IndexCache
    _store_key: object
    _seam: Seam
    _worker: Worker | None
    job_queue: JobQueue | None  # `extraction.external_worker`: the store's shared queue
    _write_lock: threading.RLock
    _stats_lock: threading.Lock
    token_stats: dict[str, int]

    @property
    def write_lock(self) -> threading.RLock:
        """The engine's write lock (re-entrant): held, no write of this process is being built or
        committed (`with engine.write_lock:`; the governor's physical purge holds it)."""
        return self._write_lock

    @property
    def store(self) -> Store:
        """The store, after this process's journaled writes (see `Flushed`)."""
        return cast(Store, Flushed(self, self._store))

    @property
    def audit(self) -> AuditLog | None:
        """The audit log (None without one), after this process's journaled writes."""
        return None if self._audit is None else cast(AuditLog, Flushed(self, self._audit))

    def _embed(self, texts: Sequence[str], queries: Sequence[str] = ()) -> Vectors:
        """Vectors of stored `texts`, then of `queries` (see `embed_with_queries`)."""
        with translate("embedding", getattr(self.embedder, "name", "embedder")):  # any embedder's failure
            return embed_with_queries(self.embedder, list(texts), list(queries))

    def _redact(self, text: str) -> tuple[str, int]:
        result = pii.apply(text, self.config.policy)
        return result.text, len(result.matches)

    def redact(self, text: str) -> str:
        """Free text that is stored but is not a memory (a review or hold reason, an audit note)
        gets the same PII step as every memory."""
        return self._redact(text)[0] if text else text

    def _redact_meta(self, meta: dict[str, MetaValue]) -> dict[str, MetaValue]:
        """String metadata values are redacted one by one, like text (numbers are left alone)."""
        return {k: self._redact(v)[0] if isinstance(v, str) and v else v for k, v in meta.items()}

    def _history(self, rec: MemoryRecord, op: HistoryOp, actor: str, reason: str = "") -> HistoryEntry:
        return HistoryEntry(
            id=derived_id(rec.id, str(rec.version), op, rec.updated_at.isoformat()),
            record_id=rec.id,
            scope=rec.scope,
            version=rec.version,
            op=op,
            at=self.clock.now(),
            actor=actor,
            reason=reason,
            snapshot=rec,
        )


OPEN_ENGINES: weakref.WeakSet[EngineBase] = weakref.WeakSet()  # this process's open engines
