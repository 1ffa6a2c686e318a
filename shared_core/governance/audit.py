"""An append-only, hash-chained audit log and its in-memory backend (the JSONL file backend is in `audit_file.py`).

Every event names the one before it (`prev_hash`) and carries its own `hash`:

    hash = sha256(canonical_json({v, seq, at, actor, action, scope, record_id, decision,
                                  reason, payload_digest, prev_hash}))

where canonical JSON is `json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)` encoded as UTF-8, `at` is the UTC ISO-8601 string and
`payload_digest = sha256(canonical_json(payload))`. The hash covers the payload's DIGEST,
not the payload itself, and not the `payload_redacted` flag: erasure (`redact_payload`)
replaces the payload by `{"sha256": payload_digest}` and the chain still verifies. So put
personal data only in `payload`; `actor`, `reason`, `record_id` and `scope` are kept for ever.

The first event has `seq == 0` and `prev_hash == GENESIS` ("0" * 64). `verify()` reports the
first problem it meets: "changed" (an event's content does not match its hash), "removed"
(a gap in `seq`, or a `prev_hash` that does not name the previous event), "reordered"
(`seq` going backwards or a missing `seq` found later), "bad genesis" (the head was cut off).
A cut TAIL cannot be seen from the chain alone: keep `AuditReport.head_hash` somewhere else
and pass it back as `expected_head` to detect it.

Backends implement the small `AuditBackend` protocol below; `AuditLog` does the rest. The
backends: `InMemoryAuditBackend` (here), `audit_file.FileAuditBackend` (JSONL, POSIX file locks)
and `store.chroma_audit.ChromaAuditBackend` (next to the records).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, Union, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..clock import Clock, SystemClock, ensure_utc
from ..errors import AuditIntegrityError, InvalidInput
from ..models import Scope

__all__ = [
    "GENESIS",
    "PayloadValue",
    "AuditEvent",
    "AuditReport",
    "AuditBackend",
    "AuditAppendConflict",
    "AuditLog",
    "InMemoryAuditBackend",
    "canonical_json",
    "payload_digest",
    "compute_hash",
    "build_event",
    "redact_payload",
    "check_replacement",
    "verify",
]

GENESIS = "0" * 64
HASH_VERSION = 1
_HEX64 = r"^[0-9a-f]{64}$"

PayloadValue = Union[str, int, float, bool, None]
Problem = Literal["changed", "removed", "reordered", "bad genesis"]


class AuditAppendConflict(AuditIntegrityError):
    """`AuditLog.append` lost the race for the next sequence number too many times in a row."""


# ------------------------------------------------------------------------------ hashing


def canonical_json(obj: Any) -> bytes:
    """The one byte form that is hashed. Non-finite floats are refused (InvalidInput)."""
    try:
        return json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except ValueError as exc:
        raise InvalidInput(f"audit data cannot be serialised canonically: {exc}") from None


def payload_digest(payload: dict[str, PayloadValue]) -> str:
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def _hashed_fields(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    scope: Scope | None,
    record_id: str | None,
    decision: str,
    reason: str,
    digest: str,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "v": HASH_VERSION,
        "seq": seq,
        "at": ensure_utc(at).isoformat(),
        "actor": actor,
        "action": action,
        "scope": None if scope is None else scope.model_dump(),
        "record_id": record_id,
        "decision": decision,
        "reason": reason,
        "payload_digest": digest,
        "prev_hash": prev_hash,
    }


# ------------------------------------------------------------------------------ models


class AuditEvent(BaseModel):
    """One audit entry. Build it with `build_event` (or `AuditLog.append`), never by hand."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(ge=0)
    at: datetime
    actor: str = Field(min_length=1)
    action: str = Field(min_length=1)
    scope: Scope | None = None
    record_id: str | None = None
    decision: str = ""
    reason: str = ""
    payload: dict[str, PayloadValue] = Field(default_factory=dict)
    payload_digest: str = Field(pattern=_HEX64)
    payload_redacted: bool = False
    prev_hash: str = Field(pattern=_HEX64)
    hash: str = Field(pattern=_HEX64)

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return ensure_utc(v)

    @field_validator("payload")
    @classmethod
    def _finite(cls, v: dict[str, PayloadValue]) -> dict[str, PayloadValue]:
        for key, value in v.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"payload[{key!r}] is not a finite number")
        return v


class AuditReport(BaseModel):
    """What `verify` found. `head_hash` is the hash of the last event (anchor it elsewhere)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    count: int = Field(ge=0)
    first_bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = ""
    head_hash: str | None = None


def compute_hash(event: AuditEvent) -> str:
    fields = _hashed_fields(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        scope=event.scope,
        record_id=event.record_id,
        decision=event.decision,
        reason=event.reason,
        digest=event.payload_digest,
        prev_hash=event.prev_hash,
    )
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def build_event(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    scope: Scope | None,
    record_id: str | None,
    decision: str,
    reason: str,
    payload: dict[str, PayloadValue] | None,
    prev_hash: str,
) -> AuditEvent:
    """A complete, hashed event. Raises InvalidInput for a payload that is not flat scalars."""
    try:
        data = dict(payload or {})
        # validate first (types, finiteness), then hash what was validated
        draft = AuditEvent(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            scope=scope,
            record_id=record_id,
            decision=decision,
            reason=reason,
            payload=data,
            payload_digest=GENESIS,
            prev_hash=prev_hash,
            hash=GENESIS,
        )
    except ValidationError as exc:
        raise InvalidInput(
            f"invalid audit event: {exc.errors(include_url=False, include_input=False)}"
        ) from None
    digest = payload_digest(draft.payload)
    fields = _hashed_fields(
        seq=draft.seq,
        at=draft.at,
        actor=draft.actor,
        action=draft.action,
        scope=draft.scope,
        record_id=draft.record_id,
        decision=draft.decision,
        reason=draft.reason,
        digest=digest,
        prev_hash=draft.prev_hash,
    )
    return draft.model_copy(
        update={"payload_digest": digest, "hash": hashlib.sha256(canonical_json(fields)).hexdigest()}
    )


def redact_payload(event: AuditEvent) -> AuditEvent:
    """A copy whose payload is `{"sha256": payload_digest}`; `hash` and the chain are unchanged."""
    if event.payload_redacted:
        return event
    return event.model_copy(update={"payload": {"sha256": event.payload_digest}, "payload_redacted": True})


def _content_problem(event: AuditEvent) -> str | None:
    if event.payload_redacted:
        if event.payload != {"sha256": event.payload_digest}:
            return "redacted payload does not match its digest"
    elif payload_digest(event.payload) != event.payload_digest:
        return "payload does not match its digest"
    if compute_hash(event) != event.hash:
        return "fields do not match the hash"
    return None


def verify(events: Sequence[AuditEvent], expected_head: str | None = None) -> AuditReport:
    """Check a whole chain, in the order given (a backend's `read()` order)."""
    seqs = {e.seq for e in events}
    prev: AuditEvent | None = None
    for ev in events:
        if prev is not None and ev.seq <= prev.seq:
            return _bad(events, ev.seq, "reordered", f"seq {ev.seq} comes after seq {prev.seq}")
        problem = _content_problem(ev)
        if problem:
            return _bad(events, ev.seq, "changed", f"seq {ev.seq}: {problem}")
        if prev is None:
            if ev.seq != 0 or ev.prev_hash != GENESIS:
                return _bad(
                    events, ev.seq, "bad genesis", f"the chain starts at seq {ev.seq}, not at a genesis event"
                )
        else:
            expected = prev.seq + 1
            if ev.seq != expected:
                if expected in seqs:
                    return _bad(
                        events, ev.seq, "reordered", f"seq {expected} appears later than seq {ev.seq}"
                    )
                return _bad(events, expected, "removed", f"seq {expected}..{ev.seq - 1} missing")
            if ev.prev_hash != prev.hash:
                return _bad(events, ev.seq, "removed", f"seq {ev.seq} does not link to seq {prev.seq}")
        prev = ev
    head = prev.hash if prev is not None else None
    if expected_head is not None and head != expected_head:
        next_seq = 0 if prev is None else prev.seq + 1
        return _bad(events, next_seq, "removed", "the chain ends before the expected head (truncated tail)")
    return AuditReport(ok=True, count=len(events), head_hash=head)


def _bad(events: Sequence[AuditEvent], seq: int, problem: Problem, detail: str) -> AuditReport:
    head = events[-1].hash if events else None
    return AuditReport(
        ok=False, count=len(events), first_bad_seq=seq, problem=problem, detail=detail, head_hash=head
    )


def check_replacement(old: AuditEvent, new: AuditEvent) -> None:
    """`replace` may only rewrite payloads: everything hashed must stay identical."""
    same = (old.seq, old.hash, old.prev_hash, old.payload_digest) == (
        new.seq,
        new.hash,
        new.prev_hash,
        new.payload_digest,
    )
    if not same or _content_problem(new) is not None:
        raise AuditIntegrityError(f"replace: event {new.seq} changes more than its payload")


# ------------------------------------------------------------------------------ backend protocol


@runtime_checkable
class AuditBackend(Protocol):
    """Where events are kept. Four methods; `AuditLog` builds and hashes the events.

    - `last()`: the event with the highest seq, or None when empty.
    - `try_append(event)`: store `event` iff no event with `event.seq` exists yet, atomically
      with respect to other writers (processes too, if the backend is shared). Return False,
      without writing, when that seq is taken: the caller re-reads `last()` and retries.
      Backends SHOULD also refuse a seq that is not `last().seq + 1` (0 when empty) or a
      `prev_hash` that is not `last().hash`; the two backends here do.
    - `read(start_seq=0)`: the events with seq >= start_seq, in seq order (file backends: in
      the order stored, so that `verify` can see a reordering).
    - `replace(events)`: overwrite the stored events having the same seqs. ONLY for erasure,
      which rewrites payloads (`redact_payload`); every hashed field must stay identical, and
      the in-tree backends raise AuditIntegrityError otherwise. Events not named are untouched.
    """

    def last(self) -> AuditEvent | None: ...

    def try_append(self, event: AuditEvent) -> bool: ...

    def read(self, start_seq: int = 0) -> list[AuditEvent]: ...

    def replace(self, events: list[AuditEvent]) -> None: ...


def _links(last: AuditEvent | None, event: AuditEvent) -> bool:
    if last is None:
        return event.seq == 0 and event.prev_hash == GENESIS
    return event.seq == last.seq + 1 and event.prev_hash == last.hash


class InMemoryAuditBackend:
    """A list guarded by a lock: for tests and for stores that keep nothing on disk."""

    def __init__(self) -> None:
        self._events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def last(self) -> AuditEvent | None:
        with self._lock:
            return self._events[-1] if self._events else None

    def try_append(self, event: AuditEvent) -> bool:
        with self._lock:
            if not _links(self._events[-1] if self._events else None, event):
                return False
            self._events.append(event)
            return True

    def read(self, start_seq: int = 0) -> list[AuditEvent]:
        with self._lock:
            return [e for e in self._events if e.seq >= start_seq]

    def replace(self, events: list[AuditEvent]) -> None:
        with self._lock:
            index = {e.seq: i for i, e in enumerate(self._events)}
            for new in events:
                if new.seq not in index:
                    raise AuditIntegrityError(f"replace: no event with seq {new.seq}")
                check_replacement(self._events[index[new.seq]], new)
            for new in events:
                self._events[index[new.seq]] = new


# ------------------------------------------------------------------------------ the log


class AuditLog:
    """Appends, verifies, redacts and exports the chain kept by an `AuditBackend`."""

    def __init__(self, backend: AuditBackend, clock: Clock | None = None, *, max_retries: int = 64) -> None:
        if max_retries < 1:
            raise InvalidInput("max_retries must be at least 1")
        self.backend = backend
        self.clock: Clock = clock or SystemClock()
        self.max_retries = max_retries

    def append(
        self,
        actor: str,
        action: str,
        scope: Scope | None = None,
        record_id: str | None = None,
        decision: str = "",
        reason: str = "",
        payload: dict[str, PayloadValue] | None = None,
    ) -> AuditEvent:
        """Add one event at the end of the chain; retries when another writer got there first.

        Raises InvalidInput for bad fields (empty actor/action, nested or non-finite payload
        values) and AuditAppendConflict after `max_retries` lost races.
        """
        at = self.clock.now()
        for _ in range(self.max_retries):
            last = self.backend.last()
            event = build_event(
                seq=0 if last is None else last.seq + 1,
                at=at,
                actor=actor,
                action=action,
                scope=scope,
                record_id=record_id,
                decision=decision,
                reason=reason,
                payload=payload,
                prev_hash=GENESIS if last is None else last.hash,
            )
            if self.backend.try_append(event):
                return event
        raise AuditAppendConflict(f"could not append to the audit log after {self.max_retries} attempts")

    def append_many(self, items: Sequence[dict[str, Any]]) -> list[AuditEvent]:
        """Append several events (each a dict of `append`'s keyword arguments) as one chain segment.

        Backends with `try_append_batch(events) -> int` (how many, from the start, were stored)
        write the segment in one call; others append event by event. Lost races are retried
        from the first event that was not stored.
        """
        at = self.clock.now()
        pending = list(items)
        done: list[AuditEvent] = []
        batch = getattr(self.backend, "try_append_batch", None)
        for _ in range(self.max_retries):
            if not pending:
                return done
            prev = self.backend.last()
            events = []
            for item in pending:
                fields = {
                    "scope": None,
                    "record_id": None,
                    "decision": "",
                    "reason": "",
                    "payload": None,
                    **item,
                }
                prev = build_event(
                    seq=0 if prev is None else prev.seq + 1,
                    at=at,
                    prev_hash=GENESIS if prev is None else prev.hash,
                    **fields,
                )
                events.append(prev)
            if batch is not None:
                n = int(batch(events))
            else:
                n = 0
                for event in events:
                    if not self.backend.try_append(event):
                        break
                    n += 1
            done.extend(events[:n])
            pending = pending[n:]
        if pending:
            raise AuditAppendConflict(f"could not append to the audit log after {self.max_retries} attempts")
        return done

    def events(self, start_seq: int = 0) -> list[AuditEvent]:
        return self.backend.read(start_seq)

    def head(self) -> AuditEvent | None:
        return self.backend.last()

    def verify(self, expected_head: str | None = None) -> AuditReport:
        """Verify the whole stored chain; an unreadable store is reported as "changed"."""
        try:
            events = self.backend.read()
        except AuditIntegrityError as exc:
            return AuditReport(ok=False, count=0, problem="changed", detail=str(exc))
        return verify(events, expected_head)

    def redact_scope(self, scope: Scope) -> int:
        """Redact the payload of every event whose scope lies inside `scope`; returns how many.

        Hashes are kept, so the chain still verifies. Events without a scope are untouched.
        """
        todo = [
            redact_payload(e)
            for e in self.backend.read()
            if e.scope is not None and scope.contains(e.scope) and not e.payload_redacted
        ]
        if todo:
            self.backend.replace(todo)
        return len(todo)

    def export(self) -> list[dict[str, Any]]:
        """Every event as a JSON-ready dict (`at` as an ISO string), in chain order."""
        return [e.model_dump(mode="json") for e in self.backend.read()]
