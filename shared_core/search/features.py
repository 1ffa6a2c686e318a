"""What ranking reads of each record, as arrays parallel to a scope index's records.

Scoring a hundred candidates one Python object at a time costs more than finding them; with the
numbers kept here (filled once when the index is built, changed in place with it) a search scores
its candidates with a few array operations, whatever the size of the scope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..models import ROLE_WORDS, Kind, MemoryRecord

_ROLES = frozenset(ROLE_WORDS)

# columns of `Features.table`
EVENT, SEEN, IMPORTANCE, USES, MEMORY, QUESTION = range(6)


def _row(r: MemoryRecord) -> tuple[float, float, float, float, float, float]:
    event = r.event_time.timestamp()
    last = r.last_accessed_at.timestamp() if r.last_accessed_at is not None else event
    memory = r.kind is not Kind.EPISODE
    question = not memory and r.text.rstrip().endswith("?")
    return event, max(event, last), r.importance, float(r.access_count), float(memory), float(question)


def _who(r: MemoryRecord) -> str:
    return (r.provenance.speaker or r.subject or "").lower()


class Features:
    """Per record (a row of `table`): event time and last-seen time (seconds since the epoch),
    importance, uses, 1.0 for a memory (0.0 for a raw turn), 1.0 for a question turn; and in
    `who`, who said it or is its subject (lower case). Appends are amortised O(1)."""

    def __init__(self, records: Sequence[MemoryRecord]) -> None:
        self._buf = np.zeros((max(16, 2 * len(records)), 6), dtype=np.float64)
        for i, r in enumerate(records):
            self._buf[i] = _row(r)
        self.table = self._buf[: len(records)]
        self.who = [_who(r) for r in records]
        self._people = Counter(self.who)

    def people(self) -> set[str]:
        """The names (lower case) of everyone who said a record or is its subject; a role word
        ("user", the subject of a nameless user's memories) is no name."""
        return {w for w, n in self._people.items() if n > 0 and w and w not in _ROLES}

    def set(self, i: int, r: MemoryRecord) -> None:
        self.table[i] = _row(r)
        self._people[self.who[i]] -= 1
        self.who[i] = _who(r)
        self._people[self.who[i]] += 1

    def append(self, r: MemoryRecord) -> None:
        n = len(self.table)
        if n >= len(self._buf):
            buf = np.zeros((2 * n + 16, 6), dtype=np.float64)
            buf[:n] = self.table
            self._buf = buf
        self._buf[n] = _row(r)
        self.table = self._buf[: n + 1]
        self.who.append(_who(r))
        self._people[self.who[-1]] += 1

    def keep(self, keep: np.ndarray) -> None:
        rows = self.table[keep]
        self._buf = np.zeros((max(16, 2 * len(rows)), 6), dtype=np.float64)
        self._buf[: len(rows)] = rows
        self.table = self._buf[: len(rows)]
        self.who = [w for w, k in zip(self.who, keep) if k]
        self._people = Counter(self.who)
