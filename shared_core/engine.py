"""The one orchestration of MeMo: the only place that sequences I/O.

A turn:     validate -> redact -> raw turns as records -> extract -> policy (keep / review / drop)
            -> embed turns and memories together -> consolidate with near neighbours
            -> history (first) -> raw turns and memories in one upsert -> revision -> audit.
            If anything fails before that upsert, the raw turns are written alone, then the error raised.
A question: validate -> embed once -> the scope's cached index (records, vectors, BM25; reloaded
            when the scope's revision changes) -> dense + lexical candidates -> score
            (fusion, recency, importance, use, time) -> MMR -> k / token budget -> hits.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from . import score as scoring
from . import validate
from ._boundary import translate
from .clock import Clock, SystemClock, ensure_utc
from .config import MemoConfig
from .consolidate import Add, Merge, Skip, Supersede, decide
from .embed.base import Embedder, Vectors
from .errors import InvalidInput, NotFound
from .extract.base import Candidate as ExtractCandidate
from .extract.base import ExtractInput, Extractor
from .extract.dates import query_time_range
from .extract.rules import RuleExtractor
from .governance import pii
from .governance.audit import AuditLog
from .governance.validity import judge
from .models import (
    HistoryEntry,
    HistoryOp,
    Hit,
    Kind,
    MemoryRecord,
    MetaValue,
    Origin,
    Provenance,
    Scope,
    Status,
    Turn,
    new_id,
)
from .render import Context, pack
from .store.base import RecordFilter, Store
from .store.search_index import IndexCache, ScopeIndex

SYSTEM = "system"


class AddResult(BaseModel):
    """What one `add_messages` call did."""

    model_config = ConfigDict(extra="forbid")

    episodes: list[MemoryRecord] = Field(default_factory=list)
    added: list[MemoryRecord] = Field(default_factory=list)
    merged: list[MemoryRecord] = Field(default_factory=list)
    superseded: list[MemoryRecord] = Field(default_factory=list)
    pending_review: list[MemoryRecord] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    redactions: int = 0


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


class Engine:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        config: MemoConfig | None = None,
        clock: Clock | None = None,
        extractor: Extractor | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or MemoConfig()
        self.clock = clock or SystemClock()
        self.extractor: Extractor = extractor or RuleExtractor()
        self.audit = audit
        self._indexes = IndexCache(max_records=self.config.limits.search_cache_records)
        self._write_lock = threading.RLock()

    # ----------------------------------------------------------------------------- helpers
    def _embed(self, texts: Sequence[str]) -> Vectors:
        return self.embedder.embed(list(texts))

    def _redact(self, text: str) -> tuple[str, int]:
        result = pii.apply(text, self.config.policy)
        return result.text, len(result.matches)

    def _redact_meta(self, meta: dict[str, MetaValue]) -> dict[str, MetaValue]:
        """String metadata values are redacted one by one, like text (numbers are left alone)."""
        return {k: self._redact(v)[0] if isinstance(v, str) and v else v for k, v in meta.items()}

    def _history(self, rec: MemoryRecord, op: HistoryOp, actor: str, reason: str = "") -> HistoryEntry:
        return HistoryEntry(
            record_id=rec.id, scope=rec.scope, version=rec.version, op=op, at=self.clock.now(),
            actor=actor, reason=reason, snapshot=rec,
        )  # fmt: skip

    def _commit(
        self,
        writes: Sequence[tuple[MemoryRecord, Vectors | None]],
        history: Sequence[HistoryEntry],
        audit: Sequence[tuple[str, MemoryRecord, str, str]],
        actor: str,
        deferred: list[tuple[str, MemoryRecord, str, str]] | None = None,
    ) -> None:
        """History first (it carries full snapshots, so `repair` can finish an interrupted write),
        then the records (the store changes the tenant's revision token), then one audit segment.
        Each step is one store call, whatever the number of records. With `deferred`, the revision
        and the audit are left to the caller, who does both once for a whole `add_messages`."""
        if not writes:
            return
        if history:
            self.store.append_history(history)
        bump = deferred is None
        with_vec = [(r, v) for r, v in writes if v is not None]
        without = [r for r, v in writes if v is None]
        if with_vec:
            self.store.upsert([r for r, _ in with_vec], np.stack([v for _, v in with_vec]), bump=bump)
        if without:
            self.store.upsert(without, None, bump=bump)
        if deferred is not None:
            deferred.extend(audit)
            return
        self._audit(audit, actor)

    def _audit(self, items: Sequence[tuple[str, MemoryRecord, str, str]], actor: str) -> None:
        """One audit segment: (action, record, decision, reason) per event."""
        if self.audit is None or not items:
            return
        self.audit.append_many(
            [
                {
                    "actor": actor, "action": action, "scope": rec.scope, "record_id": rec.id, "decision": decision,
                    "reason": reason,
                    "payload": {"kind": rec.kind.value, "status": rec.status.value, "version": rec.version},
                }
                for action, rec, decision, reason in items
            ]
        )  # fmt: skip

    # ------------------------------------------------------------------------------- write
    def add_messages(
        self,
        messages: Any,
        scope: Any,
        session_id: str | None = None,
        *,
        actor: str = SYSTEM,
        extract: bool | None = None,
    ) -> AddResult:
        cfg = self.config
        sc = validate.scope(scope)
        sid = validate.identifier(session_id, "session_id") if session_id is not None else None
        turns = validate.turns(messages, cfg.limits)
        now = self.clock.now()
        # redaction happens before anything is embedded or stored; a `reject` policy raises here
        redacted: list[tuple[Turn, str]] = []
        n_redacted = 0
        for t in turns:
            clean, n = self._redact(t.content)
            n_redacted += n
            redacted.append((t, clean))
        result = AddResult(redactions=n_redacted)
        done: list[tuple[str, MemoryRecord, str, str]] = []  # audit items, written once at the end
        do_extract = extract if extract is not None else cfg.extraction.extract
        with self._write_lock:
            episodes = [self._episode(t, clean, sc, sid, now, i) for i, (t, clean) in enumerate(redacted)]
            result.episodes = episodes
            raw: list[tuple[MemoryRecord, Vectors]] = []
            try:
                kept: list[tuple[MemoryRecord, Status, str]] = []
                try:
                    if do_extract:
                        found = self._extract(episodes, [t for t, _ in redacted], sid, now)
                        kept = self._screen(found, sc, now, result, len(episodes))
                finally:  # raw turns and their memories are embedded together (one sorted batch)
                    vecs = self._embed(
                        [e.index_text() for e in episodes] + [r.index_text() for r, _, _ in kept]
                    )
                    raw = list(zip(episodes, vecs[: len(episodes)]))
                kinds = frozenset(k for k in Kind if k is not Kind.EPISODE)
                self._consolidate(kept, vecs[len(episodes) :], sc, now, actor, result, kinds, done, raw)
            except BaseException:
                if raw and not done:  # whatever failed, the raw turns are kept (rewriting them is idempotent)
                    try:
                        self._commit(raw, [], [("write", e, "keep", "raw turn") for e, _ in raw], actor, done)
                    except Exception:  # the store itself is failing: the first error is the one to report
                        pass
                raise
            finally:  # whatever was written is announced: one revision token, one audit segment
                if done:
                    self.store.bump_revision([sc])
                    self._audit(done, actor)
        return result

    def _episode(self, t: Turn, text: str, sc: Scope, sid: str | None, now: datetime, i: int) -> MemoryRecord:
        mid = t.id or f"m{int(now.timestamp() * 1000)}-{i}"
        created = now + timedelta(microseconds=i)  # keeps the order of turns given in one call
        when = t.timestamp or created
        return MemoryRecord(
            id=episode_id(sc, sid, t.id) if t.id else new_id(),
            scope=sc, kind=Kind.EPISODE, text=text, created_at=created, updated_at=created, valid_from=when,
            importance=0.3,
            provenance=Provenance(
                source_message_ids=[mid], session_id=sid, turn_timestamps=[when], speaker=t.name or t.role,
                extractor="raw", extractor_version="1", origin=Origin.STATED,
            ),
            metadata={"role": t.role},
        )  # fmt: skip

    def _extract(
        self, episodes: Sequence[MemoryRecord], turns: Sequence[Turn], sid: str | None, now: datetime
    ) -> list[ExtractCandidate]:
        inputs = [
            ExtractInput(
                message_id=e.provenance.source_message_ids[0],
                role=t.role,
                speaker=e.provenance.speaker,
                text=e.text,
                timestamp=e.event_time,
                session_id=sid,
            )  # fmt: skip
            for e, t in zip(episodes, turns)
            if t.role in ("user", "assistant")
        ]
        if not inputs:
            return []
        with translate("extraction", self.extractor.name):  # a custom extractor's bug is an ExtractionError
            return self.extractor.extract(inputs, now=now)

    def _screen(
        self, candidates: Sequence[ExtractCandidate], sc: Scope, now: datetime, result: AddResult, first: int
    ) -> list[tuple[MemoryRecord, Status, str]]:
        """Candidates as records, each with the policy's verdict: kept, held for review, or dropped."""
        kept: list[tuple[MemoryRecord, Status, str]] = []
        seen: set[str] = set()
        for c in candidates:
            key = " ".join(c.text.lower().split())
            if key in seen:  # one statement read two ways (job and employer): keep the first reading
                continue
            seen.add(key)
            rec = c.to_record(  # created after the turns, in extraction order (a stable tie-break)
                sc, now=now + timedelta(microseconds=first + len(seen)), extractor=self.extractor.name,
                extractor_version=self.extractor.version,
            )  # fmt: skip
            verdict = judge(rec, self.config.policy)
            if verdict.verdict == "drop":
                result.dropped.append(rec.text)
                continue
            status = Status.PENDING_REVIEW if verdict.verdict == "review" else Status.ACTIVE
            kept.append((rec.model_copy(update={"status": status}), status, verdict.reason))
        return kept

    def _consolidate(
        self, kept: Sequence[tuple[MemoryRecord, Status, str]], vecs: Vectors, sc: Scope, now: datetime,
        actor: str, result: AddResult, kinds: frozenset[Kind],
        deferred: list[tuple[str, MemoryRecord, str, str]] | None = None,
        raw: Sequence[tuple[MemoryRecord, Vectors]] = (),
    ) -> list[MemoryRecord]:  # fmt: skip
        """Compare a batch of new memories with their neighbours (one query), decide add / merge /
        supersede / skip for each, and commit the batch, with the `raw` turns they came from, in
        one write. Returns the record standing for each input."""
        ext = self.config.extraction
        standing: list[MemoryRecord] = []
        writes: list[tuple[MemoryRecord, Vectors | None]] = list(raw)  # raw turns have no history yet
        history: list[HistoryEntry] = []
        audit: list[tuple[str, MemoryRecord, str, str]] = [("write", e, "keep", "raw turn") for e, _ in raw]
        batch: list[tuple[MemoryRecord, Vectors]] = []  # records written in this call, for intra-batch dedup
        near: list[list[tuple[MemoryRecord, float]]] = [[] for _ in kept]
        if ext.consolidate and kept:  # one query for the whole batch
            flt = RecordFilter(kinds=kinds, statuses=frozenset({Status.ACTIVE, Status.PENDING_REVIEW}))
            near = self.store.query_many(sc, vecs, ext.neighbours, flt)
        for (rec, status, reason), vec, found in zip(kept, vecs, near):
            neighbours: list[tuple[MemoryRecord, float]] = []
            if ext.consolidate:
                pending = {r.id: (r, float(vec @ v)) for r, v in batch}
                neighbours = [
                    (pending.pop(r.id)[0] if r.id in pending else r, scoring.similarity(d)) for r, d in found
                ]
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
                history.append(self._history(d.record, "add", actor, reason))
                audit.append(
                    ("write", d.record, "review" if status is Status.PENDING_REVIEW else "keep", reason)
                )
                (result.pending_review if status is Status.PENDING_REVIEW else result.added).append(d.record)
            elif isinstance(d, Merge):
                standing.append(d.target)
                writes.append((d.target, self._vec_of(batch, d.target.id)))
                history.append(
                    self._history(d.target, "merge", actor, f"same as new memory: {rec.text[:80]}")
                )
                audit.append(("update", d.target, "merge", "duplicate merged"))
                result.merged.append(d.target)
            elif isinstance(d, Supersede):
                standing.append(d.new)
                old_vec = self._vec_of(batch, d.old.id)
                writes.append((d.old, old_vec))
                writes.append((d.new, vec))
                batch.append((d.new, vec))
                history.append(self._history(d.old, "superseded", actor, f"superseded by {d.new.id}"))
                history.append(self._history(d.new, "supersede", actor, f"supersedes {d.old.id}"))
                audit.append(("supersede", d.old, "superseded", f"replaced by {d.new.id}"))
                audit.append(("write", d.new, "keep", reason))
                result.superseded.append(d.old)
                (result.pending_review if d.new.status is Status.PENDING_REVIEW else result.added).append(
                    d.new
                )
        # a record written twice in one batch (added, then merged) must be written once, last state wins
        last: dict[str, tuple[MemoryRecord, Vectors | None]] = {}
        for r, v in writes:
            prev = last.get(r.id)
            last[r.id] = (r, v if v is not None else (prev[1] if prev else None))
        self._commit(list(last.values()), history, audit, actor, deferred)
        return standing

    @staticmethod
    def _vec_of(batch: Sequence[tuple[MemoryRecord, Vectors]], rid: str) -> Vectors | None:
        for r, v in batch:
            if r.id == rid:
                return v
        return None

    def remember(
        self, text: str, scope: Any, *, kind: Kind | str = Kind.FACT, importance: float = 0.5, pinned: bool = False,
        valid_from: datetime | None = None, valid_to: datetime | None = None, metadata: Any = None,
        source_message_ids: Sequence[str] = (), session_id: str | None = None, actor: str = SYSTEM,
        consolidate: bool = True,
    ) -> MemoryRecord:  # fmt: skip
        """Store one memory stated directly (not extracted). Returns the stored (or merged) record."""
        return self.remember_many(
            [text], scope, kind=kind, importance=importance, pinned=pinned, valid_from=valid_from,
            valid_to=valid_to, metadata=metadata, source_message_ids=source_message_ids, session_id=session_id,
            actor=actor, consolidate=consolidate,
        )[0]  # fmt: skip

    def remember_many(
        self, texts: Sequence[str], scope: Any, *, kind: Kind | str = Kind.FACT, importance: float = 0.5,
        pinned: bool = False, valid_from: datetime | None = None, valid_to: datetime | None = None,
        metadata: Any = None, source_message_ids: Sequence[str] = (), session_id: str | None = None,
        actor: str = SYSTEM, consolidate: bool = True,
    ) -> list[MemoryRecord]:  # fmt: skip
        cfg = self.config
        sc = validate.scope(scope)
        try:
            knd = Kind(kind)
        except ValueError:
            raise InvalidInput(f"unknown kind {kind!r}; one of {[k.value for k in Kind]}") from None
        if not 0.0 <= importance <= 1.0:
            raise InvalidInput("importance must be within [0, 1]")
        if isinstance(texts, str):
            raise InvalidInput("texts must be a list of strings")
        meta = self._redact_meta(validate.metadata(metadata, cfg.limits))
        sid = validate.identifier(session_id, "session_id") if session_id is not None else None
        srcs = validate.ids(source_message_ids, "source message id")
        cleaned = [self._redact(validate.text(t, cfg.limits))[0] for t in texts]
        now = self.clock.now()
        with self._write_lock:
            recs = []
            for i, t in enumerate(cleaned):
                created = now + timedelta(microseconds=i)  # keeps the order given (a stable tie-break)
                try:
                    recs.append(
                        MemoryRecord(
                            scope=sc,
                            kind=knd,
                            text=t,
                            created_at=created,
                            updated_at=created,
                            valid_from=valid_from,
                            valid_to=valid_to,
                            importance=importance,
                            pinned=pinned,
                            metadata=meta,
                            provenance=Provenance(
                                source_message_ids=srcs, session_id=sid, extractor="manual"
                            ),
                        )  # fmt: skip
                    )
                except ValueError as exc:
                    raise InvalidInput(str(exc)) from None
            vecs = self._embed([r.index_text() for r in recs])
            if not consolidate or knd is Kind.EPISODE:
                self._commit(
                    list(zip(recs, vecs)), [self._history(r, "add", actor, "remembered") for r in recs],
                    [("write", r, "keep", "remembered") for r in recs], actor,
                )  # fmt: skip
                return recs
            kept = [(r, Status.ACTIVE, "remembered") for r in recs]
            out = self._consolidate(kept, vecs, sc, now, actor, AddResult(), frozenset({knd}))
        return out

    # ------------------------------------------------------------------------- read / CRUD
    def get(self, record_id: str, scope: Any) -> MemoryRecord:
        sc = validate.scope(scope)
        rid = validate.identifier(record_id, "record id")
        found = self.store.get(sc, [rid])
        if not found:
            raise NotFound(f"no memory {rid!r} in this scope")
        return found[0]

    def list_records(
        self, scope: Any, flt: RecordFilter | None = None, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        return self.store.list_records(validate.scope(scope), flt or RecordFilter(), limit, offset)

    def history(self, record_id: str, scope: Any) -> list[HistoryEntry]:
        sc = validate.scope(scope)
        rid = validate.identifier(record_id, "record id")
        entries = self.store.history(sc, rid)
        if not entries:
            found = self.store.get(sc, [rid])
            if not found:
                raise NotFound(f"no memory {rid!r} in this scope")
            # a raw turn never changed since it was written: the record is its own first snapshot
            entries = [self._first_entry(found[0])]
        return entries

    def _first_entry(self, rec: MemoryRecord) -> HistoryEntry:
        return HistoryEntry(record_id=rec.id, scope=rec.scope, version=rec.version, op="add", at=rec.created_at,
                            actor=SYSTEM, reason="raw turn", snapshot=rec)  # fmt: skip

    def update(
        self, record_id: str, scope: Any, *, text: str | None = None, importance: float | None = None,
        pinned: bool | None = None, status: Status | None = None, valid_to: datetime | None = None,
        metadata: Any = None, actor: str = SYSTEM, reason: str = "updated", op: HistoryOp = "update",
    ) -> MemoryRecord:  # fmt: skip
        rec = self.get(record_id, scope)
        changes: dict[str, Any] = {}
        vec: Vectors | None = None
        if text is not None:
            changes["text"] = self._redact(validate.text(text, self.config.limits))[0]
        if importance is not None:
            if not 0.0 <= importance <= 1.0:
                raise InvalidInput("importance must be within [0, 1]")
            changes["importance"] = importance
        if pinned is not None:
            changes["pinned"] = bool(pinned)
        if status is not None:
            changes["status"] = Status(status)
        if valid_to is not None:
            changes["valid_to"] = ensure_utc(valid_to)
        if metadata is not None:
            changes["metadata"] = {
                **rec.metadata,
                **self._redact_meta(validate.metadata(metadata, self.config.limits)),
            }
        if not changes:
            return rec
        new = rec.model_copy(update={**changes, "version": rec.version + 1, "updated_at": self.clock.now()})
        try:
            new = MemoryRecord.model_validate(new.model_dump())
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        if "text" in changes:
            vec = self._embed([new.index_text()])[0]
        with self._write_lock:
            self._commit(
                [(new, vec)], [self._history(new, op, actor, reason)], [("update", new, op, reason)], actor
            )
        return new

    def delete(
        self, record_ids: Any, scope: Any, *, actor: str = SYSTEM, purge_history: bool = False
    ) -> list[str]:
        """Delete records for good (vectors, documents, index entries); history keeps a tombstone
        unless `purge_history` (erasure) removes it too. Returns the ids that existed."""
        sc = validate.scope(scope)
        ids = validate.ids(record_ids, "record id")
        with self._write_lock:
            found = self.store.get(sc, ids)
            if not found:
                return []
            now = self.clock.now()
            tomb = [
                HistoryEntry(record_id=r.id, scope=r.scope, version=r.version + 1, op="delete", at=now, actor=actor,
                             reason="deleted", snapshot=None)
                for r in found
            ]  # fmt: skip
            if purge_history:
                self.store.delete_history(sc, [r.id for r in found])
            else:
                self.store.append_history(tomb)
            self.store.delete(sc, [r.id for r in found])
            reason = "purged" if purge_history else "deleted"
            self._audit([("delete", r, "delete", reason) for r in found], actor)
        return [r.id for r in found]

    def recent_turns(self, scope: Any, session_id: str | None = None, limit: int = 20) -> list[MemoryRecord]:
        """The last `limit` raw turns of a session (or of the scope), oldest first."""
        sc = validate.scope(scope)
        recs = self.store.list_records(sc, RecordFilter(kinds=frozenset({Kind.EPISODE})))
        if session_id is not None:
            recs = [r for r in recs if r.provenance.session_id == session_id]
        recs.sort(key=lambda r: (r.event_time, r.created_at))
        return recs[-limit:] if limit else recs

    def clear_session(self, scope: Any, session_id: str, *, actor: str = SYSTEM) -> int:
        """Forget a session's raw turns (short-term memory). Long-term memories stay."""
        sid = validate.identifier(session_id, "session_id")
        turns = self.recent_turns(scope, sid, limit=0)
        return len(self.delete([t.id for t in turns], scope, actor=actor)) if turns else 0

    # -------------------------------------------------------------------------------- search
    def search(
        self, query: str, scope: Any, *, k: int = 10, token_budget: int | None = None,
        kinds: Sequence[Kind | str] | None = None, since: datetime | None = None, until: datetime | None = None,
        include_superseded: bool = False, track_access: bool = False,
    ) -> list[Hit]:  # fmt: skip
        """Hits best first, score in [0, 1]. Never returns `pending_review`, expired or deleted memories."""
        hits, _ = self._search(
            query, scope, k, token_budget, kinds, since, until, include_superseded, track_access
        )
        return hits

    def context(
        self, query: str, scope: Any, *, token_budget: int | None = None, k: int = 50,
        kinds: Sequence[Kind | str] | None = None,
    ) -> Context:  # fmt: skip
        """The rendered, cited context block for a prompt, within `token_budget` tokens."""
        budget = token_budget or self.config.default_token_budget
        _, ctx = self._search(query, scope, k, budget, kinds, None, None, False, False)
        assert ctx is not None
        return ctx

    def _search(
        self, query: str, scope: Any, k: int, token_budget: int | None, kinds: Sequence[Kind | str] | None,
        since: datetime | None, until: datetime | None, include_superseded: bool, track_access: bool,
    ) -> tuple[list[Hit], Context | None]:  # fmt: skip
        cfg = self.config
        sc = validate.scope(scope)
        q = validate.text(query, cfg.limits, "query")
        k = validate.k(k, cfg.limits)
        if token_budget is not None and (
            isinstance(token_budget, bool) or not isinstance(token_budget, int) or token_budget <= 0
        ):
            raise InvalidInput("token_budget must be a positive int")
        try:
            kind_set = frozenset(Kind(x) for x in kinds) if kinds else None
        except ValueError:
            raise InvalidInput(f"unknown kind in {kinds!r}") from None
        statuses = {Status.ACTIVE} | ({Status.SUPERSEDED} if include_superseded else set())
        flt = RecordFilter(kinds=kind_set, statuses=frozenset(statuses), since=since, until=until)
        now = self.clock.now()
        sw = cfg.scoring
        n = max(sw.candidates, k)
        vec = self._embed([q])[0]
        # one cached index per kinds and statuses; a time window masks it instead of making another
        index = self._index(sc, flt.model_copy(update={"since": None, "until": None}))
        window = None
        if since is not None or until is not None:
            window = np.fromiter((flt.matches(r) for r in index.records), dtype=bool, count=len(index))
        dense = index.dense(vec, n, window)
        lexical = index.lexical_ranks(q, n, window) if sw.lexical_enabled else []
        rank_d = {pos: rank for rank, (pos, _) in enumerate(dense)}
        rank_l = {pos: rank for rank, pos in enumerate(lexical)}
        sims = dict(dense)
        cands: list[scoring.Candidate] = []
        for pos in dict.fromkeys([*rank_d, *rank_l]):
            v = index.vectors[pos]
            cands.append(
                scoring.Candidate(
                    record=index.records[pos], vector=v, dense_rank=rank_d.get(pos), lexical_rank=rank_l.get(pos),
                    similarity=scoring.similarity(1.0 - sims.get(pos, float(v @ vec))),
                )
            )  # fmt: skip
        if sw.time_aware:
            span = query_time_range(q, now)
            if span is not None:
                for c in cands:
                    c.time_match = span.start <= c.record.event_time <= span.end
        if sw.speaker_boost > 0:
            scoring.names_in(q, cands)
        ranked = scoring.score_candidates(cands, now, sw)
        if sw.collapse_sources:
            ranked = scoring.collapse_sources(ranked)
        ranked = [c for c in ranked if c.score >= sw.min_score]
        if sw.mmr_enabled and len(ranked) > 1:  # diversify the head; the tail only matters for big budgets
            head = max(3 * k, 30) if token_budget is None else max(3 * k, 90)
            ranked = scoring.mmr(ranked[:head], sw.mmr_lambda) + ranked[head:]
        hits = [Hit(record=c.record, score=round(c.score, 6), components=c.components) for c in ranked[:k]]
        ctx: Context | None = None
        if token_budget is not None:
            ctx = pack(hits, token_budget, cfg.render)
            hits = ctx.hits
        if track_access and hits:
            self._touch([h.record for h in hits], now)
        return hits, ctx

    def _index(self, sc: Scope, flt: RecordFilter) -> ScopeIndex:
        """The search index of a scope and filter, current with the store (any process's writes)."""

        def build() -> ScopeIndex:
            records, vectors = self.store.snapshot(sc, flt)
            docs = lexical_documents(records, self.config.scoring.lexical_context)
            return ScopeIndex(records, vectors, docs)

        return self._indexes.get(sc.key() + "|" + flt.model_dump_json(), self.store.revision(sc), build)

    def _touch(self, records: Sequence[MemoryRecord], now: datetime) -> None:
        """Reinforce memories that were used: access count and time (no history entry, no revision:
        this process's cached indexes are refreshed in place, other processes see it at their next reload)."""
        updated = [
            r.model_copy(update={"access_count": r.access_count + 1, "last_accessed_at": now})
            for r in records
        ]
        self.store.upsert(updated, None, bump=False)
        for index in self._indexes.cached():
            index.refresh(updated)

    # ------------------------------------------------------------------------------ repair
    def repair(self, since: datetime) -> int:
        """Finish writes interrupted by a crash: a history snapshot newer than its record is re-applied."""
        entries = [e for e in self.store.history_since(since) if e.snapshot is not None]
        latest: dict[str, HistoryEntry] = {}
        for e in entries:
            if e.record_id not in latest or e.version >= latest[e.record_id].version:
                latest[e.record_id] = e
        fixed = 0
        for e in latest.values():
            assert e.snapshot is not None
            have = self.store.get(e.scope if e.scope.is_readable() else e.snapshot.scope, [e.record_id])
            if have and have[0].version >= e.version:
                continue
            snap = e.snapshot
            vec = self._embed([snap.index_text()])
            self.store.upsert([snap], vec)
            fixed += 1
        return fixed
