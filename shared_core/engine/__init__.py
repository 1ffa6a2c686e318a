"""The engine of MeMo: the only place that sequences I/O, one module per job.

A write:    validate -> redact -> records (+ one embedder call) -> `ChangeSet`
            -> seam: legal hold -> journal (fsync, group commit) -> pending overlay + cached
            indexes updated in place -> acknowledged. The applier thread then writes batches to
            the store: audit, history, records/deletions, revision tokens. Extraction jobs ride
            in the same change set and run in the background worker.
A question: validate -> embed once -> the scope's cached index -> dense + lexical candidates
            -> score (fusion, recency, importance, use, time) -> MMR -> k / token budget -> hits.

Modules: `changes` (the typed change set), `journal`, `seam` (commit + applier + recovery),
`pending` (read your writes), `records` (get/list/history), `search`, `extraction`,
`write`, `worker` (background extraction and use reinforcement), `external` (`memo worker`: extraction
in other processes, from the store's job queue), `repair`.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any, cast

from ..clock import Clock, SystemClock
from ..config import MemoConfig
from ..embed.base import Embedder, cosine_floor
from ..errors import FlushTimeout, LegalHold
from ..extract.base import Extractor
from ..extract.llm import LLMExtractor
from ..extract.rules import RuleExtractor
from ..governance.audit import AuditLog
from ..search.index import IndexCache
from ..store.base import Store
from ..store.jobs import JobQueue
from .base import (
    OPEN_ENGINES,
    SYSTEM,
    AddResult,
    Serialized,
    derived_id,
    episode_id,
    key_id,
    lexical_documents,
)
from .changes import AuditItem, ChangeSet, Deletion, ExtractJob
from .gate import Gate
from .journal import Journal
from .repair import RepairMixin, RepairReport
from .seam import Seam, hold_key
from .worker import Worker

_OPEN = OPEN_ENGINES


def _close_all() -> None:
    """At interpreter exit: finish (or leave in the journal) what open engines still hold, and stop
    their threads before the store's native code is torn down."""
    for engine in list(_OPEN):
        try:
            cast(Engine, engine).close(timeout=10.0)
        except Exception:  # exiting anyway; the journal keeps whatever was not applied
            pass


_registered: list[bool] = []


class Engine(RepairMixin):
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        config: MemoConfig | None = None,
        clock: Clock | None = None,
        extractor: Extractor | None = None,
        audit: AuditLog | None = None,
        journal_dir: str | os.PathLike[str] | None = None,
        background: bool = True,
        extract_timeout: float = 60.0,
        job_queue: JobQueue | None = None,
    ) -> None:
        """`journal_dir`: where writes are journaled before the store has them (None: applied to
        the store within the call, as for an in-memory store). `background`: extraction runs in
        a worker thread (False: inside `add_messages`). `job_queue`: extraction jobs go there, for
        `memo worker` processes (`extraction.external_worker`), and this process extracts nothing."""
        # what identifies the store among this process's engines: its directory (embedded: one
        # process per directory), the object (in memory), None for a server (other processes write)
        path = getattr(store, "path", "")
        self._store_key: object = None if path is None else (str(path) if path else id(store))
        self._store = cast(Store, Serialized(store))
        self.embedder = embedder
        self.floor = cosine_floor(embedder)
        self.config = config or MemoConfig()
        self.clock = clock or SystemClock()
        self.extractor = extractor or RuleExtractor()
        if isinstance(self.extractor, LLMExtractor):
            self.extractor.configure(self.config.extraction)
        self._stats_lock = threading.Lock()
        self.token_stats = {"input": 0, "output": 0}
        self._audit = audit
        self._indexes = IndexCache(max_records=self.config.limits.search_cache_records)
        self._write_lock = threading.RLock()
        self._worker = None
        journal = Journal(journal_dir) if journal_dir is not None else None
        self.gate = Gate()  # background work waits while callers run (engine/gate.py)
        self.job_queue = job_queue
        self._seam = Seam(
            self._store,
            audit,
            self._indexes,
            journal,
            gate=self.gate,
            queue=job_queue,
            embed=self._embed,
            embed_wait=self.config.write.embed_wait_ms / 1000,
            embed_wait_texts=self.config.write.embed_wait_texts,
        )
        if background:
            self._worker = Worker(self, timeout=extract_timeout, gate=self.gate)
            if job_queue is None:
                self._seam.on_jobs = self._worker.enqueue
        self.recovered = RepairReport()
        self._closed = False
        if not _registered:  # on first use, not at import (no import-time side effects)
            _registered.append(True)
            atexit.register(_close_all)
        _OPEN.add(self)

    def recover(self) -> RepairReport:
        """Replay journals left by a crash (this store's, any dead process's)."""
        replayed, jobs = self._seam.recover()
        if jobs and self.job_queue is None and self._worker is None:  # no background worker: finish them now
            by_scope: dict[Any, list[ExtractJob]] = {}
            for j in jobs:
                by_scope.setdefault(j.scope, []).append(j)
            for group in by_scope.values():
                self.run_jobs(group)
        self.recovered = RepairReport(replayed=replayed, requeued_jobs=len(jobs))
        return self.recovered

    def flush(self, timeout: float | None = None) -> None:
        """Wait until background extraction is done and every journaled write is in the store.
        Raises `FlushTimeout` when `timeout` seconds pass first. With `extraction.external_worker`
        the jobs are then in the store's queue: `memo worker` processes extract them (`stats()`
        counts them in `jobs_waiting`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.gate.urgent():
            if self._worker is not None:
                self._worker.flush(timeout)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._seam.flush(left)

    def stats(self) -> dict[str, Any]:
        """Write path and background work counters (journal backlog, applier, extraction)."""
        out: dict[str, Any] = {f"seam_{k}": v for k, v in self._seam.stats.items()}
        out["journal_backlog"] = self._seam.backlog()
        out["last_store_error"] = None if self._seam.last_error is None else str(self._seam.last_error)
        if self._worker is not None:
            out.update({f"worker_{k}": v for k, v in self._worker.stats.items()})
            out["worker_queue"] = self._worker.pending()
            out["worker_last_error"] = self._worker.last_error
        if self.job_queue is not None:  # `extraction.external_worker`: the shared queue, every writer's jobs
            out["jobs_waiting"] = self.job_queue.waiting()
        with self._stats_lock:
            out["extract_input_tokens"] = self.token_stats["input"]
            out["extract_output_tokens"] = self.token_stats["output"]
        out["extract_tokens"] = out["extract_input_tokens"] + out["extract_output_tokens"]
        return out

    def close(self, timeout: float = 30.0) -> None:
        """Finish what can be finished within `timeout`; whatever is left stays in the journal."""
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        with self.gate.urgent():
            if self._worker is not None:
                try:
                    self._worker.flush(timeout)
                except FlushTimeout:
                    pass
                self._worker.close()
            self._seam.close(timeout)


__all__ = [
    "key_id",
    "SYSTEM",
    "AddResult",
    "AuditItem",
    "ChangeSet",
    "Deletion",
    "Engine",
    "ExtractJob",
    "FlushTimeout",
    "LegalHold",
    "RepairReport",
    "derived_id",
    "episode_id",
    "hold_key",
    "lexical_documents",
]
