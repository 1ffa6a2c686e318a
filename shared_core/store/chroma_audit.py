"""Where the audit chain lives: next to the records, in the same store.

Embedded and server Chroma keep it in `<prefix>_audit` as a dense sequence of rows ("blocks"), row
`i` holding one or more consecutive events (a store written before blocks existed has one event
per row, which is the same format). An append claims the next row id with Chroma's `add`, which
ignores an id that exists, then reads it back: the writer won iff the stored block starts with its
own event. One id is claimed per append, so a lost race leaves nothing behind, rows are never
deleted, and several processes can append to one chain.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from pydantic import ValidationError

from .._boundary import translate
from ..clock import Clock, SystemClock
from ..config import MemoConfig
from ..errors import AuditIntegrityError
from ..governance.audit import GENESIS, AuditEvent, AuditLog, InMemoryAuditBackend, check_replacement
from ..governance.policy import PIIAction
from .chroma import ChromaStore
from .chroma_graph import UNIT, side_collection


def _row_id(index: int) -> str:
    return f"{index:012d}"


class ChromaAuditBackend:
    def __init__(self, store: ChromaStore) -> None:
        client = store._client
        prefix = store._records.name.rsplit("_records", 1)[0]
        with translate("store", "open audit collection"):
            self._col = side_collection(client, f"{prefix}_audit")
        # (seq of the last event, its hash, index of the row after it), as last seen by `last()`
        self._tail: tuple[int, str, int] = (-1, GENESIS, -1)

    @staticmethod
    def _parse(got: Any) -> list[tuple[int, list[AuditEvent]]]:
        """(row index, events) for each row in `got`."""
        out = []
        for rid, meta in zip(got.get("ids") or [], got.get("metadatas") or []):
            try:
                raw = (meta or {})["json"]
                items = json.loads(raw) if raw.startswith("[") else [raw]
                events = [
                    AuditEvent.model_validate(i) if isinstance(i, dict) else AuditEvent.model_validate_json(i)
                    for i in items
                ]
                index = int(rid)
            except (ValidationError, ValueError, KeyError, TypeError, AttributeError):
                raise AuditIntegrityError(f"audit entry {rid} cannot be read") from None
            if not events:
                raise AuditIntegrityError(f"audit entry {rid} is empty")
            out.append((index, events))
        return sorted(out, key=lambda row: row[0])

    def _tail_row(self) -> tuple[int, AuditEvent | None]:
        """(index of the next free row, the last event) from the store."""
        with translate("store", "read audit tail"):
            n = self._col.count()
            if n == 0:
                return 0, None
            # rows are dense from 0, so the last is n - 1, unless a write raced us or rows were
            # deleted (tampering, which `verify` reports): then look further until a window is empty
            rows = self._parse(self._col.get(ids=[_row_id(n - 1), _row_id(n)], include=["metadatas"]))
            start = n + 1
            while rows and rows[-1][0] >= start - 1:
                window = [_row_id(i) for i in range(start, start + 16)]
                more = self._parse(self._col.get(ids=window, include=["metadatas"]))
                rows += more
                start += 16
                if not more:
                    break
            if not rows:  # rows were deleted around the tail: find it the slow way
                last_id = max(self._col.get(include=[])["ids"])
                rows = self._parse(self._col.get(ids=[last_id], include=["metadatas"]))
        index, events = rows[-1]
        return index + 1, events[-1]

    def last(self) -> AuditEvent | None:
        nxt, event = self._tail_row()
        self._tail = (-1, GENESIS, 0) if event is None else (event.seq, event.hash, nxt)
        return event

    def try_append(self, event: AuditEvent) -> bool:
        return self.try_append_batch([event]) == 1

    def try_append_batch(self, events: list[AuditEvent]) -> int:
        """Store a chain segment as one row; returns len(events) if it was stored, 0 if another
        writer got the row first (the caller re-reads `last()` and retries)."""
        if not events:
            return 0
        first = events[0]
        seq, head, nxt = self._tail
        if (seq, head) != (first.seq - 1, first.prev_hash):
            nxt, last = self._tail_row()
            if (last is None and first.seq != 0) or (
                last is not None and (last.seq, last.hash) != (first.seq - 1, first.prev_hash)
            ):
                return 0
        rid = _row_id(nxt)
        with translate("store", "append audit"):
            self._col.add(
                ids=[rid], embeddings=[UNIT], documents=[first.action], metadatas=[self._meta(events)]
            )
            stored = self._parse(self._col.get(ids=[rid], include=["metadatas"]))
        if not stored or stored[0][1][0].hash != first.hash:
            return 0
        self._tail = (events[-1].seq, events[-1].hash, nxt + 1)
        return len(events)

    @staticmethod
    def _meta(events: list[AuditEvent]) -> dict[str, Any]:
        scopes = [e.scope for e in events if e.scope is not None]
        body = (
            events[0].model_dump_json()
            if len(events) == 1
            else json.dumps([e.model_dump(mode="json") for e in events])
        )
        return {
            "seq": events[-1].seq,  # the last seq of the row: `read(start)` selects rows by it
            "first_seq": events[0].seq,
            "tenant": scopes[0].tenant if scopes else "",
            "json": body,
        }

    def _rows(self, start_seq: int = 0) -> list[tuple[int, list[AuditEvent]]]:
        with translate("store", "read audit"):
            got = self._col.get(where={"seq": {"$gte": start_seq}}, include=["metadatas"])
        return self._parse(got)

    def read(self, start_seq: int = 0) -> list[AuditEvent]:
        events = [e for _, row in self._rows(start_seq) for e in row if e.seq >= start_seq]
        return sorted(events, key=lambda e: e.seq)

    def replace(self, events: list[AuditEvent]) -> None:
        """Rewrite the payloads of stored events (erasure); each new event must match its old one
        in everything the hash covers."""
        if not events:
            return
        new = {e.seq: e for e in events}
        rows = self._rows(min(new))
        changed: list[tuple[int, list[AuditEvent]]] = []
        for index, row in rows:
            if any(e.seq in new for e in row):
                for old in row:
                    if old.seq in new:
                        check_replacement(old, new[old.seq])
                changed.append((index, [new.get(e.seq, e) for e in row]))
        missing = set(new) - {e.seq for _, row in changed for e in row}
        if missing:
            raise AuditIntegrityError(f"replace: no event with seq {min(missing)}")
        with translate("store", "rewrite audit payloads"):
            for s in range(0, len(changed), 500):
                part = changed[s : s + 500]
                self._col.upsert(
                    ids=[_row_id(i) for i, _ in part],
                    embeddings=[UNIT for _ in part],
                    documents=[row[0].action for _, row in part],
                    metadatas=[self._meta(row) for _, row in part],
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
