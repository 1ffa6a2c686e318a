"""Where the audit chain lives: next to the records, in the same store.

Embedded and server Chroma keep it in `<prefix>_audit`, one entry per sequence number. Appends
are optimistic: Chroma's `add` ignores an id that exists, so a writer adds entry `seq`, reads
it back, and knows it won only if the stored hash is its own. Several processes can append.
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import ValidationError

from .._boundary import translate
from ..clock import Clock, SystemClock
from ..config import MemoConfig
from ..errors import AuditIntegrityError
from ..governance.audit import AuditEvent, AuditLog, InMemoryAuditBackend
from ..governance.policy import PIIAction
from .chroma import ChromaStore

_UNIT = [1.0]


def _seq_id(seq: int) -> str:
    return f"{seq:012d}"


class ChromaAuditBackend:
    def __init__(self, store: ChromaStore) -> None:
        client = store._client
        prefix = store._records.name.rsplit("_records", 1)[0]
        with translate("store", "open audit collection"):
            self._col = client.get_or_create_collection(f"{prefix}_audit", embedding_function=None)

    def _parse(self, got: Any) -> list[AuditEvent]:
        out = []
        for rid, meta in zip(got.get("ids") or [], got.get("metadatas") or []):
            try:
                out.append(AuditEvent.model_validate_json((meta or {})["json"]))
            except (ValidationError, ValueError, KeyError):
                raise AuditIntegrityError(f"audit entry {rid} cannot be read") from None
        return out

    def last(self) -> AuditEvent | None:
        with translate("store", "read audit tail"):
            n = self._col.count()
            if n == 0:
                return None
            # seq numbers are dense from 0; the highest id is n - 1 unless a write raced us
            got = self._col.get(ids=[_seq_id(n - 1), _seq_id(n)], include=["metadatas"])
        events = sorted(self._parse(got), key=lambda e: e.seq)
        return events[-1] if events else None

    def try_append(self, event: AuditEvent) -> bool:
        sid = _seq_id(event.seq)
        with translate("store", "append audit"):
            self._col.add(
                ids=[sid], embeddings=[_UNIT], documents=[event.action], metadatas=[self._meta(event)]
            )
            got = self._col.get(ids=[sid], include=["metadatas"])
        stored = self._parse(got)
        return bool(stored) and stored[0].hash == event.hash

    def try_append_batch(self, events: list[AuditEvent]) -> int:
        """Add a chain segment in one write; returns how many events, from the first, are ours.

        Chroma's `add` skips ids that exist, so after a lost race the stored segment is ours up to
        the first foreign event; our events stored after that point link to nothing and are
        removed again before the caller retries the rest.
        """
        if not events:
            return 0
        ids = [_seq_id(e.seq) for e in events]
        with translate("store", "append audit"):
            self._col.add(
                ids=ids,
                embeddings=[_UNIT for _ in events],
                documents=[e.action for e in events],
                metadatas=[self._meta(e) for e in events],
            )
            stored = {e.seq: e.hash for e in self._parse(self._col.get(ids=ids, include=["metadatas"]))}
            ours = 0
            for e in events:
                if stored.get(e.seq) != e.hash:
                    break
                ours += 1
            dangling = [_seq_id(e.seq) for e in events[ours:] if stored.get(e.seq) == e.hash]
            if dangling:
                self._col.delete(ids=dangling)
        return ours

    @staticmethod
    def _meta(event: AuditEvent) -> dict[str, Any]:
        scope = event.scope.model_dump() if event.scope is not None else {}
        return {
            "seq": event.seq,
            "tenant": scope.get("tenant") or "",
            "user": scope.get("user") or "",
            "json": event.model_dump_json(),
        }

    def read(self, start_seq: int = 0) -> list[AuditEvent]:
        with translate("store", "read audit"):
            got = self._col.get(where={"seq": {"$gte": start_seq}}, include=["metadatas"])
        return sorted(self._parse(got), key=lambda e: e.seq)

    def replace(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        with translate("store", "rewrite audit payloads"):
            for s in range(0, len(events), 500):
                part = events[s : s + 500]
                self._col.upsert(
                    ids=[_seq_id(e.seq) for e in part],
                    embeddings=[_UNIT for _ in part],
                    documents=[e.action for e in part],
                    metadatas=[self._meta(e) for e in part],
                )

    def raw_dump(self) -> dict[str, Any]:
        with translate("store", "dump audit"):
            return dict(self._col.get(include=["documents", "metadatas"]))


PII_KEY = "pii_hash_key"


def pii_hash_key(store: Any) -> str:
    """The keyed-hash (`PIIAction.HASH`) key of this store: generated (256 random bits) and kept in
    the store's meta collection on first use, so no two stores share a key and none uses a public
    default. A deployer who wants the key held apart from the data sets `GovernancePolicy.hash_key`
    from a secret store instead (docs/governance.md)."""
    key = store.get_meta(PII_KEY)
    if key:
        return str(key)
    key = secrets.token_hex(32)
    store.set_meta(PII_KEY, key)
    return str(store.get_meta(PII_KEY) or key)  # another writer may have set it first


def with_pii_hash_key(config: MemoConfig, store: Any) -> MemoConfig:
    """`config`, with the store's own key (`pii_hash_key`) as its policy's `hash_key` when the policy
    hashes PII and brings no key of its own; otherwise `config` unchanged (and no key is generated).
    The facade calls it once, before building the engine."""
    policy = config.policy
    if policy.hash_key is not None or PIIAction.HASH not in policy.pii.values():
        return config
    keyed = policy.model_copy(update={"hash_key": pii_hash_key(store)})
    return config.model_copy(update={"policy": keyed})


def audit_log_for(store: Any, clock: Clock | None = None) -> AuditLog:
    """The audit log that belongs with `store` (Chroma collection, or in memory for tests)."""
    backend: Any = ChromaAuditBackend(store) if isinstance(store, ChromaStore) else InMemoryAuditBackend()
    return AuditLog(backend, clock or SystemClock())
