"""Aggregate rows: one per person and group of memories, listing them in one line. Pure.

A list question ("What activities does Melanie do?", "Where has Caroline been?") has its answer
spread over many turns, each found alone only if it happens to resemble the question. An
aggregate gathers a subject's active memories of one group (likes, plans, places, activities,
facts) into one searchable line that cites all their source turns:

    Melanie's activities: ran a charity race for mental health on 20 May 2023; took their kids
    to a pottery workshop on 14 July 2023; ...

Aggregates are derived rows of a scope's search index (`search/index.py`), never stored: the
index recomputes a group's aggregate whenever one of its memories is added, changed or removed.
So an aggregate always says exactly what its memories say now: a deleted or erased memory leaves
it at once, a memory in review never enters it, and nothing derived outlives its sources on disk.
Its vector is the mean of its memories' vectors (no embedder call); BM25 reads its text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from ..embed.base import Vectors, normalise
from ..models import Kind, MemoryRecord, Origin, Provenance, Status

PREFIX = "agg:"  # the id of every aggregate row starts with it; no stored record's id does
EXTRACTOR = "aggregate"
MIN_MEMBERS = 2  # one memory alone is its own best line

# events about going somewhere form their own group: "where has X been?"
_PLACE_ATTRIBUTES = frozenset(
    {
        "went_to",
        "visited",
        "moved_to",
        "moved_from",
        "travelled_to",
        "traveled_to",
        "lives_in",
        "born_in",
        "grew_up_in",
        "from",
        "flew_to",
        "drove_to",
        "returned_from",
    }
)
_GROUP_OF_KIND = {
    Kind.PREFERENCE: "likes",
    Kind.COMMITMENT: "plans",
    Kind.EVENT: "activities",
    Kind.FACT: "facts",
}
LABELS = {
    "likes": "likes and interests",
    "plans": "plans and goals",
    "activities": "activities",
    "places": "places",
    "facts": "facts",
}
_SAID_ON = re.compile(r"\s*\(said on [^)]*\)\s*$")

Key = tuple[str, str, str]  # (scope key, subject, group)


def is_aggregate(record_id: str) -> bool:
    return record_id.startswith(PREFIX)


def group_of(rec: MemoryRecord) -> str | None:
    group = _GROUP_OF_KIND.get(rec.kind)
    if group is None:
        return None
    if rec.attribute is not None and rec.attribute.lower() in _PLACE_ATTRIBUTES:
        return "places"
    return group


def key_of(rec: MemoryRecord) -> Key | None:
    """Which aggregate a record belongs to: an active extracted memory with a subject; None for a
    raw turn, a memory without a subject, one not active (in review, superseded) or an aggregate."""
    if rec.status is not Status.ACTIVE or not rec.subject or is_aggregate(rec.id):
        return None
    group = group_of(rec)
    if group is None:
        return None
    return rec.scope.key(), rec.subject.strip().lower(), group


def aggregate_id(key: Key) -> str:
    return PREFIX + hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:24]


def _display_name(members: Sequence[MemoryRecord], subject: str) -> str:
    """The subject as the memories write it ("Melanie", not "melanie")."""
    for m in members:
        if m.text[: len(subject)].lower() == subject:
            return m.text[: len(subject)]
    return subject


def item(rec: MemoryRecord, name: str) -> str:
    """A memory as one item of the list: its text without the leading subject and without the
    trailing "(said on ...)" (the aggregate is dated by its newest memory)."""
    text = _SAID_ON.sub("", rec.text).strip()
    low, name = text.lower(), name.lower()
    if low.startswith(name + " and others "):  # "Melanie and others went camping"
        text = text[len(name) + 12 :] + " (with others)"
    elif low.startswith(name + " "):
        text = text[len(name) + 1 :]
    elif low.startswith(name + "'s "):
        text = text[len(name) + 3 :]
    return text.rstrip(" .;")


def build(
    key: Key, members: Sequence[MemoryRecord], vectors: Vectors, max_items: int
) -> tuple[MemoryRecord, Vectors]:
    """The aggregate of `members` (one key, at least `MIN_MEMBERS`), with their vectors in the same
    order: the newest `max_items` of them, listed oldest first."""
    order = sorted(range(len(members)), key=lambda i: (members[i].event_time, members[i].created_at))
    chosen = order[-max_items:]
    recs = [members[i] for i in chosen]
    _, subject, group = key
    name = _display_name(recs, subject)
    text = f"{name}'s {LABELS[group]}: " + "; ".join(item(r, name) for r in recs)
    sources = list(dict.fromkeys(s for r in recs for s in r.provenance.source_message_ids))
    newest = recs[-1]
    inferred = any(r.provenance.origin is Origin.INFERRED for r in recs)
    rec = MemoryRecord(
        id=aggregate_id(key),
        scope=newest.scope,
        kind=newest.kind,
        text=text,
        created_at=max(r.created_at for r in recs),
        updated_at=max(r.updated_at for r in recs),
        importance=max(r.importance for r in recs),
        confidence=min(r.confidence for r in recs),
        provenance=Provenance(
            source_message_ids=sources,
            speaker=name,
            extractor=EXTRACTOR,
            origin=Origin.INFERRED if inferred else Origin.STATED,
        ),
        subject=newest.subject,
        attribute=f"aggregate:{group}",
        metadata={"aggregate": group, "members": len(members)},
    )
    vec = normalise(np.mean(np.asarray(vectors, dtype=np.float32)[chosen], axis=0))[0]
    return rec, vec
