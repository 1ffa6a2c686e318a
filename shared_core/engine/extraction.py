"""Extraction and consolidation: turns -> candidate memories -> policy -> add/merge/supersede.

Run in the background worker (`worker.py`) for queued jobs, or inline with
`add_messages(..., wait=True)`. Neighbours for consolidation come from the scope's search
index, which already holds this process's own pending writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np

from .._boundary import translate
from ..consolidate import Add, Merge, Skip, Supersede, decide
from ..embed.base import Vectors
from ..extract.base import Candidate as ExtractCandidate
from ..extract.base import ExtractInput, says_something
from ..extract.llm import LLMExtractor
from ..governance.validity import judge
from ..models import Kind, MemoryRecord, Scope, Status
from ..search import aggregate
from ..search import score as scoring
from ..store.base import RecordFilter
from .base import AddResult, derived_id
from .changes import AuditItem, ChangeSet, ExtractJob
from .search import SearchMixin

MEMORY_KINDS = frozenset(k for k in Kind if k is not Kind.EPISODE)


class JobToken:
    """Between the worker and one extraction run: `wanted` is cleared (under the engine's write
    lock) when the worker gives up on the run; `committed` is set (under the same lock) once its
    change set is journaled. So a run is either committed or abandoned, never both."""

    def __init__(self, still_held: Callable[[], bool] | None = None) -> None:
        self._wanted = True
        self._still_held = still_held  # `memo worker`: its claim on the jobs still stands
        self.committed = False

    @property
    def wanted(self) -> bool:
        """Asked under the write lock just before the commit: a run whose jobs were taken away
        (given up, or purged by an erasure of their scope) never commits."""
        return self._wanted and (self._still_held is None or self._still_held())

    @wanted.setter
    def wanted(self, value: bool) -> None:
        self._wanted = value


class ExtractionMixin(SearchMixin):
    def _extract(
        self, episodes: Sequence[MemoryRecord], roles: Sequence[str], sid: str | None, now: datetime
    ) -> list[ExtractCandidate]:
        inputs = [
            ExtractInput(
                message_id=e.provenance.source_message_ids[0],
                role=role,  # type: ignore[arg-type]
                speaker=e.provenance.speaker,
                text=e.text,
                timestamp=e.event_time,
                session_id=e.provenance.session_id if sid is None else sid,
            )
            for e, role in zip(episodes, roles)
            if role in ("user", "assistant")
        ]
        if not inputs:
            return []
        with translate("extraction", self.extractor.name):  # a custom extractor's bug is an ExtractionError
            if isinstance(self.extractor, LLMExtractor):
                got = self.extractor.extract_with_usage(inputs, now=now)
                self.count_tokens(got.input_tokens, got.output_tokens)
                return got.candidates
            return self.extractor.extract(inputs, now=now)

    def count_tokens(self, input_tokens: int, output_tokens: int) -> None:
        """Add an extractor call's token use to the engine's stats (`extract_input_tokens`, ...)."""
        with self._stats_lock:
            self.token_stats["input"] += input_tokens
            self.token_stats["output"] += output_tokens

    def _screen(
        self,
        candidates: Sequence[ExtractCandidate],
        sc: Scope,
        now: datetime,
        result: AddResult,
        first: int,
        actor: str,
    ) -> list[tuple[MemoryRecord, Status, str]]:
        """Candidates as records, each with the policy's verdict: kept, held for review, or dropped."""
        kept: list[tuple[MemoryRecord, Status, str]] = []
        seen: set[str] = set()
        for c in candidates:
            key = " ".join(c.text.lower().split())
            if key in seen:  # one statement read two ways (job and employer): keep the first reading
                continue
            if not says_something(c.text):  # a fragment ("Melanie loves to") would only take a slot
                result.dropped.append(c.text)
                continue
            seen.add(key)
            rec = c.to_record(  # created after the turns, in extraction order (a stable tie-break)
                sc,
                now=now + timedelta(microseconds=first + len(seen)),
                extractor=self.extractor.name,
                extractor_version=self.extractor.version,
            )
            # the same statement from the same messages always gets the same id: a retried write (the
            # client re-sends turns it saw no answer for) or a re-run job never extracts it twice
            rid = derived_id(
                "extracted", sc.key(), *sorted(rec.provenance.source_message_ids), rec.kind.value, key
            )
            rec = rec.model_copy(
                update={"id": rid, "provenance": rec.provenance.model_copy(update={"actor": actor})}
            )
            verdict = judge(rec, self.config.policy)
            if verdict.verdict == "drop":
                result.dropped.append(rec.text)
                continue
            status = Status.PENDING_REVIEW if verdict.verdict == "review" else Status.ACTIVE
            kept.append((rec.model_copy(update={"status": status}), status, verdict.reason))
        if kept:
            have = {r.id for r in self.get_many(sc, [r.id for r, _, _ in kept])}
            kept = [k for k in kept if k[0].id not in have]
        return kept

    def _add_and_extract(
        self,
        episodes: list[MemoryRecord],
        roles: list[str],
        sc: Scope,
        sid: str | None,
        now: datetime,
        actor: str,
        result: AddResult,
    ) -> None:
        """Inline: extract, then embed turns and memories in one batch, then one change set. If the
        extractor fails, the raw turns are committed alone before the error is raised."""
        try:
            found = self._extract(episodes, roles, sid, now)
        except BaseException:
            vecs = self._embed([e.index_text() for e in episodes])
            raw = ChangeSet(actor=actor)
            for e, v in zip(episodes, vecs):
                raw.add(e, v, audit=AuditItem.of("write", e, "keep", "raw turn", actor))
            self._seam.commit(raw)
            raise
        kept = self._screen(found, sc, now, result, len(episodes), actor)
        vecs = self._embed([e.index_text() for e in episodes] + [r.index_text() for r, _, _ in kept])
        change = ChangeSet(actor=actor)
        for e, v in zip(episodes, vecs):
            change.add(e, v, audit=AuditItem.of("write", e, "keep", "raw turn", actor))
        with self._write_lock:
            self._consolidate(kept, vecs[len(episodes) :], sc, now, actor, result, MEMORY_KINDS, change)
            self._seam.commit(change)

    def run_jobs(self, jobs: Sequence[ExtractJob], token: JobToken | None = None) -> int:
        """Extract and consolidate queued jobs of one scope: one extractor call for all their turns,
        one embedder call for all kept memories, one change set that also completes the jobs
        (committed only while `token.wanted`: a run given up after its timeout never commits)."""
        if not jobs:
            return 0
        sc = jobs[0].scope
        now = self.clock.now()
        episodes = [e for j in jobs for e in j.episodes]
        roles = [r for j in jobs for r in j.roles]
        result = AddResult()
        found = self._extract(episodes, roles, None, now)
        kept = self._screen(found, sc, now, result, len(episodes), jobs[0].actor)
        vecs = self._embed([r.index_text() for r, _, _ in kept]) if kept else np.zeros((0, 1), np.float32)
        change = ChangeSet(actor=jobs[0].actor, done_jobs=[j.id for j in jobs])
        with self._write_lock:
            if token is not None and not token.wanted:
                return 0
            self._consolidate(kept, vecs, sc, now, jobs[0].actor, result, MEMORY_KINDS, change)
            self._seam.commit(change)
            if token is not None:
                token.committed = True
        return len(result.added) + len(result.pending_review)

    def _neighbours(
        self, sc: Scope, vecs: Vectors, kinds: frozenset[Kind], k: int
    ) -> list[list[tuple[MemoryRecord, float]]]:
        """Nearest existing memories (active or in review) for each vector, as (record, cosine distance)."""
        flt = RecordFilter(kinds=kinds, statuses=frozenset({Status.ACTIVE, Status.PENDING_REVIEW}))
        index = self._index(sc, flt)
        with index.lock:
            out = []
            for v in vecs:  # aggregate rows are derived from these memories, never their duplicates
                near = [(index.records[i], 1.0 - s) for i, s in index.dense(v, k + index.aggregates)]
                out.append([(r, d) for r, d in near if not aggregate.is_aggregate(r.id)][:k])
        return out

    def _consolidate(
        self,
        kept: Sequence[tuple[MemoryRecord, Status, str]],
        vecs: Vectors,
        sc: Scope,
        now: datetime,
        actor: str,
        result: AddResult,
        kinds: frozenset[Kind],
        change: ChangeSet,
    ) -> list[MemoryRecord]:
        """Compare a batch of new memories with their neighbours, decide add / merge / supersede /
        skip for each, and add the outcome to `change`. Returns the record standing for each input."""
        ext = self.config.extraction
        standing: list[MemoryRecord] = []
        writes: list[tuple[MemoryRecord, Vectors | None]] = []
        batch: list[tuple[MemoryRecord, Vectors]] = []  # records written in this call, for intra-batch dedup
        near: list[list[tuple[MemoryRecord, float]]] = [[] for _ in kept]
        if ext.consolidate and kept:
            near = self._neighbours(sc, vecs, kinds, ext.neighbours)
        updated: dict[str, MemoryRecord] = {}  # stored neighbours changed earlier in this call
        for (rec, status, reason), vec, found in zip(kept, vecs, near):
            neighbours: list[tuple[MemoryRecord, float]] = []
            if ext.consolidate:
                pending = {r.id: (r, scoring.similarity(1.0 - float(vec @ v), self.floor)) for r, v in batch}
                for r, dist in found:
                    cur = pending.pop(r.id)[0] if r.id in pending else r
                    neighbours.append((updated.get(r.id, cur), scoring.similarity(dist, self.floor)))
                neighbours += list(pending.values())
            d = (
                decide(rec, neighbours, now=now, duplicate_threshold=ext.duplicate_threshold)
                if ext.consolidate
                else Add(record=rec)
            )
            if isinstance(d, Skip):
                result.dropped.append(rec.text)
                twin = [r for r, _ in neighbours if r.id == d.duplicate_of]
                standing.append(twin[0] if twin else rec)
            elif isinstance(d, Add):
                standing.append(d.record)
                writes.append((d.record, vec))
                batch.append((d.record, vec))
                change.history.append(self._history(d.record, "add", actor, reason))
                verdict = "review" if status is Status.PENDING_REVIEW else "keep"
                change.audit.append(AuditItem.of("write", d.record, verdict, reason, actor))
                (result.pending_review if status is Status.PENDING_REVIEW else result.added).append(d.record)
            elif isinstance(d, Merge):
                # the next candidate of this call merging into the same record sees this version
                updated[d.target.id] = d.target
                batch = [(d.target if r.id == d.target.id else r, v) for r, v in batch]
                standing.append(d.target)
                writes.append((d.target, self._vec_of(batch, d.target.id)))
                change.history.append(
                    self._history(d.target, "merge", actor, f"same as new memory: {rec.text[:80]}")
                )
                change.audit.append(AuditItem.of("update", d.target, "merge", "duplicate merged", actor))
                result.merged.append(d.target)
            elif isinstance(d, Supersede):
                updated[d.old.id] = d.old
                batch = [(d.old if r.id == d.old.id else r, v) for r, v in batch]
                standing.append(d.new)
                writes.append((d.old, self._vec_of(batch, d.old.id)))
                writes.append((d.new, vec))
                batch.append((d.new, vec))
                change.history.append(self._history(d.old, "superseded", actor, f"superseded by {d.new.id}"))
                change.history.append(self._history(d.new, "supersede", actor, f"supersedes {d.old.id}"))
                change.audit.append(
                    AuditItem.of("supersede", d.old, "superseded", f"replaced by {d.new.id}", actor)
                )
                change.audit.append(AuditItem.of("write", d.new, "keep", reason, actor))
                result.superseded.append(d.old)
                (result.pending_review if d.new.status is Status.PENDING_REVIEW else result.added).append(
                    d.new
                )
        # a record written twice in one batch (added, then merged) is written once, last state wins
        last: dict[str, tuple[MemoryRecord, Vectors | None]] = {}
        for r, v in writes:
            prev = last.get(r.id)
            last[r.id] = (r, v if v is not None else (prev[1] if prev else None))
        for r, v in last.values():
            change.add(r, v)
        # one audit event per record and action in a change (two new memories merged into one target)
        seen: dict[tuple[str, str | None], AuditItem] = {}
        for a in change.audit:
            seen.pop((a.action, a.record_id), None)
            seen[(a.action, a.record_id)] = a
        change.audit[:] = list(seen.values())
        return standing

    @staticmethod
    def _vec_of(batch: Sequence[tuple[MemoryRecord, Vectors]], rid: str) -> Vectors | None:
        for r, v in batch:
            if r.id == rid:
                return v
        return None
