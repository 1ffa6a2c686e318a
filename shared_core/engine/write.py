"""Writes: add_messages, remember, update, delete, clear_session, record_use, import.

Each builds one `ChangeSet` and passes it to the seam (`self._seam.commit`); nothing here
touches the store's write methods.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .. import validate
from ..errors import InvalidInput
from ..governance.validity import judge
from ..models import (
    HistoryEntry,
    HistoryOp,
    Kind,
    MemoryRecord,
    Origin,
    Provenance,
    Scope,
    Status,
    Turn,
    new_id,
)
from ..store.base import ALL_STATUSES as _ALL
from .base import SYSTEM, AddResult, derived_id, episode_id, key_id
from .changes import AuditItem, ChangeSet, Deletion, ExtractJob
from .extraction import ExtractionMixin


class WriteMixin(ExtractionMixin):
    # ------------------------------------------------------------------------- raw turns
    def add_messages(
        self,
        messages: Any,
        scope: Any,
        session_id: str | None = None,
        *,
        actor: str = SYSTEM,
        extract: bool | None = None,
        wait: bool = False,
    ) -> AddResult:
        """Raw turns are durable and searchable when this returns; extraction runs in the
        background (`wait=True`: in this call, and the result lists what it found)."""
        cfg = self.config
        sc = validate.scope(scope)
        sid = validate.optional_identifier(session_id, "session_id")
        if extract is not None:
            extract = validate.flag(extract, "extract")
        wait = validate.flag(wait, "wait")
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
        episodes = [self._episode(t, clean, sc, sid, now, i, actor) for i, (t, clean) in enumerate(redacted)]
        result.episodes = episodes
        roles: list[str] = [t.role for t in turns]
        do_extract = (extract if extract is not None else cfg.extraction.extract) and any(
            r in ("user", "assistant") for r in roles
        )
        if do_extract and (wait or (self._worker is None and self.job_queue is None)):
            self._add_and_extract(episodes, roles, sc, sid, now, actor, result)
            return result
        # journaled before they are embedded: the seam embeds them in the caller's pause, or in
        # the next read (a search embeds them with its query), whichever comes first
        change = ChangeSet(actor=actor, embed=True)
        for e in episodes:
            change.add(e, None, audit=AuditItem.of("write", e, "keep", "raw turn", actor))
        if do_extract:
            change.jobs.append(
                ExtractJob(scope=sc, session_id=sid, actor=actor, episodes=episodes, roles=roles)
            )
            result.extraction = "queued"
        else:
            result.extraction = "off"
        self._seam.commit(change)
        return result

    def _episode(
        self, t: Turn, text: str, sc: Scope, sid: str | None, now: datetime, i: int, actor: str
    ) -> MemoryRecord:
        mid = t.id or f"m{int(now.timestamp() * 1000)}-{i}"
        created = now + timedelta(microseconds=i)  # keeps the order of turns given in one call
        when = t.timestamp or created
        meta = {**self._redact_meta(dict(t.metadata or {})), "role": t.role}
        return MemoryRecord(
            id=episode_id(sc, sid, t.id) if t.id else new_id(),
            scope=sc,
            kind=Kind.EPISODE,
            text=text,
            created_at=created,
            updated_at=created,
            valid_from=when,
            importance=0.3,
            provenance=Provenance(
                source_message_ids=[mid],
                session_id=sid,
                turn_timestamps=[when],
                speaker=t.name or t.role,
                extractor="raw",
                extractor_version="1",
                origin=Origin.STATED,
                actor=actor,
            ),
            metadata=meta,
        )

    # --------------------------------------------------------------------------- remember
    def remember(
        self,
        text: str,
        scope: Any,
        *,
        kind: Kind | str = Kind.FACT,
        importance: float = 0.5,
        pinned: bool = False,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        metadata: Any = None,
        source_message_ids: Sequence[str] = (),
        session_id: str | None = None,
        actor: str = SYSTEM,
        tool_call_id: str | None = None,
        consolidate: bool = True,
        key: str | None = None,
    ) -> MemoryRecord:
        """Store one memory stated directly (not extracted). Returns the stored (or merged) record.

        `key`: the caller's name for this memory in its scope. The record id is derived from the
        scope and the key, so remembering the same key again replaces that record (a new version,
        its history kept) instead of adding one, and `get(key_id(scope, key), scope)` finds it in
        one keyed read. A keyed memory is never consolidated with others."""
        return self.remember_many(
            [text],
            scope,
            kind=kind,
            importance=importance,
            pinned=pinned,
            valid_from=valid_from,
            valid_to=valid_to,
            metadata=metadata,
            source_message_ids=source_message_ids,
            session_id=session_id,
            actor=actor,
            tool_call_id=tool_call_id,
            consolidate=consolidate,
            keys=None if key is None else [key],
        )[0]

    def remember_many(
        self,
        texts: Sequence[str],
        scope: Any,
        *,
        kind: Kind | str = Kind.FACT,
        importance: float = 0.5,
        pinned: bool = False,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        metadata: Any = None,
        source_message_ids: Sequence[str] = (),
        session_id: str | None = None,
        actor: str = SYSTEM,
        tool_call_id: str | None = None,
        consolidate: bool = True,
        keys: Sequence[str] | None = None,
    ) -> list[MemoryRecord]:
        cfg = self.config
        sc = validate.scope(scope)
        knd = validate.kind(kind)
        importance = validate.importance(importance)
        pinned = validate.flag(pinned, "pinned")
        valid_from = validate.optional_when(valid_from, "valid_from")
        valid_to = validate.optional_when(valid_to, "valid_to")
        consolidate = validate.flag(consolidate, "consolidate")
        texts = validate.texts(texts, cfg.limits)
        meta = self._redact_meta(validate.metadata(metadata, cfg.limits))
        sid = validate.optional_identifier(session_id, "session_id")
        srcs = validate.ids(source_message_ids, "source_message_ids")
        actor = validate.identifier(actor, "actor")
        call = validate.identifier(tool_call_id, "tool_call_id") if tool_call_id is not None else None
        if keys is not None:
            keys = [validate.identifier(k, "key") for k in keys]
            if len(keys) != len(texts):
                raise InvalidInput(f"{len(keys)} keys for {len(texts)} texts")
        cleaned = [self._redact(t)[0] for t in texts]
        now = self.clock.now()
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
                            source_message_ids=srcs,
                            session_id=sid,
                            extractor="manual",
                            actor=actor,
                            tool_call_id=call,
                        ),
                    )
                )
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        vecs = self._embed([r.index_text() for r in recs])
        change = ChangeSet(actor=actor)
        with self._write_lock:
            if keys is not None:
                return self._remember_keyed(recs, vecs, keys, sc, actor, change)
            if not consolidate or knd is Kind.EPISODE:
                for r, v in zip(recs, vecs):
                    change.add(
                        r,
                        v,
                        history=self._history(r, "add", actor, "remembered"),
                        audit=AuditItem.of("write", r, "keep", "remembered", actor),
                    )
                self._seam.commit(change)
                return recs
            kept = [(r, Status.ACTIVE, "remembered") for r in recs]
            out = self._consolidate(kept, vecs, sc, now, actor, AddResult(), frozenset({knd}), change)
            self._seam.commit(change)
        return out

    def _remember_keyed(
        self,
        recs: list[MemoryRecord],
        vecs: Any,
        keys: Sequence[str],
        sc: Scope,
        actor: str,
        change: ChangeSet,
    ) -> list[MemoryRecord]:
        """`remember(key=...)`: each record takes the id of its key; an existing one is replaced
        by a new version that keeps its creation time (its place in `list`)."""
        ids = [key_id(sc, k) for k in keys]
        old = {r.id: r for r in self.get_many(sc, ids)}
        out = []
        for rec, vec, rid in zip(recs, vecs, ids):
            prev = old.get(rid)
            op: HistoryOp
            if prev is None:
                new, op, why = rec.model_copy(update={"id": rid}), "add", "remembered"
            else:
                new = rec.model_copy(
                    update={"id": rid, "version": prev.version + 1, "created_at": prev.created_at}
                )
                op, why = "update", "remembered again under its key"
            change.add(
                new,
                vec,
                history=self._history(new, op, actor, why),
                audit=AuditItem.of("write", new, "keep", why, actor),
            )
            out.append(new)
        self._seam.commit(change)
        return out

    # ---------------------------------------------------------------------- update / delete
    def update(
        self,
        record_id: str,
        scope: Any,
        *,
        text: str | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        status: Status | str | None = None,
        valid_to: datetime | None = None,
        metadata: Any = None,
        actor: str = SYSTEM,
        reason: str = "updated",
        op: HistoryOp = "update",
    ) -> MemoryRecord:
        reason = self.redact(reason)  # stored in history and the audit log, like the text
        changes: dict[str, Any] = {}
        if text is not None:
            changes["text"] = self._redact(validate.text(text, self.config.limits))[0]
        if importance is not None:
            changes["importance"] = validate.importance(importance)
        if pinned is not None:
            changes["pinned"] = validate.flag(pinned, "pinned")
        if status is not None:
            changes["status"] = validate.status(status)
        if valid_to is not None:
            changes["valid_to"] = validate.when(valid_to, "valid_to")
        new_meta = (
            self._redact_meta(validate.metadata(metadata, self.config.limits))
            if metadata is not None
            else None
        )
        with self._write_lock:
            rec = self.get(record_id, scope)
            if new_meta is not None:
                changes["metadata"] = {**rec.metadata, **new_meta}
            if not changes:
                return rec
            new = rec.model_copy(
                update={**changes, "version": rec.version + 1, "updated_at": self.clock.now()}
            )
            try:
                new = MemoryRecord.model_validate(new.model_dump())
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            vec = self._embed([new.index_text()])[0] if "text" in changes else None
            change = ChangeSet(actor=actor)
            change.add(
                new,
                vec,
                history=self._history(new, op, actor, reason),
                audit=AuditItem.of("update", new, op, reason, actor),
            )
            self._seam.commit(change)
        return new

    def delete(
        self, record_ids: Any, scope: Any, *, actor: str = SYSTEM, purge_history: bool = False
    ) -> list[str]:
        """Delete records for good (vectors, documents, index entries); history keeps a tombstone
        that repair, import and consolidation respect, unless `purge_history` (erasure) removes
        the history too. Returns the ids that existed. Refused under legal hold (`LegalHold`)."""
        sc = validate.scope(scope)
        ids = validate.record_ids(record_ids)
        with self._write_lock:
            found = self.get_many(sc, ids)
            if not found:
                return []
            now = self.clock.now()
            reason = "purged" if purge_history else "deleted"
            change = ChangeSet(
                actor=actor,
                deletions=[Deletion(scope=sc, record_ids=[r.id for r in found], purge_history=purge_history)],
            )
            for r in found:
                if not purge_history:
                    change.history.append(self.tombstone(r, actor, now))
                change.audit.append(AuditItem.of("delete", r, "delete", reason, actor))
            self._seam.commit(change)
        return [r.id for r in found]

    @staticmethod
    def tombstone(rec: MemoryRecord, actor: str, at: datetime) -> HistoryEntry:
        return HistoryEntry(
            id=derived_id(rec.id, "tombstone"),
            record_id=rec.id,
            scope=rec.scope,
            version=rec.version + 1,
            op="delete",
            at=at,
            actor=actor,
            reason="deleted",
            snapshot=None,
        )

    def clear_session(self, scope: Any, session_id: str, *, actor: str = SYSTEM) -> int:
        """Forget a session's raw turns (short-term memory). Long-term memories stay."""
        sid = validate.identifier(session_id, "session_id")
        turns = self.recent_turns(scope, sid, limit=0)
        return len(self.delete([t.id for t in turns], scope, actor=actor)) if turns else 0

    def erase_scope(self, scope: Any, *, actor: str = SYSTEM) -> tuple[int, int]:
        """Erase every record of a scope (any status) and its whole history, through the seam
        (legal hold checked, audited); then the journal is compacted so no segment keeps the text.
        Returns (records, history entries) erased."""
        sc = validate.scope(scope)
        if self.job_queue is not None:  # first: no `memo worker` may start on (or commit) these turns
            self._cancel_jobs(sc)
        with self._write_lock:
            self._seam.flush()
            if self.job_queue is not None:  # jobs this process had not handed over yet
                self.job_queue.purge(sc)
            records = self._store.list_records(sc, _ALL)
            history = self._store.history(sc)
            ids = sorted({r.id for r in records} | {h.record_id for h in history})
            if not ids:
                self._seam.check_hold([sc])
                if self._store.purge_scope_rows(sc):  # only rows the store could not parse were left
                    self._indexes.invalidate()
                return 0, 0
            change = ChangeSet(
                actor=actor, deletions=[Deletion(scope=sc, record_ids=ids, purge_history=True)]
            )
            change.audit.extend(AuditItem.of("erase", r, "erase", "subject erasure", actor) for r in records)
            self._seam.commit(change)
            self._seam.flush()
            # rows the store could not parse (quarantined) were not listed above: remove them too
            self._store.purge_scope_rows(sc)
            self._indexes.invalidate()
            if self._seam.journal is not None:
                self._seam.journal.compact()
        return len(records), len(history)

    def _cancel_jobs(self, sc: Scope) -> None:
        """Take a scope's jobs out of the shared queue: the waiting ones at once; a batch a worker
        holds is cancelled (it will not commit) and waited for until it leaves the queue (its
        worker's applier wrote it, or the worker gave it up) or its claim ends (a dead worker)."""
        assert self.job_queue is not None
        inflight = self.job_queue.cancel(sc, time.time())
        ids = [i for i, _ in inflight]
        deadline = max((until for _, until in inflight), default=0.0)
        while ids and time.time() < deadline:
            time.sleep(0.05)
            ids = self.job_queue.remaining(ids)

    # ---------------------------------------------------------------------------- use
    def record_use(self, record_ids: Sequence[str], scope: Any) -> None:
        """Reinforce memories that were used (injected into a prompt): never blocks on the store."""
        sc = validate.scope(scope)
        ids = validate.record_ids(record_ids)
        if not ids:
            return
        if self._worker is not None:
            self._worker.touch(sc, ids)
        else:
            self.touch(sc, ids)

    def touch(self, sc: Scope, ids: Sequence[str]) -> None:
        """Access count and time, in one change (no history, no revision: not a content change)."""
        now = self.clock.now()
        with self._write_lock:
            found = self.get_many(sc, list(dict.fromkeys(ids)))
            if not found:
                return
            updated = [
                r.model_copy(update={"access_count": r.access_count + 1, "last_accessed_at": now})
                for r in found
            ]
            change = ChangeSet(actor=SYSTEM, touch=True)
            for r in updated:
                change.add(r, None)
            self._seam.commit(change)

    # --------------------------------------------------------------------------- import
    def import_records(
        self, records: Sequence[Any], history: Sequence[Any] = (), *, actor: str = SYSTEM
    ) -> int:
        """Records (with their history) as exported, through the seam: validated, redacted, judged
        by the validity rules, tombstones respected (a deleted id is not brought back), ids kept
        (importing twice replaces, never duplicates). All or nothing: one change set."""
        recs: list[MemoryRecord] = []
        for i, raw in enumerate(records):
            try:
                rec = raw if isinstance(raw, MemoryRecord) else MemoryRecord.model_validate(raw)
            except ValueError as exc:
                raise InvalidInput(f"records[{i}] is invalid: {exc}") from None
            recs.append(rec)
        entries: list[HistoryEntry] = []
        for i, raw in enumerate(history):
            try:
                entries.append(raw if isinstance(raw, HistoryEntry) else HistoryEntry.model_validate(raw))
            except ValueError as exc:
                raise InvalidInput(f"history[{i}] is invalid: {exc}") from None
        if not recs and not entries:
            return 0
        lim = self.config.limits
        clean: list[MemoryRecord] = []
        for i, rec in enumerate(recs):
            validate.scope(rec.scope, f"records[{i}].scope")
            cap = lim.max_message_chars if rec.kind is Kind.EPISODE else None  # a raw turn: message-sized
            text = self._redact(validate.text(rec.text, lim, f"records[{i}].text", max_chars=cap))[0]
            meta = self._redact_meta(
                validate.metadata(rec.metadata, lim, f"records[{i}].metadata", max_chars=cap)
            )
            rec = rec.model_copy(update={"text": text, "metadata": meta})
            verdict = judge(rec, self.config.policy)
            if verdict.verdict == "drop":
                continue
            if verdict.verdict == "review" and rec.status is Status.ACTIVE:
                rec = rec.model_copy(update={"status": Status.PENDING_REVIEW})
            clean.append(rec)
        self._seam.flush()  # ids journaled by this process are in the store before they are checked
        owners = self.store.owners([r.id for r in clean])
        taken = [r.id for r in clean if r.id in owners and owners[r.id] != r.scope]
        if taken:
            raise InvalidInput(
                f"records: {len(taken)} id(s) already belong to another scope (first: {taken[0]!r}); "
                "an import never moves a record between scopes: give them new ids"
            )
        dead = self._tombstoned({r.scope for r in clean} | {e.scope for e in entries})
        clean = [r for r in clean if r.id not in dead]
        kept_history = []
        for e in entries:
            if e.record_id in dead and e.op != "delete":
                continue
            snap = e.snapshot
            if snap is not None:
                snap = snap.model_copy(
                    update={
                        "text": self._redact(snap.text)[0],
                        "metadata": self._redact_meta(dict(snap.metadata)),
                    }
                )
            kept_history.append(e.model_copy(update={"snapshot": snap}))
        vecs = self._embed([r.index_text() for r in clean]) if clean else np.zeros((0, 1), np.float32)
        change = ChangeSet(actor=actor, history=kept_history)
        have = {e.record_id for e in kept_history}
        for r, v in zip(clean, vecs):
            change.add(
                r,
                v,
                history=None if r.id in have else self._history(r, "add", actor, "imported"),
                audit=AuditItem.of("import", r, "keep", "imported", actor),
            )
        self._seam.commit(change)
        return len(clean)

    def _tombstoned(self, scopes: set[Scope]) -> set[str]:
        dead: set[str] = set()
        for sc in scopes:
            if not sc.is_readable():
                continue
            latest: dict[str, HistoryEntry] = {}
            for e in self.history_of_scope(sc):
                if e.record_id not in latest or e.version >= latest[e.record_id].version:
                    latest[e.record_id] = e
            dead |= {rid for rid, e in latest.items() if e.op == "delete"}
        return dead

    # ---------------------------------------------------------------------------- audit
    def audit_events(
        self, items: Sequence[AuditItem | tuple[str, MemoryRecord, str, str]], actor: str = SYSTEM
    ) -> None:
        """Audit events with no change of data (e.g. `check --repair` auditing unaudited records),
        through the seam: journaled, then appended to the chain by the applier. An item is an
        `AuditItem` or `(action, record, decision, reason)`."""
        change = ChangeSet(actor=actor)
        for it in items:
            if isinstance(it, AuditItem):
                change.audit.append(it)
            else:
                action, rec, decision, reason = it
                change.audit.append(AuditItem.of(action, rec, decision, reason, actor))
        if change.audit:
            with self._write_lock:
                self._seam.commit(change)

    # -------------------------------------------------------------------- compatibility
    def _commit(
        self,
        writes: Sequence[tuple[MemoryRecord, Any]],
        history: Sequence[HistoryEntry],
        audit: Sequence[tuple[str, MemoryRecord, str, str]],
        actor: str,
    ) -> None:
        """(for callers written against the former engine) The same change set, through the seam."""
        change = ChangeSet(actor=actor, history=list(history))
        for rec, vec in writes:
            change.add(rec, vec)
        change.audit.extend(AuditItem.of(a, r, d, why, actor) for a, r, d, why in audit)
        self._seam.commit(change)
