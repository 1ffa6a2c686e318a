"""What a search reads: one scope's records, their vectors and their BM25 index, cached by revision.

Building an index costs one read of the scope (records and vectors together). After that, a
question costs one revision check, one matrix product (exact cosine, no approximate graph) and
one BM25 lookup. This process's own writes update a cached index in place (`IndexCache.apply`:
vectors appended, BM25 postings added or removed), so a search right after a write sees it
without a reload; an entry is rebuilt only when the scope's revision token changes to one this
process did not write (another process's write). Entries are evicted least recently used
beyond a budget of records.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ..embed.base import Vectors
from ..models import Kind, MemoryRecord, Scope
from ..store.base import RecordFilter, revision_key
from . import aggregate
from .features import Features
from .lexical import LexicalIndex


class ScopeIndex:
    """One scope for search: records (oldest first), vectors, BM25. Changed only in place by
    `upsert`/`remove` under `lock`, which searches hold while they read it.

    With `aggregate_items` > 0 it also holds derived rows (`search/aggregate.py`): per subject and
    group of memories, one line listing the newest `aggregate_items` of them, recomputed by every
    change of one of them. Their ids start with `aggregate.PREFIX`; `stored()` leaves them out."""

    def __init__(
        self,
        records: Sequence[MemoryRecord],
        vectors: Vectors,
        lexical_docs: Sequence[tuple[str, str]],
        *,
        with_context: bool = False,
        aggregate_items: int = 0,
    ) -> None:
        self.records = list(records)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        if len(self.vectors) != len(self.records) or (self.records and self.vectors.ndim != 2):
            raise ValueError("one vector per record is required")
        self.position = {r.id: i for i, r in enumerate(self.records)}
        self.features = Features(self.records)  # what ranking reads, row by row with `records`
        self.lexical = LexicalIndex(lexical_docs)
        self.with_context = with_context
        self._last_turn: dict[str | None, str] = {}  # session -> text of its latest raw turn
        # session -> its raw turns as (event time, created at, id), kept sorted: the last turns of a
        # session (chat history) are a slice, whatever the size of the scope
        self._turns: dict[str | None, list[tuple[datetime, datetime, str]]] = {}
        for r in self.records:
            if r.kind is Kind.EPISODE:
                self._last_turn[r.provenance.session_id] = r.text
                self._turns.setdefault(r.provenance.session_id, []).append(_turn_key(r))
        for turns in self._turns.values():
            turns.sort()
        # per record, the position of the raw turn before it in its session (itself for a session's
        # first turn, an assistant's turn and a memory): the context `dense` reads
        self._before = np.arange(max(16, 2 * len(self.records)), dtype=np.int64)
        for session in self._turns:
            self._link(session)
        # filter (JSON) -> (filter, which records pass it): search windows, kept current in place
        self._masks: OrderedDict[str, tuple[RecordFilter, np.ndarray]] = OrderedDict()
        self.lock = threading.RLock()
        self.aggregate_items = aggregate_items
        self._members: dict[aggregate.Key, set[str]] = {}  # aggregate -> ids of its memories
        self._key: dict[str, aggregate.Key] = {}  # memory id -> its aggregate
        self.aggregates = 0  # derived rows held
        if aggregate_items > 0:
            for r in self.records:
                self._track(r)
            self._reaggregate(set(self._members))

    def stored(self) -> list[MemoryRecord]:
        """The records that exist in the store (no aggregate rows), oldest first."""
        if not self.aggregates:
            return list(self.records)
        return [r for r in self.records if not aggregate.is_aggregate(r.id)]

    def _track(self, rec: MemoryRecord) -> set[aggregate.Key]:
        """Move a memory to the aggregate it belongs to now; the aggregates it changes."""
        changed = self._untrack(rec.id)
        new = aggregate.key_of(rec)
        if new is not None:
            self._key[rec.id] = new
            self._members.setdefault(new, set()).add(rec.id)
            changed.add(new)
        return changed

    def _untrack(self, record_id: str) -> set[aggregate.Key]:
        old = self._key.pop(record_id, None)
        if old is None:
            return set()
        self._members[old].discard(record_id)
        return {old}

    def _reaggregate(self, keys: set[aggregate.Key]) -> None:
        """Recompute these aggregates from their memories now in the index (or drop them)."""
        drop = []
        for key in keys:
            members = sorted(self._members.get(key, ()))
            agg_id = aggregate.aggregate_id(key)
            if len(members) < aggregate.MIN_MEMBERS:
                if not members:
                    self._members.pop(key, None)
                if agg_id in self.position:
                    drop.append(agg_id)
                continue
            pos = [self.position[m] for m in members]
            rec, vec = aggregate.build(
                key, [self.records[p] for p in pos], self.vectors[pos], self.aggregate_items
            )
            if agg_id not in self.position:
                self.aggregates += 1
            self.upsert(rec, vec)
        if drop:
            self.aggregates -= len(drop)
            self.remove(drop)

    def _passes(self, flt: RecordFilter, rec: MemoryRecord) -> bool:
        """A filter's verdict on a row; an aggregate never passes a time window (it lists memories
        of any time: its own date is its newest memory's)."""
        if (flt.since is not None or flt.until is not None) and aggregate.is_aggregate(rec.id):
            return False
        return flt.matches(rec)

    def mask(self, flt: RecordFilter) -> np.ndarray:
        """Which records pass `flt` (metadata, time window): computed once per filter, then kept
        current by every change of the index (the last `MASKS` filters)."""
        key = flt.model_dump_json()
        with self.lock:
            got = self._masks.get(key)
            if got is not None:
                self._masks.move_to_end(key)
                return got[1]
            m = np.fromiter((self._passes(flt, r) for r in self.records), dtype=bool, count=len(self.records))
            self._masks[key] = (flt, m)
            if len(self._masks) > MASKS:
                self._masks.popitem(last=False)
            return m

    def __len__(self) -> int:
        return len(self.records)

    def dense(
        self, query: Vectors, n: int, mask: np.ndarray | None = None, context: float = 0.0
    ) -> list[tuple[int, float]]:
        """The `n` nearest records (only where `mask` is true) as (position, cosine similarity), best
        first (ties: older first). `context` > 0: a user's raw turn is chosen by its similarity
        plus `context` times that of the turn before it in its session (a reply such as "A
        sunset!" is found through the question it answers); any other record (a session's first
        turn, a turn without a session, an assistant's turn, a memory) counts its own similarity
        twice, so a reply is not favoured over the rest. No new embedding: the vectors are those stored."""
        if not self.records or n <= 0:
            return []
        sims = self.vectors @ np.asarray(query, dtype=np.float32).reshape(-1)
        order = sims + context * sims[self._before[: len(sims)]] if context > 0 else sims
        if mask is not None and not mask.all():
            n = min(n, int(mask.sum()))
            if n == 0:
                return []
            order = np.where(mask, order, -np.inf)
        n = min(n, len(order))
        top = np.argpartition(-order, n - 1)[:n] if n < len(order) else np.arange(len(order))
        top = top[np.lexsort((top, -order[top]))]
        return [(int(i), float(sims[i])) for i in top]

    def lexical_ranks(self, query: str, n: int, mask: np.ndarray | None = None) -> list[int]:
        """Positions of the `n` best BM25 matches (only where `mask` is true), best first."""
        if mask is None or mask.all():  # a mask that keeps everything costs nothing
            return [self.position[rid] for rid, _ in self.lexical.search(query, n)]
        want = max(4 * n, 16)  # the best of the whole index, until `n` of them pass the mask
        while True:
            got = self.lexical.search(query, want)
            found = [p for p in (self.position[rid] for rid, _ in got) if mask[p]]
            if len(found) >= n or len(got) < want:
                return found[:n]
            want *= 4

    def last_turns(self, session_id: str, limit: int) -> list[MemoryRecord]:
        """The last `limit` raw turns of a session (all when `limit` is 0), oldest first."""
        with self.lock:
            keys = self._turns.get(session_id, [])
            return [self.records[self.position[k[2]]] for k in (keys[-limit:] if limit else keys)]

    def _link(self, session: str | None, start: int = 0) -> None:
        """Point each user turn of `session` from its `start`-th on at the turn before it (a new
        latest turn: one entry; a late one: the rest of its session)."""
        turns = self._turns.get(session, [])
        before = self.position[turns[start - 1][2]] if start > 0 else -1
        for key in turns[start:]:
            p = self.position[key[2]]
            self._before[p] = before if self._follows(p, before) else p
            before = p

    def _follows(self, p: int, before: int) -> bool:
        """Whether the turn at `p` answers the one at `before`: a user's turn, in a named session,
        of the same scope (an index read by tenant holds several users' sessions)."""
        rec = self.records[p]
        return (
            before >= 0
            and rec.provenance.session_id is not None
            and rec.metadata.get("role") == "user"
            and self.records[before].scope == rec.scope
        )

    def _forget_turn(self, rec: MemoryRecord) -> None:
        turns = self._turns.get(rec.provenance.session_id)
        if turns is not None and rec.kind is Kind.EPISODE:
            key = _turn_key(rec)
            i = bisect.bisect_left(turns, key)
            if i < len(turns) and turns[i] == key:
                del turns[i]

    def refresh(self, records: Sequence[MemoryRecord]) -> None:
        """Replace records whose searchable content did not change (access counts and times: not
        their session, role or time, so the turn links stay as they are)."""
        with self.lock:
            for r in records:
                i = self.position.get(r.id)
                if i is not None:
                    self.records[i] = r
                    self.features.set(i, r)

    def vector_of(self, record_id: str) -> Vectors | None:
        i = self.position.get(record_id)
        return None if i is None else self.vectors[i].copy()

    def upsert(self, rec: MemoryRecord, vec: Vectors | None) -> bool:
        """Add or replace one record; False when a new record comes without a vector (the
        caller drops this index: it is rebuilt from the store at the next search)."""
        with self.lock:
            i = self.position.get(rec.id)
            if i is not None:
                old = self.records[i]
                self._forget_turn(old)
                self.records[i] = rec
                self._remember_turn(rec)
                if old.kind is Kind.EPISODE or rec.kind is Kind.EPISODE:
                    self._before[i] = i
                    self._link(old.provenance.session_id)
                    self._link(rec.provenance.session_id)
                self.features.set(i, rec)
                if vec is not None:  # in place: every reader holds `lock`
                    self.vectors[i] = vec
                for flt, m in self._masks.values():
                    m[i] = self._passes(flt, rec)
                self.lexical.add(rec.id, self._lexical_text(rec, new=False))
                if self.aggregate_items > 0 and not aggregate.is_aggregate(rec.id):
                    self._reaggregate(self._track(rec))
                return True
            if vec is None:
                return False
            self._append_vector(np.asarray(vec, dtype=np.float32).reshape(-1))
            n = len(self.records)
            self.position[rec.id] = n
            self.records.append(rec)
            self.features.append(rec)
            if n >= len(self._before):
                self._before = np.concatenate([self._before, np.arange(n, 2 * n + 16, dtype=np.int64)])
            self._before[n] = n
            self._remember_turn(rec)
            if rec.kind is Kind.EPISODE:
                session = rec.provenance.session_id
                self._link(session, bisect.bisect_left(self._turns[session], _turn_key(rec)))
            for key, (flt, m) in self._masks.items():
                self._masks[key] = (flt, np.append(m, self._passes(flt, rec)))
            self.lexical.add(rec.id, self._lexical_text(rec, new=True))
            if self.aggregate_items > 0 and not aggregate.is_aggregate(rec.id):
                self._reaggregate(self._track(rec))
            return True

    def _remember_turn(self, rec: MemoryRecord) -> None:
        if rec.kind is Kind.EPISODE:
            bisect.insort(self._turns.setdefault(rec.provenance.session_id, []), _turn_key(rec))

    def _append_vector(self, v: Vectors) -> None:
        """Amortised O(1): rows go into a buffer with spare capacity; `vectors` is a view of its
        first rows (a search holding the previous view is unaffected)."""
        n = len(self.records)
        buf: np.ndarray | None = getattr(self, "_buf", None)
        if buf is None or len(buf) <= n or buf.shape[1] != len(v) or self.vectors.base is not buf:
            buf = np.empty((max(16, 2 * (n + 1)), len(v)), dtype=np.float32)
            if n:
                buf[:n] = self.vectors
            self._buf = buf
        assert buf is not None
        buf[n] = v
        self.vectors = buf[: n + 1]

    def _lexical_text(self, rec: MemoryRecord, new: bool) -> str:
        text = rec.index_text()
        if not self.with_context or rec.kind is not Kind.EPISODE:
            return text
        session = rec.provenance.session_id
        before = self._last_turn.get(session, "") if new else ""
        if new:
            self._last_turn[session] = rec.text
        return f"{text} {before}"

    def remove(self, ids: Sequence[str]) -> None:
        with self.lock:
            gone = [self.position[i] for i in ids if i in self.position]
            if not gone:
                return
            touched = {
                self.records[p].provenance.session_id for p in gone if self.records[p].kind is Kind.EPISODE
            }
            for p in gone:
                self._forget_turn(self.records[p])
            keep = np.ones(len(self.records), dtype=bool)
            keep[gone] = False
            # links shift with the positions; a link to a removed turn is redone in its session
            moved = (np.cumsum(keep) - 1)[self._before[: len(keep)][keep]]
            self._before = np.arange(max(16, 2 * len(moved)), dtype=np.int64)
            self._before[: len(moved)] = moved
            for key, (flt, m) in self._masks.items():
                self._masks[key] = (flt, m[keep])
            self.records = [r for r, k in zip(self.records, keep) if k]
            self.vectors = self.vectors[keep]
            self.features.keep(keep)
            self.position = {r.id: i for i, r in enumerate(self.records)}
            for session in touched:
                self._link(session)
            for i in ids:
                self.lexical.remove(i)
            if self.aggregate_items > 0:
                changed: set[aggregate.Key] = set()
                for i in ids:
                    if not aggregate.is_aggregate(i):
                        changed |= self._untrack(i)
                self._reaggregate(changed)


MASKS = 32  # filters whose masks a scope index keeps


def _turn_key(rec: MemoryRecord) -> tuple[datetime, datetime, str]:
    return (rec.event_time, rec.created_at, rec.id)


@dataclass
class _Entry:
    scope: Scope
    flt: RecordFilter
    revision: str
    index: ScopeIndex


class IndexCache:
    """`ScopeIndex` entries by key, valid while their revision token is current."""

    def __init__(self, max_records: int = 50_000, max_entries: int = 256) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_records = max_records
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # revision key -> (token, when read)
        # writes applied while an index is being built, replayed on it before it is cached
        self._building: dict[
            str, list[list[tuple[Sequence[tuple[MemoryRecord, Vectors | None]], Sequence[str]]]]
        ] = {}

    def get(
        self,
        key: str,
        revision: str,
        build: Callable[[], ScopeIndex],
        *,
        scope: Scope | None = None,
        flt: RecordFilter | None = None,
    ) -> ScopeIndex:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit.revision == revision:
                self._entries.move_to_end(key)
                return hit.index
            log: list[tuple[Sequence[tuple[MemoryRecord, Vectors | None]], Sequence[str]]] = []
            self._building.setdefault(key, []).append(log)
        try:
            index = build()  # outside the lock: other scopes stay readable while this one loads
        except BaseException:
            with self._lock:
                self._building[key].remove(log)
            raise
        entry = _Entry(scope or Scope(user="?"), flt or RecordFilter(), revision, index)
        with self._lock:
            self._building[key].remove(log)
            if not self._building[key]:
                del self._building[key]
            ok = all(self._apply_one(entry, u, d) for u, d in log)
            if not ok:
                return index  # a write it cannot take in place: used once, not cached
            self._entries[key] = entry
            self._entries.move_to_end(key)
            total = sum(len(e.index) for e in self._entries.values())
            while len(self._entries) > 1 and (
                total > self._max_records or len(self._entries) > self._max_entries
            ):
                _, old = self._entries.popitem(last=False)  # the newest entry always stays
                total -= len(old.index)
        return index

    def peek(self, key: str) -> ScopeIndex | None:
        """The index cached under `key`, without reading the store or building one. Current only
        when nothing but this process's own writes (applied in place) can have changed the scope:
        the caller decides."""
        with self._lock:
            e = self._entries.get(key)
            return None if e is None else e.index

    def revision(self, rev_key: str, read: Callable[[], str], ttl: float) -> str:
        """The scope's revision token, read from the store at most every `ttl` seconds (another
        process's write is seen within `ttl`; this process's own writes update it at once)."""
        now = time.monotonic()
        with self._lock:
            got = self._tokens.get(rev_key)
            if got is not None and now - got[1] < ttl:
                return got[0]
        token = read()
        with self._lock:
            self._tokens[rev_key] = (token, now)
        return token

    def forget_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def cached(self) -> list[ScopeIndex]:
        with self._lock:
            return [e.index for e in self._entries.values()]

    def apply(self, upserts: Sequence[tuple[MemoryRecord, Vectors | None]], deletes: Sequence[str]) -> None:
        """This process's own write, applied in place to every cached index it concerns (and
        logged for indexes being built)."""
        with self._lock:
            entries = list(self._entries.items())
            for logs in self._building.values():
                for log in logs:
                    log.append((upserts, deletes))
        stale = [key for key, e in entries if not self._apply_one(e, upserts, deletes)]
        if stale:
            with self._lock:
                for key in stale:
                    self._entries.pop(key, None)

    @staticmethod
    def _apply_one(
        e: _Entry, upserts: Sequence[tuple[MemoryRecord, Vectors | None]], deletes: Sequence[str]
    ) -> bool:
        mine = [(r, v) for r, v in upserts if e.scope.contains(r.scope)]
        gone = list(deletes) + [r.id for r, _ in mine if not e.flt.matches(r)]
        with e.index.lock:
            if gone:
                e.index.remove(gone)
            for r, v in mine:
                if e.flt.matches(r) and not e.index.upsert(r, v):
                    return False
        return True

    def retoken(self, rev_key: str, old: str | None, new: str) -> None:
        """This process wrote token `new` over `old` for `rev_key`: entries current at `old` (they
        already hold this process's writes) stay valid at `new`; others are dropped."""
        with self._lock:
            self._tokens[rev_key] = (new, time.monotonic())
            for key, e in list(self._entries.items()):
                if revision_key(e.scope) != rev_key or e.revision == new:
                    continue
                if old is not None and e.revision == old:
                    e.revision = new
                else:
                    del self._entries[key]

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tokens.clear()
