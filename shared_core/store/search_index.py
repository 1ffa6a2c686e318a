"""What a search reads: one scope's records, their vectors and their BM25 index, cached by revision.

Building an index costs one read of the scope (records and vectors together). After that, a
question costs one revision check, one matrix product (exact cosine, no approximate graph) and
one BM25 lookup. An entry is rebuilt when the scope's revision token changes, whichever process
made the change; entries are evicted least recently used beyond a budget of records.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from ..embed.base import Vectors
from ..models import MemoryRecord
from .lexical import LexicalIndex


class ScopeIndex:
    """An immutable view of one scope for search: records (oldest first), vectors, BM25."""

    def __init__(
        self, records: Sequence[MemoryRecord], vectors: Vectors, lexical_docs: Sequence[tuple[str, str]]
    ) -> None:
        self.records = list(records)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        if len(self.vectors) != len(self.records) or (self.records and self.vectors.ndim != 2):
            raise ValueError("one vector per record is required")
        self.position = {r.id: i for i, r in enumerate(self.records)}
        self.lexical = LexicalIndex(lexical_docs)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.records)

    def dense(self, query: Vectors, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The `n` nearest records (only where `mask` is true) as (position, cosine similarity), best
        first (ties: older first)."""
        if not self.records or n <= 0:
            return []
        sims = self.vectors @ np.asarray(query, dtype=np.float32).reshape(-1)
        if mask is not None:
            n = min(n, int(mask.sum()))
            if n == 0:
                return []
            sims = np.where(mask, sims, -np.inf)
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        top = top[np.lexsort((top, -sims[top]))]
        return [(int(i), float(sims[i])) for i in top]

    def lexical_ranks(self, query: str, n: int, mask: np.ndarray | None = None) -> list[int]:
        """Positions of the `n` best BM25 matches (only where `mask` is true), best first."""
        found = [
            self.position[rid] for rid, _ in self.lexical.search(query, n if mask is None else len(self))
        ]
        return found[:n] if mask is None else [p for p in found if mask[p]][:n]

    def refresh(self, records: Sequence[MemoryRecord]) -> None:
        """Replace records whose searchable content did not change (access counts and times)."""
        with self._lock:
            for r in records:
                i = self.position.get(r.id)
                if i is not None:
                    self.records[i] = r


class IndexCache:
    """`ScopeIndex` entries by key, valid while their revision token is current."""

    def __init__(self, max_records: int = 50_000, max_entries: int = 256) -> None:
        self._entries: OrderedDict[str, tuple[str, ScopeIndex]] = OrderedDict()
        self._max_records = max_records
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, key: str, revision: str, build: Callable[[], ScopeIndex]) -> ScopeIndex:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == revision:
                self._entries.move_to_end(key)
                return hit[1]
        index = build()  # outside the lock: other scopes stay readable while this one loads
        with self._lock:
            self._entries[key] = (revision, index)
            self._entries.move_to_end(key)
            total = sum(len(ix) for _, ix in self._entries.values())
            while len(self._entries) > 1 and (
                total > self._max_records or len(self._entries) > self._max_entries
            ):
                _, (_, old) = self._entries.popitem(last=False)  # the newest entry always stays
                total -= len(old)
        return index

    def cached(self) -> list[ScopeIndex]:
        with self._lock:
            return [ix for _, ix in self._entries.values()]

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()
