"""Consolidation: what to do with a new memory given its nearest existing neighbours. Pure.

`decide` returns one of four decisions; the engine applies it (history, store, audit):

* `Add(record)`: nothing like it exists (also: every episode, always).
* `Merge(target)`: a duplicate; `target` is the existing record updated with the new one's
  provenance (source ids and turn timestamps unioned), max confidence and importance,
  `version + 1`, `updated_at = now`. Merging is idempotent: merging the same record again
  changes nothing, and a merge that would change nothing is returned as `Skip`.
* `Supersede(old, new)`: the new record replaces a stale one. For single-valued attributes
  (lives_in, works_at, job, name, age, relationship_status, ... see `is_single_valued`) a
  different value for the same subject; a negated record ("no longer lives in Paris") for the
  matching value; a flipped preference (likes X -> dislikes X). `old` becomes SUPERSEDED with
  `valid_to` = the new record's `valid_from` (else `now`) and `superseded_by = new.id`; `new`
  gets `supersedes += [old.id]`. History is never lost: the old record is kept and linked.
* `Skip(reason)`: nothing to store (the same record again, or a no-op merge).

Duplicates are: same kind and cosine similarity >= `duplicate_threshold`, or the same
normalised (subject, attribute, value). Multi-valued attributes (likes, visited, ...) are only
ever merged, never superseded. Events and commitments with known, non-overlapping times are
never duplicates of each other ("went camping" in June and in August are two events). Records
about different subjects, or with different attributes, are never merged on similarity alone.

Only ACTIVE and PENDING_REVIEW neighbours of the same scope are considered; only ACTIVE ones
can be superseded. An optional `judge(new, existing) -> "same" | "update" | "different"` is
asked about neighbours whose similarity falls in the grey band just under the threshold (an
LLM can be plugged in there); if it raises, the answer is "different".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .clock import ensure_utc
from .extract.base import is_negated
from .models import Kind, MemoryRecord, Origin, Status

__all__ = [
    "Add",
    "Decision",
    "Judge",
    "Merge",
    "SINGLE_VALUED",
    "Skip",
    "Supersede",
    "decide",
    "is_single_valued",
    "merge_records",
    "normalise_value",
    "supersede_records",
]

SINGLE_VALUED = frozenset(
    {
        "lives_in",
        "works_at",
        "works_in",
        "job",
        "name",
        "age",
        "relationship_status",
        "birth_date",
        "birthday",
        "born_in",
        "from",
        "grew_up_in",
        "diet",
        "studies_at",
        "partner",
        "spouse",
        "wife",
        "husband",
        "boyfriend",
        "girlfriend",
        "fiance",
        "mother",
        "father",
        "best_friend",
    }
)
"""Attributes that hold one value at a time: a new value supersedes the old one."""

_OPPOSITES = {"likes": "dislikes", "dislikes": "likes", "prefers": "dislikes"}

Verdict = Literal["same", "update", "different"]
Judge = Callable[[MemoryRecord, MemoryRecord], Verdict]


def is_single_valued(attribute: str | None) -> bool:
    """True for attributes that hold one value at a time (also `number_of_*`, `favourite_*`)."""
    if not attribute:
        return False
    a = attribute.strip().lower()
    return a in SINGLE_VALUED or a.startswith(("number_of_", "favourite_"))


class _Decision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Add(_Decision):
    op: Literal["add"] = "add"
    record: MemoryRecord
    reason: str = "new memory"


class Merge(_Decision):
    op: Literal["merge"] = "merge"
    target: MemoryRecord  # the existing record, updated
    merged_id: str | None = None  # the new record folded into it (not stored)
    reason: str = "duplicate"


class Supersede(_Decision):
    op: Literal["supersede"] = "supersede"
    old: MemoryRecord  # now SUPERSEDED, closed, linked to `new`
    new: MemoryRecord  # to store, linked to `old`
    reason: str = "updated value"


class Skip(_Decision):
    op: Literal["skip"] = "skip"
    reason: str
    duplicate_of: str | None = None


Decision = Annotated[Union[Add, Merge, Supersede, Skip], Field(discriminator="op")]

_DETERMINERS = {"a", "an", "the", "my", "their", "his", "her", "our", "your", "its", "some"}
_PUNCT = re.compile(r"[^\w\s'&+-]")


def normalise_value(value: str | None) -> str | None:
    """`"  The Big Apple! "` -> `"big apple"`: lower case, no punctuation, no leading article."""
    if value is None:
        return None
    words = _PUNCT.sub(" ", value.lower()).split()
    while len(words) > 1 and words[0] in _DETERMINERS:
        words = words[1:]
    return " ".join(words) or None


def _norm(s: str | None) -> str | None:
    if s is None:
        return None
    out = " ".join(s.lower().split())
    return out or None


def _same_subject_attribute(a: MemoryRecord, b: MemoryRecord) -> bool:
    return (
        _norm(a.subject) is not None
        and _norm(a.subject) == _norm(b.subject)
        and _norm(a.attribute) is not None
        and _norm(a.attribute) == _norm(b.attribute)
    )


def _same_key(a: MemoryRecord, b: MemoryRecord) -> bool:
    va, vb = normalise_value(a.value), normalise_value(b.value)
    return _same_subject_attribute(a, b) and va is not None and va == vb


def _interval(r: MemoryRecord) -> tuple[datetime, datetime] | None:
    if r.valid_from is None:
        return None
    end = (
        r.valid_to
        if r.valid_to is not None and r.valid_to > r.valid_from
        else r.valid_from + timedelta(days=1)
    )
    return r.valid_from, end


def _time_compatible(a: MemoryRecord, b: MemoryRecord) -> bool:
    """Events and commitments with known times are the same only when their times overlap."""
    if a.kind not in {Kind.EVENT, Kind.COMMITMENT}:
        return True
    ia, ib = _interval(a), _interval(b)
    if ia is None or ib is None:
        return True
    return ia[0] < ib[1] and ib[0] < ia[1]


def _conflicts(a: MemoryRecord, b: MemoryRecord) -> bool:
    """Structured handles that say these are different memories whatever the embedding says."""
    if is_negated(a) != is_negated(b):
        return True
    sa, sb = _norm(a.subject), _norm(b.subject)
    if sa is not None and sb is not None and sa != sb:
        return True
    aa, ab = _norm(a.attribute), _norm(b.attribute)
    if aa is not None and ab is not None and aa != ab:
        return True
    if aa is not None and aa == ab and is_single_valued(aa):
        va, vb = normalise_value(a.value), normalise_value(b.value)
        if va is not None and vb is not None and va != vb:
            return True
    return not _time_compatible(a, b)


def _union(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """`first` as it is, then the items of `second` it lacks (in order, once each)."""
    seen = set(first)
    out = list(first)
    for x in second:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def merge_records(a: MemoryRecord, b: MemoryRecord, *, now: datetime | None = None) -> MemoryRecord:
    """`a` updated with what `b` adds; `a` unchanged (same object) when `b` adds nothing.

    Keeps `a`'s id, text, kind, scope and creation time. Unions source message ids, turn
    timestamps and `supersedes`; takes the max of confidence, importance and access count, the
    latest access, `pinned` if either is; fills missing validity, session and speaker from `b`,
    and takes `b`'s subject/attribute/value only when `a` has no attribute and no value (the
    handle is never mixed); an ACTIVE `b` makes a PENDING_REVIEW `a` ACTIVE; STATED beats INFERRED.
    When something changed: `version + 1` and `updated_at = now` (default: the later
    `updated_at` of the two). Idempotent: `merge_records(merge_records(a, b), b)` equals
    `merge_records(a, b)`.
    """
    pa, pb = a.provenance, b.provenance
    known = set(pa.turn_timestamps)
    stamps = [*pa.turn_timestamps, *sorted({t for t in pb.turn_timestamps if t not in known})]
    provenance = pa.model_copy(
        update={
            "source_message_ids": _union(pa.source_message_ids, pb.source_message_ids),
            "turn_timestamps": stamps,
            "session_id": pa.session_id if pa.session_id is not None else pb.session_id,
            "speaker": pa.speaker if pa.speaker is not None else pb.speaker,
            "origin": Origin.STATED if Origin.STATED in (pa.origin, pb.origin) else pa.origin,
        }
    )
    valid_from = a.valid_from if a.valid_from is not None else b.valid_from
    if a.valid_from is not None and b.valid_from is not None and a.kind in {Kind.FACT, Kind.PREFERENCE}:
        valid_from = min(a.valid_from, b.valid_from)
    valid_to = a.valid_to if a.valid_to is not None else b.valid_to
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        valid_to = a.valid_to if a.valid_to is not None and a.valid_to >= valid_from else None
    accessed = [t for t in (a.last_accessed_at, b.last_accessed_at) if t is not None]
    bare = a.attribute is None and a.value is None and a.subject in (None, b.subject)
    status = a.status
    if a.status is Status.PENDING_REVIEW and b.status is Status.ACTIVE:
        status = Status.ACTIVE
    update = {
        "provenance": provenance,
        "confidence": max(a.confidence, b.confidence),
        "importance": max(a.importance, b.importance),
        "pinned": a.pinned or b.pinned,
        "access_count": max(a.access_count, b.access_count),
        "last_accessed_at": max(accessed) if accessed else None,
        # the structured handle travels as one: never pair a's value with b's attribute or subject
        "subject": b.subject if bare else a.subject,
        "attribute": b.attribute if bare else a.attribute,
        "value": b.value if bare else a.value,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "supersedes": _union(a.supersedes, b.supersedes),
        "metadata": {**b.metadata, **a.metadata},
        "status": status,
    }
    merged = a.model_copy(update=update)
    if merged == a:
        return a
    when = ensure_utc(now) if now is not None else max(a.updated_at, b.updated_at)
    return merged.model_copy(update={"version": a.version + 1, "updated_at": max(when, a.updated_at)})


def supersede_records(
    old: MemoryRecord, new: MemoryRecord, *, now: datetime
) -> tuple[MemoryRecord, MemoryRecord]:
    """(old closed and linked, new linked). `old.valid_to` = `new.valid_from` else `now`."""
    now = ensure_utc(now)
    end = new.valid_from if new.valid_from is not None else now
    if old.valid_to is not None and old.valid_to < end:
        end = old.valid_to
    if old.valid_from is not None and end < old.valid_from:
        end = old.valid_from
    closed = old.model_copy(
        update={
            "status": Status.SUPERSEDED,
            "valid_to": end,
            "superseded_by": new.id,
            "version": old.version + 1,
            "updated_at": max(now, old.updated_at),
        }
    )
    linked = new.model_copy(update={"supersedes": _union(new.supersedes, [old.id])})
    return closed, linked


def _merge_or_skip(target: MemoryRecord, new: MemoryRecord, now: datetime, reason: str) -> Merge | Skip:
    merged = merge_records(target, new, now=now)
    if merged is target:
        return Skip(reason=f"already known ({reason})", duplicate_of=target.id)
    return Merge(target=merged, merged_id=new.id, reason=reason)


def _recency(r: MemoryRecord) -> datetime:
    return r.valid_from or r.event_time


def _supersede(old: MemoryRecord, new: MemoryRecord, now: datetime, reason: str) -> Supersede | Add:
    if (
        not is_negated(new)
        and new.valid_from is not None
        and old.valid_from is not None
        and new.valid_from < old.valid_from
    ):
        # the new statement is about an earlier time: history, not an update of the current value
        vt = old.valid_from if new.valid_to is None or new.valid_to > old.valid_from else new.valid_to
        return Add(
            record=new.model_copy(update={"valid_to": vt}), reason=f"older than current value {old.id}"
        )
    closed, linked = supersede_records(old, new, now=now)
    return Supersede(old=closed, new=linked, reason=reason)


def decide(
    new: MemoryRecord,
    neighbours: Sequence[tuple[MemoryRecord, float]],
    *,
    now: datetime,
    duplicate_threshold: float,
    judge: Judge | None = None,
    grey_band: float = 0.1,
) -> Decision:
    """What to do with `new` given existing records of its scope and their similarity to it.

    `neighbours` are (record, cosine similarity in [0, 1]) pairs, in any order; records of
    other scopes, episodes and records that are neither ACTIVE nor PENDING_REVIEW are ignored.
    """
    now = ensure_utc(now)
    if new.kind is Kind.EPISODE:
        return Add(record=new, reason="raw turn")
    pool: list[tuple[MemoryRecord, float]] = []
    for rec, sim in neighbours:
        if rec.id == new.id:
            return Skip(reason="already stored", duplicate_of=rec.id)
        if rec.kind is Kind.EPISODE or rec.scope != new.scope:
            continue
        if rec.status not in {Status.ACTIVE, Status.PENDING_REVIEW}:
            continue
        pool.append((rec, min(1.0, max(0.0, float(sim)))))
    # best first: highest similarity, then the most recent, then id for determinism
    pool.sort(key=lambda p: (-p[1], -_recency(p[0]).timestamp(), p[0].id))
    active = [(r, s) for r, s in pool if r.status is Status.ACTIVE]

    if is_negated(new):
        nv = normalise_value(new.value)
        for rec, _ in active:
            if (
                not is_negated(rec)
                and _same_subject_attribute(rec, new)
                and (nv is None or normalise_value(rec.value) == nv)
            ):
                return _supersede(rec, new, now, "no longer true")
        for rec, _ in pool:
            same = is_negated(rec) and rec.kind is new.kind and _same_subject_attribute(rec, new)
            if same and normalise_value(rec.value) == nv:
                return _merge_or_skip(rec, new, now, "same negated statement")
        return Add(record=new, reason="negated statement with nothing to end")

    for rec, _ in pool:
        if (
            rec.kind is new.kind
            and not is_negated(rec)
            and _same_key(rec, new)
            and _time_compatible(rec, new)
        ):
            return _merge_or_skip(rec, new, now, "same subject, attribute and value")

    attr = _norm(new.attribute)
    if attr is not None and _norm(new.subject) is not None and new.value is not None:
        opposite = _OPPOSITES.get(attr)
        stale = [
            r
            for r, _ in active
            if not is_negated(r)
            and r.kind is not Kind.EPISODE
            and (
                (
                    is_single_valued(attr)
                    and r.value is not None
                    and _same_subject_attribute(r, new)
                    and not _same_key(r, new)
                )
                or (
                    opposite is not None
                    and _norm(r.subject) == _norm(new.subject)
                    and _norm(r.attribute) == opposite
                    and normalise_value(r.value) == normalise_value(new.value)
                )
            )
        ]
        if stale:
            old = max(stale, key=lambda r: (_recency(r), r.updated_at, r.id))
            reason = "changed preference" if opposite and old.attribute == opposite else f"new {attr}"
            return _supersede(old, new, now, reason)

    for rec, sim in pool:
        if sim >= duplicate_threshold and rec.kind is new.kind and not _conflicts(rec, new):
            return _merge_or_skip(rec, new, now, f"near duplicate (similarity {sim:.2f})")

    if judge is not None:
        low = duplicate_threshold - grey_band
        for rec, sim in pool:
            if not (low <= sim < duplicate_threshold) or rec.kind is not new.kind or _conflicts(rec, new):
                continue
            try:
                verdict = judge(new, rec)
            except Exception:  # a judge (often an LLM) failing must not fail the write
                verdict = "different"
            if verdict == "same":
                return _merge_or_skip(rec, new, now, f"judged the same (similarity {sim:.2f})")
            if verdict == "update" and rec.status is Status.ACTIVE:
                return _supersede(rec, new, now, f"judged an update (similarity {sim:.2f})")

    return Add(record=new)
