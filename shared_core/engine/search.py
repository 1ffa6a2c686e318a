"""Search and context: the scope's cached index (current with this process's writes at once,
with other processes' at their revision token) -> dense + lexical -> score -> MMR -> k / budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from .. import validate
from ..embed.base import Vectors
from ..errors import EmbeddingError
from ..extract.dates import query_time_range
from ..models import Hit, Kind, MemoryRecord, MetaValue, Scope, Status
from ..render import Context, pack
from ..search import aggregate
from ..search import score as scoring
from ..search.features import EVENT, Features
from ..search.index import ScopeIndex
from ..store.base import RecordFilter, revision_key
from .base import OPEN_ENGINES, lexical_documents
from .records import RecordsMixin


class SearchMixin(RecordsMixin):
    revision_ttl = 0.2  # seconds a scope's revision token is trusted before the store is asked again

    def search(
        self,
        query: str,
        scope: Any,
        *,
        k: int = 10,
        token_budget: int | None = None,
        kinds: Sequence[Kind | str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_superseded: bool = False,
        track_access: bool = False,
        metadata: dict[str, MetaValue] | None = None,
    ) -> list[Hit]:
        """Hits best first, score in [0, 1]. Never returns `pending_review`, expired or deleted memories."""
        hits, _ = self._search(
            query, scope, k, token_budget, kinds, since, until, include_superseded, track_access, metadata
        )
        return hits

    def context(
        self,
        query: str,
        scope: Any,
        *,
        token_budget: int | None = None,
        k: int = 50,
        kinds: Sequence[Kind | str] | None = None,
        metadata: dict[str, MetaValue] | None = None,
    ) -> Context:
        """The rendered, cited context block for a prompt, within `token_budget` tokens."""
        budget = validate.token_budget(token_budget) or self.config.default_token_budget
        _, ctx = self._search(query, scope, k, budget, kinds, None, None, False, False, metadata)
        assert ctx is not None
        return ctx

    def _search(
        self,
        query: str,
        scope: Any,
        k: int,
        token_budget: int | None,
        kinds: Sequence[Kind | str] | None,
        since: datetime | None,
        until: datetime | None,
        include_superseded: bool,
        track_access: bool,
        metadata: dict[str, MetaValue] | None = None,
    ) -> tuple[list[Hit], Context | None]:
        cfg = self.config
        sc = validate.scope(scope)
        q = validate.text(query, cfg.limits, "query")
        k = validate.k(k, cfg.limits)
        token_budget = validate.token_budget(token_budget)
        kind_set = validate.kinds(kinds)
        since, until = validate.window(since, until)
        include_superseded = validate.flag(include_superseded, "include_superseded")
        track_access = validate.flag(track_access, "track_access")
        meta = validate.metadata_filter(metadata, cfg.limits)
        statuses = {Status.ACTIVE} | ({Status.SUPERSEDED} if include_superseded else set())
        flt = RecordFilter(
            kinds=kind_set, statuses=frozenset(statuses), since=since, until=until, metadata=meta
        )
        now = self.clock.now()
        sw = cfg.scoring
        n = max(sw.candidates, k)
        # one cached index per kinds and statuses; a time window or metadata masks it
        base = flt.model_copy(update={"since": None, "until": None, "metadata": None})
        # the names the question holds, of the people of the index and of this process's raw turns
        # not in it yet; then those turns and the question are embedded in one call (or the
        # question alone, beside the turns' call already running), and the turns go in the index
        index = self._index(sc, base, settle=False)
        with index.lock:
            people = index.features.people()
        waiting = self._seam.unsettled(sc)
        if waiting:
            people |= Features(waiting).people()
        names, rest = scoring.named(q, people)
        vec = self._seam.settle([rest if sw.dense_without_names else q], sc)[0]
        if waiting:  # the same index, holding them now (unless another process wrote meanwhile)
            index = self._index(sc, base)
        with index.lock:
            window = None
            if since is not None or until is not None or meta:
                window = index.mask(flt)
            dense = index.dense(vec, n, window, context=sw.dense_context)
            lexical = index.lexical_ranks(q, n, window) if sw.lexical_enabled else []
            rank_d = {pos: rank for rank, (pos, _) in enumerate(dense)}
            rank_l = {pos: rank for rank, pos in enumerate(lexical)}
            positions = list(dict.fromkeys([*rank_d, *rank_l]))
            if not positions:  # an empty index, or nothing passes the filter
                return self._answer([], k, token_budget, track_access, sc)
            vecs = index.vectors[positions]  # a copy: rows change in place under the lock; MMR runs after it
            rows = index.features.table[positions]
            records = [index.records[p] for p in positions]
            who = [index.features.who[p] for p in positions]
        m = len(positions)
        dense_rank = np.fromiter((rank_d.get(p, -1) for p in positions), dtype=np.int64, count=m)
        lexical_rank = np.fromiter((rank_l.get(p, -1) for p in positions), dtype=np.int64, count=m)
        sims = scoring.similarities(vecs @ np.asarray(vec, dtype=np.float32).reshape(-1), self.floor)
        time_match = np.zeros(m, dtype=bool)
        span = query_time_range(q, now) if sw.time_aware else None
        if span is not None:
            event = rows[:, EVENT]
            time_match = (event >= span.start.timestamp()) & (event <= span.end.timestamp())
        about = np.fromiter((w in names for w in who), dtype=bool, count=m)
        scored = scoring.score_candidates(
            rows, dense_rank, lexical_rank, sims, about, time_match, now.timestamp(), sw
        )
        # a search without a budget returns the first k after MMR over the head: only those are built
        head = max(3 * k, 30) if token_budget is None else max(3 * k, 90)
        limit = None if token_budget is not None else (head if sw.mmr_enabled else k)
        ranked = scoring.best_first(records, vecs, dense_rank, lexical_rank, scored, sw, limit)
        if sw.mmr_enabled and len(ranked) > 1:  # diversify the head; the tail only matters for big budgets
            ranked = scoring.mmr(ranked[:head], sw.mmr_lambda, self.floor) + ranked[head:]
        return self._answer(ranked, k, token_budget, track_access, sc)

    def _answer(
        self,
        ranked: Sequence[scoring.ScoredCandidate],
        k: int,
        token_budget: int | None,
        track_access: bool,
        sc: Scope,
    ) -> tuple[list[Hit], Context | None]:
        """The first k as hits, packed into the budget when there is one; their use recorded."""
        hits = [Hit(record=c.record, score=round(c.score, 6), components=c.components) for c in ranked[:k]]
        ctx: Context | None = None
        if token_budget is not None:
            ctx = pack(hits, token_budget, self.config.render, collapse=self.config.scoring.collapse_sources)
            hits = ctx.hits
        if track_access and hits:
            self.record_use([h.record.id for h in hits], sc)
        return hits, ctx

    def record_use(self, record_ids: Sequence[str], scope: Any) -> None:  # implemented by WriteMixin
        raise NotImplementedError

    def _writes_alone(self) -> bool:
        """No other writer can change this store behind this engine's back: not a server, and no
        other open engine of this process on the same store (each has its own index cache)."""
        key = self._store_key
        return key is not None and not any(e is not self and e._store_key == key for e in list(OPEN_ENGINES))

    def get_many(self, sc: Scope, ids: Sequence[str]) -> list[MemoryRecord]:
        """Records by id: from the scope's cached index when this engine writes the store alone (no
        store read, so no wait behind the applier's store writes), the rest from the overlay and
        the store."""
        wanted = list(dict.fromkeys(ids))
        # with other writers a read by id stays exact (the store's), not bounded-stale like a search
        index = self._indexes.peek(_index_key(sc, RecordFilter())) if self._writes_alone() else None
        if index is None:
            return super().get_many(sc, wanted)
        with index.lock:
            found = {
                i: index.records[index.position[i]]
                for i in wanted
                if i in index.position and not aggregate.is_aggregate(i)
            }
        if self._seam.pending:  # raw turns not in the index until their vectors came: the overlay wins
            for i, r in self._seam.pending.lookup(wanted).items():
                found.pop(i, None)
                if r is not None:
                    found[i] = r
        rest = [i for i in wanted if i not in found]
        if rest:
            found.update((r.id, r) for r in super().get_many(sc, rest))
        return [found[i] for i in wanted if i in found and sc.contains(found[i].scope)]

    def list_records(
        self, scope: Any, flt: RecordFilter | None = None, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        """Records oldest first. Active records without a time window are read from the scope's
        cached index (stopping once the page is full); anything else from the store."""
        flt = flt or RecordFilter()
        if flt.statuses != frozenset({Status.ACTIVE}) or flt.since is not None or flt.until is not None:
            return super().list_records(scope, flt, limit, offset)
        sc = validate.scope(scope)
        limit = validate.limit(limit)
        skip = validate.offset(offset)
        try:
            index = self._index(sc, RecordFilter())
        except EmbeddingError:  # raw turns wait for an embedder that fails: the store and the overlay
            return super().list_records(scope, flt, limit, offset)
        out: list[MemoryRecord] = []
        with index.lock:
            for r in index.stored():
                if not flt.matches(r):
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append(r)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def recent_turns(self, scope: Any, session_id: str | None = None, limit: int = 20) -> list[MemoryRecord]:
        """The last `limit` raw turns of a session (or of the scope), oldest first. Read from the
        scope's cached index (the one default searches use), so its cost does not grow with the
        store: no store read while the scope's revision is unchanged."""
        sc = validate.scope(scope)
        limit = validate.limit(limit) or 0
        session_id = validate.optional_identifier(session_id, "session_id")
        index = self._index(sc, RecordFilter())
        if session_id is not None:
            return index.last_turns(session_id, limit)
        with index.lock:
            turns = [r for r in index.records if r.kind is Kind.EPISODE]
        turns.sort(key=lambda r: (r.event_time, r.created_at))
        return turns[-limit:] if limit else turns

    def _index(self, sc: Scope, flt: RecordFilter, settle: bool = True) -> ScopeIndex:
        """The search index of a scope and filter: the store's records with this process's
        pending writes merged in; cached until another process changes the scope's revision.
        `settle`: this process's raw turns journaled without vectors are embedded and in it first
        (without: they come with the next settle, in place)."""
        ctx = self.config.scoring.lexical_context
        if settle:
            self._seam.settle(scope=sc)

        def build() -> ScopeIndex:
            pending, gone = self._seam.pending.in_scope(sc) if self._seam.pending else ([], set())
            records, vectors = self._store.snapshot(sc, flt)
            if pending or gone:
                records, vectors = self._merge_pending(sc, flt, records, vectors, pending, gone)
            return ScopeIndex(
                records,
                vectors,
                lexical_documents(records, ctx),
                with_context=ctx,
                aggregate_items=self.config.scoring.aggregate_items,
            )

        token = self._indexes.revision(revision_key(sc), lambda: self._store.revision(sc), self.revision_ttl)
        return self._indexes.get(_index_key(sc, flt), token, build, scope=sc, flt=flt)

    def _merge_pending(
        self,
        sc: Scope,
        flt: RecordFilter,
        records: list[MemoryRecord],
        vectors: Vectors,
        pending: list[tuple[MemoryRecord, Vectors | None]],
        gone: set[str],
    ) -> tuple[list[MemoryRecord], Vectors]:
        rows: dict[str, tuple[MemoryRecord, Vectors | None]] = {
            r.id: (r, vectors[i]) for i, r in enumerate(records) if r.id not in gone
        }
        for r, v in pending:
            old = rows.pop(r.id, None)
            if flt.matches(r):
                rows[r.id] = (r, v if v is not None else (old[1] if old else None))
        missing = [rid for rid, (_, v) in rows.items() if v is None]
        if missing:  # a status change of a record outside this filter until now: its stored vector
            got = self._store.fetch(sc, missing)
            for rid in missing:
                if rid in got:
                    rows[rid] = (rows[rid][0], got[rid][1])
                else:
                    rows.pop(rid)
        ordered = sorted(rows.values(), key=lambda rv: rv[0].created_at)
        if not ordered:
            return [], np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
        return [r for r, _ in ordered], np.stack([np.asarray(v, dtype=np.float32) for _, v in ordered])


def _index_key(sc: Scope, flt: RecordFilter) -> str:
    """Where the index of a scope and filter is cached."""
    return sc.key() + "|" + flt.model_dump_json()
