"""The unit of every write: a typed change set (records + vectors, history, tombstones, audit).

Every write, change and delete of MeMo becomes one `ChangeSet` and passes the one seam
(`seam.py`): checked (legal hold), journaled, then applied to the store. A change set is data:
it serialises to one journal line and back, so a crash replays exactly what was acknowledged.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..embed.base import Vectors
from ..errors import LegalHold
from ..models import HistoryEntry, MemoryRecord, Scope, new_id
from ..store.jobs import QueuedJob

AuditAction = Literal[
    "write", "update", "supersede", "review", "delete", "expire", "erase", "import", "repair"
]


class AuditItem(BaseModel):
    """One audit event describing one change of one record (written with, or before, the change)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str
    record_id: str | None
    scope: Scope | None
    decision: str = ""
    reason: str = ""
    actor: str = "system"
    payload: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @classmethod
    def of(cls, action: str, rec: MemoryRecord, decision: str, reason: str, actor: str) -> AuditItem:
        return cls(
            action=action,
            record_id=rec.id,
            scope=rec.scope,
            decision=decision,
            reason=reason,
            actor=actor,
            payload={"kind": rec.kind.value, "status": rec.status.value, "version": rec.version},
        )


class Deletion(BaseModel):
    """Records removed for good (a tombstone stays in history unless `purge_history`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: Scope
    record_ids: list[str]
    purge_history: bool = False


class ExtractJob(BaseModel):
    """Raw turns waiting for extraction and consolidation (the durable background queue)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    scope: Scope
    session_id: str | None = None
    actor: str = "system"
    episodes: list[MemoryRecord]
    roles: list[str]
    attempts: int = 0


class ChangeSet(BaseModel):
    """Everything one call changes. `touch` marks use reinforcement (no revision, no audit)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(default_factory=new_id)
    actor: str = "system"
    records: list[MemoryRecord] = Field(default_factory=list)
    vectors: list[Vectors | None] = Field(default_factory=list)  # one per record; None keeps the stored one
    history: list[HistoryEntry] = Field(default_factory=list)
    deletions: list[Deletion] = Field(default_factory=list)
    audit: list[AuditItem] = Field(default_factory=list)
    jobs: list[ExtractJob] = Field(default_factory=list)  # extraction to run in the background
    done_jobs: list[str] = Field(default_factory=list)  # jobs this change completes (atomically)
    touch: bool = False
    # raw turns journaled before they are embedded: a record without a vector gets one from its
    # `index_text()` after the append (`Seam.settle`), and at replay when the process died first
    embed: bool = False

    def add(
        self,
        rec: MemoryRecord,
        vec: Vectors | None,
        *,
        history: HistoryEntry | None = None,
        audit: AuditItem | None = None,
    ) -> None:
        self.records.append(rec)
        self.vectors.append(vec)
        if history is not None:
            self.history.append(history)
        if audit is not None:
            self.audit.append(audit)

    def scopes(self) -> list[Scope]:
        seen = {r.scope for r in self.records} | {d.scope for d in self.deletions}
        return sorted(seen, key=lambda s: s.key())

    def is_empty(self) -> bool:
        return not (
            self.records or self.history or self.deletions or self.audit or self.jobs or self.done_jobs
        )

    def destructive_scopes(self) -> list[Scope]:
        """Scopes whose data this change removes or ends (what a legal hold forbids)."""
        out = [d.scope for d in self.deletions]
        out += [r.scope for r in self.records if r.status.value in ("expired", "deleted")]
        return out

    # -- journal form ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "records": [r.model_dump(mode="json") for r in self.records],
            "vectors": [None if v is None else _vec_out(v) for v in self.vectors],
            "history": [h.model_dump(mode="json") for h in self.history],
            "deletions": [d.model_dump(mode="json") for d in self.deletions],
            "audit": [a.model_dump(mode="json") for a in self.audit],
            "jobs": [j.model_dump(mode="json") for j in self.jobs],
            "done_jobs": list(self.done_jobs),
            "touch": self.touch,
            **({"embed": True} if self.embed else {}),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ChangeSet:
        return cls(
            id=d["id"],
            actor=d["actor"],
            touch=bool(d.get("touch")),
            embed=bool(d.get("embed")),
            records=[MemoryRecord.model_validate(r) for r in d["records"]],
            vectors=[None if v is None else _vec_in(v) for v in d["vectors"]],
            history=[HistoryEntry.model_validate(h) for h in d["history"]],
            deletions=[Deletion.model_validate(x) for x in d["deletions"]],
            audit=[AuditItem.model_validate(a) for a in d["audit"]],
            jobs=[ExtractJob.model_validate(j) for j in d.get("jobs", [])],
            done_jobs=list(d.get("done_jobs", [])),
        )


def _vec_out(v: Vectors) -> str:
    return base64.b64encode(np.asarray(v, dtype=np.float32).tobytes()).decode("ascii")


def _vec_in(s: str) -> Vectors:
    return np.frombuffer(base64.b64decode(s), dtype=np.float32).copy()


def unembedded(changes: Sequence[ChangeSet]) -> list[tuple[ChangeSet, int]]:
    """(change, position) of each record still waiting for its vector."""
    return [(ch, i) for ch in changes if ch.embed for i, v in enumerate(ch.vectors) if v is None]


def dumps(change: ChangeSet) -> bytes:
    return json.dumps(change.to_json(), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def final_state(
    changes: Sequence[ChangeSet],
) -> tuple[dict[str, tuple[MemoryRecord, Vectors | None]], dict[str, tuple[Scope, bool]]]:
    """The net effect of changes applied in order: the last upsert or delete of each id wins
    (a vector given earlier is kept when a later write of the same record has none)."""
    upserts: dict[str, tuple[MemoryRecord, Vectors | None]] = {}
    deletes: dict[str, tuple[Scope, bool]] = {}
    for ch in changes:
        for rec, vec in zip(ch.records, ch.vectors):
            prev = upserts.get(rec.id)
            if vec is None and prev is not None and rec.id not in deletes:
                vec = prev[1]
            upserts[rec.id] = (rec, vec)
            deletes.pop(rec.id, None)
        for d in ch.deletions:
            for rid in d.record_ids:
                upserts.pop(rid, None)
                deletes[rid] = (d.scope, d.purge_history or deletes.get(rid, (d.scope, False))[1])
    return upserts, deletes


def queued(job: ExtractJob) -> QueuedJob:
    """The job as the shared queue keeps it (`extraction.external_worker`)."""
    return QueuedJob(job.id, job.scope, job.model_dump_json())


__all__ = [
    "AuditItem",
    "ChangeSet",
    "Deletion",
    "ExtractJob",
    "LegalHold",
    "dumps",
    "final_state",
    "queued",
    "unembedded",
]
