"""The one governed write seam: every write, change and delete of MeMo passes `Seam.commit`.

`commit(change)`:
1. refuses a destructive change (delete, purge, expire) in a scope under legal hold (`LegalHold`);
2. makes the change durable: appended to this process's journal and fsync'd (group commit);
   without a journal (an in-memory store) it is applied to the store at once;
3. makes it visible to this process: pending overlay (get/list/history) and the cached search
   indexes, updated in place. Raw turns (`ChangeSet.embed`) are journaled before they are
   embedded and the call returns, in the overlay at once (get / list / history) but not yet in
   the indexes: `settle()` embeds them and puts them there, in the applier during the caller's
   pause, or in the next search of their scope (with its query, one embedder call), whichever
   comes first. Every index read settles first, so a write is still seen at once;
4. hands it to the applier, a background thread that writes batches of journaled changes to the
   store in this order: **audit events first**, then history (tombstones included), then records
   and deletions, then the revision tokens, then an "applied" mark in the journal.

Every step of `apply` is idempotent (records, history entries and tombstones have fixed ids;
audit events carry their change id and a replay skips those already in the chain), so applying
an entry twice changes nothing. A crash at any point leaves the entry in the journal, and the
next open replays it (`recover`). No record reaches the store before its audit event.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..embed.base import Vectors
from ..errors import EmbeddingError, FlushTimeout, LegalHold
from ..governance.audit import AuditLog
from ..models import MemoryRecord, Scope
from ..search.index import IndexCache
from ..store.base import Store, revision_keys
from ..store.jobs import JobQueue
from .changes import ChangeSet, ExtractJob, final_state, queued, unembedded
from .gate import Gate
from .journal import Journal
from .pending import Pending
from .settler import Settler

log = logging.getLogger("shared_core.engine")

CHANGE_KEY = "change"  # the audit payload key naming the change set an event belongs to
SETTLE_WAIT = 5.0  # seconds a write waits for this process's earlier raw turns still being embedded


def _seen_by(change: ChangeSet, scope: Scope | None) -> bool:
    """A read of `scope` (None: every scope) can see records of this change."""
    return scope is None or any(scope.contains(r.scope) for r in change.records)


def hold_key(tenant: str, user: str | None) -> str:
    """Where a legal hold is kept in the store's meta (the governor sets it)."""
    return f"hold:{tenant}\x1f{user or ''}"


class Seam:
    def __init__(
        self,
        store: Store,
        audit: AuditLog | None,
        cache: IndexCache,
        journal: Journal | None,
        *,
        on_jobs: Callable[[Sequence[ExtractJob]], None] | None = None,
        queue: JobQueue | None = None,
        batch: int = 512,
        gate: Gate | None = None,
        embed: Callable[[Sequence[str], Sequence[str]], Vectors] | None = None,
        embed_wait: float = 0.0,
        embed_wait_texts: int = 0,
    ) -> None:
        """`embed_wait`, `embed_wait_texts`: a write of at most that many raw turns waits up to
        that many seconds for their vectors (`engine/settler.py`); 0: every write returns once
        journaled."""
        self.store = store
        self.audit = audit
        self.cache = cache
        self.journal = journal
        self.pending = Pending()
        self.on_jobs = on_jobs
        # `extraction.external_worker`: jobs go to the store's shared queue when their change is
        # applied (and leave it when the change completing them is), for `memo worker` processes
        self.queue = queue
        if queue is not None and journal is not None:
            journal.mark_handoff()
        self.batch = batch
        self.gate = gate or Gate(quiet=0.0, max_wait=0.0)
        self._inline = threading.RLock()  # without a journal: one apply at a time
        self.embed = embed
        self.embed_wait = embed_wait
        self.embed_wait_texts = embed_wait_texts
        self._settler = Settler()
        self._unembedded: list[tuple[int, ChangeSet]] = []  # journaled, waiting for their vectors
        self._unsettled = 0  # of those, not yet visible (taken by a settle still running included)
        self._inflight: dict[int, ChangeSet] = {}  # taken by a settle, embedding now
        self._cv = threading.Condition()
        self._applied = 0
        self._stop = False
        self.last_error: BaseException | None = None
        self.stats: dict[str, int] = {"changes": 0, "applied": 0, "batches": 0, "apply_errors": 0}
        self._thread: threading.Thread | None = None
        if journal is not None:
            self._thread = threading.Thread(target=self._run, name="memo-applier", daemon=True)
            self._thread.start()

    # ----------------------------------------------------------------------------- commit
    def commit(self, change: ChangeSet) -> None:
        """The one entry of every write. Returns once the change is durable and visible here
        (raw turns waiting for their vectors: visible to every read, which settles first)."""
        if change.is_empty():
            return
        self.check_hold(change.destructive_scopes())
        if self.journal is None:
            self._fill([change])
            upserts = list(zip(change.records, change.vectors))
            with self._inline:
                self.apply([change])
                self._to_index(change, upserts, [rid for d in change.deletions for rid in d.record_ids])
        elif change.embed:
            seq = self.journal.append(change)  # durable from here on: nothing below may fail the call
            self.pending.add(seq, change)  # get / list / history see them now; searches once settled
            with self._cv:
                self._unembedded.append((seq, change))
                self._unsettled += 1
                self.stats["changes"] += 1
                self._cv.notify_all()
            if self.embed_wait > 0 and len(change.records) <= self.embed_wait_texts:
                scopes = change.scopes()  # a chat exchange: embedded now, so the next search pays nothing

                def settle() -> None:
                    for scope in scopes:
                        self.settle(scope=scope)

                self._settler.run(settle, self.embed_wait)
        else:
            seq = self.journal.append(change)  # durable from here on: nothing below may fail the call
            try:  # this thread's earlier raw turns of these scopes become visible before this change
                for scope in change.scopes():
                    self.settle(scope=scope, timeout=SETTLE_WAIT)
            except Exception:  # the embedder fails or hangs: they wait for the applier, this change does not
                log.warning("raw turns wait for their vectors", exc_info=True)
            self._register(seq, change)
            with self._cv:
                self.stats["changes"] += 1
        if change.jobs and self.on_jobs is not None:
            self.on_jobs(change.jobs)

    def _register(self, seq: int, change: ChangeSet, *, settled: bool = False) -> None:
        """A journaled change becomes visible here and goes to the applier (`settled`: raw turns
        already in the overlay whose vectors came: the indexes only)."""
        if settled:
            self.pending.vectors_came(seq, change)
        else:
            self.pending.add(seq, change)
        try:  # a record a later change of this process already replaced or deleted stays out
            current = self.pending.lookup([r.id for r in change.records])
            upserts = [(r, v) for r, v in zip(change.records, change.vectors) if current.get(r.id, r) is r]
            self._to_index(change, upserts, [rid for d in change.deletions for rid in d.record_ids])
        except Exception:  # an index it cannot update in place is rebuilt at the next search
            self.cache.invalidate()
        with self._cv:
            self._cv.notify_all()

    def _fill(self, changes: Sequence[ChangeSet], extra: Sequence[str] = ()) -> Vectors:
        """Vectors for the records of `changes` still waiting for one, and for `extra` texts (a
        query), in one embedder call (one per side for an asymmetric embedder, E5). Returns the
        vectors of `extra`."""
        todo = unembedded(changes)
        if not todo and not extra:
            return np.zeros((0, 0), dtype=np.float32)
        if self.embed is None:
            raise RuntimeError("this seam has no embedder for raw turns journaled without vectors")
        vecs = self.embed([ch.records[i].index_text() for ch, i in todo], list(extra))
        if len(vecs) != len(todo) + len(extra):
            raise EmbeddingError(
                f"the embedder returned {len(vecs)} vectors for {len(todo) + len(extra)} texts"
            )
        for (ch, i), v in zip(todo, vecs):
            ch.vectors[i] = v
        return vecs[len(todo) :]

    def settle(
        self, extra: Sequence[str] = (), scope: Scope | None = None, timeout: float | None = None
    ) -> Vectors:
        """Embed this process's journaled raw turns still without vectors, with `extra` texts (a
        query) in the same embedder call, and make the turns visible (overlay, indexes, applier).
        Returns the vectors of `extra`. Called by every read before it looks, and by the applier.

        `scope`: only the turns a read of that scope can see (other scopes' turns stay for their
        own reads and the applier). Concurrent settles embed at once, each what it took; each
        returns only once every turn it needs, journaled before it started, is visible (taken by
        another settle included). `timeout`: how long to wait for turns another settle is
        embedding (`FlushTimeout` after it; an embedder call of this one is not interrupted)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._unsettled:  # nothing journaled by this process is waiting
            return self._fill([], extra)
        with self._cv:
            mine = {seq for seq, c in self._unembedded if _seen_by(c, scope)}
            mine |= {seq for seq, c in self._inflight.items() if _seen_by(c, scope)}
        out: Vectors | None = None
        while True:
            with self._cv:
                todo = [(seq, c) for seq, c in self._unembedded if seq in mine]
                self._unembedded = [(seq, c) for seq, c in self._unembedded if seq not in mine]
                self._inflight.update(todo)
            if todo or out is None:
                try:
                    vecs = self._fill([c for _, c in todo], extra if out is None else ())
                except BaseException:
                    with self._cv:  # they wait again, in order; a later settle takes them
                        self._unembedded = sorted(self._unembedded + todo, key=lambda sc: sc[0])
                        for seq, _ in todo:
                            del self._inflight[seq]
                        self._cv.notify_all()
                    raise
                out = vecs if out is None else out
                for seq, change in sorted(todo, key=lambda sc: sc[0]):
                    self._register(seq, change, settled=True)
                with self._cv:
                    for seq, _ in todo:
                        del self._inflight[seq]
                    self._unsettled -= len(todo)
                    self._cv.notify_all()
            with self._cv:
                while self._inflight.keys() & mine:  # taken by another settle: visible once it registers them
                    if deadline is not None and time.monotonic() > deadline:
                        raise FlushTimeout("raw turns of this process are still being embedded")
                    self._cv.wait(0.1)
                if not any(seq in mine for seq, _ in self._unembedded):  # none given back by a failure
                    return out

    def unsettled(self, scope: Scope) -> list[MemoryRecord]:
        """This process's raw turns a read of `scope` can see that are not yet in its indexes
        (waiting for their vectors, or being embedded now)."""
        with self._cv:
            changes = [c for _, c in self._unembedded] + list(self._inflight.values())
        return [r for c in changes for r in c.records if scope.contains(r.scope)]

    def _to_index(self, change: ChangeSet, upserts: list[Any], deletes: list[str]) -> None:
        if change.touch:
            for index in self.cache.cached():
                index.refresh(change.records)
        elif upserts or deletes:
            self.cache.apply(upserts, deletes)

    def check_hold(self, scopes: Iterable[Scope]) -> None:
        seen: set[tuple[str, str | None]] = set()
        for s in scopes:
            for key in ((s.tenant, s.user), (s.tenant, None)):
                if key in seen:
                    continue
                seen.add(key)
                if self.store.get_meta(hold_key(*key)):
                    who = f"user {key[1]!r} of tenant {key[0]!r}" if key[1] else f"tenant {key[0]!r}"
                    raise LegalHold(f"{who} is under legal hold: nothing of it may be deleted or expired")

    # ------------------------------------------------------------------------------ apply
    def apply(self, changes: Sequence[ChangeSet], skip_audit: frozenset[str] = frozenset()) -> None:
        """Write changes to the store: audit, history, records and deletions, revisions."""
        store = self.store
        dropped: list[str] = []
        if self.queue is not None:
            changes, dropped = self._still_wanted(changes)
        if self.audit is not None:
            items = [
                {
                    "actor": a.actor,
                    "action": a.action,
                    "scope": a.scope,
                    "record_id": a.record_id,
                    "decision": a.decision,
                    "reason": a.reason,
                    "payload": {**a.payload, CHANGE_KEY: ch.id},
                }
                for ch in changes
                if ch.id not in skip_audit
                for a in ch.audit
            ]
            if items:
                self.audit.append_many(items)
        # one entry per id (the store refuses a batch naming an id twice; the same entry twice is a replay)
        history = list({h.id: h for ch in changes for h in ch.history}.values())
        if history:
            store.append_history(history)
        upserts, deletes = final_state(changes)
        with_vec = [(r, v) for r, v in upserts.values() if v is not None]
        without = [r for r, v in upserts.values() if v is None]
        if with_vec:
            store.upsert([r for r, _ in with_vec], np.stack([v for _, v in with_vec]), bump=False)
        if without:
            store.upsert(without, None, bump=False)
        by_scope: dict[Scope, list[str]] = {}
        purge: dict[Scope, list[str]] = {}
        for rid, (scope, purged) in deletes.items():
            by_scope.setdefault(scope, []).append(rid)
            if purged:
                purge.setdefault(scope, []).append(rid)
        for scope, ids in purge.items():
            store.delete_history(scope, ids)
        for scope, ids in by_scope.items():
            store.delete(scope, ids)
        scopes = {r.scope for ch in changes if not ch.touch for r in ch.records}
        scopes |= {d.scope for ch in changes for d in ch.deletions}
        if scopes:
            self._bump(scopes)
        if self.queue is not None:  # after the turns they read are in the store
            self.queue.put([queued(j) for ch in changes for j in ch.jobs], time.time())
            self.queue.finish([j for ch in changes for j in ch.done_jobs] + dropped)

    def _still_wanted(self, changes: Sequence[ChangeSet]) -> tuple[list[ChangeSet], list[str]]:
        """A `memo worker`'s change that finishes jobs is written only while those jobs are queued
        and not cancelled: not after an erasure of their scope cancelled them (the erasure waits for
        them to leave the queue, which this does), nor when a replay finds them finished already."""
        keep: list[ChangeSet] = []
        dropped: list[str] = []
        for ch in changes:
            assert self.queue is not None
            if ch.done_jobs and not self.queue.live(ch.done_jobs):
                dropped.extend(ch.done_jobs)
                log.info("change %s dropped: its jobs were cancelled or finished", ch.id)
            else:
                keep.append(ch)
        return keep, dropped

    def _bump(self, scopes: Iterable[Scope]) -> None:
        """New revision tokens for the scopes' tenants and users. Cached indexes current at the
        token being replaced already hold this process's writes (in place) and stay valid; an
        unknown token there means another process wrote: those indexes are dropped."""
        for key in revision_keys(scopes):
            cur = self.store.get_meta(key) or "0"
            token = uuid.uuid4().hex
            self.store.set_meta(key, token)
            self.cache.retoken(key, cur, token)

    # ---------------------------------------------------------------------------- applier
    def _run(self) -> None:
        assert self.journal is not None
        backoff = 0.05
        while True:
            with self._cv:
                while not self._stop and self.pending.highest() <= self._applied and not self._unsettled:
                    self._cv.wait(0.5)
                if self._stop and self.pending.highest() <= self._applied and not self._unsettled:
                    return
            self.gate.wait_quiet()  # callers first: their writes are durable and visible already
            try:
                self.settle()  # raw turns journaled without vectors: embedded in the caller's pause
            except Exception as exc:  # the embedder fails: they stay journaled; retry with backoff
                if self.last_error is None:
                    log.error("MeMo could not embed journaled raw turns; retrying: %s", exc)
                self.last_error = exc
                time.sleep(backoff)
                backoff = min(2.0, backoff * 2)
                if self._stop and backoff >= 2.0:
                    return
                continue
            todo = self.pending.changes(self._applied, self.batch)
            with self._cv:  # still without vectors, or filled by a settle that has not registered them
                waiting = [i for i, (seq, c) in enumerate(todo) if seq in self._inflight or unembedded([c])]
            if waiting:  # journaled after the settle above: applied once they have their vectors
                todo = todo[: waiting[0]]
            if not todo:
                time.sleep(0.001)  # a writer between its journal append and its registration
                continue
            try:
                self.apply([c for _, c in todo])
            except Exception as exc:  # the store is failing: keep the entries, retry with backoff
                if self.last_error is None:
                    log.error(
                        "MeMo could not apply %d journaled change(s) to the store; retrying: %s",
                        len(todo),
                        exc,
                    )
                self.last_error = exc
                self.stats["apply_errors"] += 1
                time.sleep(backoff)
                backoff = min(2.0, backoff * 2)
                if self._stop and backoff >= 2.0:
                    return
                continue
            backoff = 0.05
            upto = todo[-1][0]
            self.journal.mark_applied(upto)
            self.pending.applied(upto)
            with self._cv:
                self._applied = upto
                self.last_error = None
                self.stats["applied"] += len(todo)
                self.stats["batches"] += 1
                self._cv.notify_all()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything journaled so far is in the store."""
        if self.journal is None:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        self.settle(timeout=timeout)
        target = self.pending.highest()
        with self._cv:
            self._cv.notify_all()
            while self._applied < target:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise FlushTimeout(
                        f"{target - self._applied} journaled changes not yet in the store"
                        + (f" (last store error: {self.last_error})" if self.last_error else "")
                    )
                self._cv.wait(0.1 if left is None else min(left, 0.1))

    def backlog(self) -> int:
        return max(0, self.pending.highest() - self._applied)

    # --------------------------------------------------------------------------- recovery
    def recover(self) -> tuple[int, list[ExtractJob]]:
        """Replay the journals of processes that died (this one's included, at open): their
        unapplied changes are applied now; their unfinished extraction jobs are queued again."""
        if self.journal is None:
            return 0, []
        replayed = 0
        segments = list(self.journal.orphans())
        done = {j for seg in segments for _, c in seg.changes for j in c.done_jobs}
        # jobs already handed to the shared queue, and those the replay below hands over
        done |= {
            j.id
            for seg in segments
            if seg.handoff
            for s, c in seg.changes
            if s <= seg.applied
            for j in c.jobs
        }
        if self.queue is not None:
            done |= {j.id for seg in segments for _, c in seg.unapplied() for j in c.jobs}
        jobs: dict[str, ExtractJob] = {}
        for seg in segments:  # oldest first
            todo = [c for _, c in seg.unapplied()]
            for s in range(0, len(todo), self.batch):
                part = todo[s : s + self.batch]
                self._fill(part)  # raw turns the dead process journaled before embedding them
                self.apply(part, skip_audit=self._audited(part))
            replayed += len(todo)
            for _, c in seg.changes:
                for j in c.jobs:
                    if j.id not in done:
                        jobs.setdefault(j.id, j)
        if jobs and self.queue is not None:  # a thread-mode journal's unfinished jobs: to the shared queue
            self.queue.put([queued(j) for j in jobs.values()], time.time())
            jobs = {}
        if jobs:  # carried into this process's journal (and queue) before the dead ones are deleted
            self.commit(ChangeSet(jobs=list(jobs.values())))
        for seg in segments:
            self.journal.discard(seg)
        return replayed, list(jobs.values())

    def _audited(self, changes: Sequence[ChangeSet]) -> frozenset[str]:
        """Change ids whose audit events are already in the chain (read from its recent tail)."""
        if self.audit is None:
            return frozenset()
        head = self.audit.head()
        if head is None:
            return frozenset()
        n = sum(len(c.audit) for c in changes)
        events = self.audit.events(max(0, head.seq - 4 * n - 1024))
        return frozenset(str(e.payload.get(CHANGE_KEY)) for e in events if e.payload.get(CHANGE_KEY))

    def close(self, timeout: float = 30.0) -> None:
        if self.journal is None:
            return
        try:
            self.flush(timeout)
        except Exception:  # a store or embedder that fails: the journal keeps it, the next open replays
            log.warning("closing with journaled changes not in the store", exc_info=True)
        self._settler.stop()
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.journal.close_or_remove()
