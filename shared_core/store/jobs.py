"""The shared queue of extraction jobs, for `memo worker` processes (`extraction.external_worker`).

A writer's applier puts the jobs of the turns it writes into the store, next to the turns. A
worker claims the waiting jobs of one scope under a lease (no other worker takes that scope
while the lease runs, so consolidation sees one batch at a time), extracts, and the change set
holding its memories finishes the jobs when its applier writes it. A worker that dies leaves its
claim to expire: the jobs are claimed again (at least once). Payloads are opaque strings to this
layer (JSON of the engine's `ExtractJob`) holding the (redacted) turn text, so erasure takes them
out: `cancel` removes a scope's waiting jobs and marks the claimed ones cancelled, which no
worker commits and which the erasure waits out (`remaining`) before it erases the records.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ..models import Scope


@dataclass(frozen=True)
class QueuedJob:
    id: str
    scope: Scope
    payload: str


class JobQueue(Protocol):
    def put(self, jobs: Sequence[QueuedJob], now: float) -> None:
        """Queue jobs (a job already queued keeps its place, payload and claim)."""
        ...

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[QueuedJob]:
        """Up to `limit` waiting jobs of one scope that no one else holds a live claim in (the
        oldest such scope), claimed by `owner` until `now + lease`."""
        ...

    def requeue(self, jobs: Sequence[QueuedJob], owner: str) -> None:
        """Jobs `owner` still holds (not cancelled) go back to waiting with a new payload (one
        more attempt counted); any other is left alone."""
        ...

    def finish(self, ids: Sequence[str]) -> None:
        """Remove done jobs (cancelled or not)."""
        ...

    def abandon(self, ids: Sequence[str], owner: str) -> None:
        """`owner` gives these jobs up without committing: the cancelled ones are removed (an
        erasure is waiting for them), the others it still holds wait again."""
        ...

    def held(self, ids: Sequence[str], owner: str, now: float) -> bool:
        """Every one of these jobs is still queued, not cancelled, claimed by `owner`, not expired."""
        ...

    def live(self, ids: Sequence[str]) -> bool:
        """Every one of these jobs is still queued and not cancelled (a commit may finish them)."""
        ...

    def cancel(self, scope: Scope, now: float) -> list[tuple[str, float]]:
        """Erasure: remove the jobs of `scope` no one holds; mark the claimed ones cancelled and
        return them with the end of their claim."""
        ...

    def remaining(self, ids: Sequence[str]) -> list[str]:
        """Which of these jobs are still queued."""
        ...

    def purge(self, scope: Scope) -> int:
        """Remove every job readable through `scope`; returns how many."""
        ...

    def waiting(self) -> int:
        """Jobs not finished (claimed or not)."""
        ...


@dataclass(frozen=True)
class _Row:
    job: QueuedJob
    at: float
    owner: str = ""
    until: float = 0.0
    cancelled: bool = False


class InMemoryJobQueue:
    """The queue of an in-memory store (tests; several engines on one `InMemoryStore`)."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()

    def put(self, jobs: Sequence[QueuedJob], now: float) -> None:
        with self._lock:
            for j in jobs:
                self._rows.setdefault(j.id, _Row(j, now))

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[QueuedJob]:
        with self._lock:
            busy = {r.job.scope for r in self._rows.values() if r.until > now}
            free = sorted(
                (r.at, jid) for jid, r in self._rows.items() if r.until <= now and r.job.scope not in busy
            )
            if not free:
                return []
            scope = self._rows[free[0][1]].job.scope
            mine = [jid for _, jid in free if self._rows[jid].job.scope == scope][:limit]
            for jid in mine:
                self._rows[jid] = replace(self._rows[jid], owner=owner, until=now + lease, cancelled=False)
            return [self._rows[jid].job for jid in mine]

    def requeue(self, jobs: Sequence[QueuedJob], owner: str) -> None:
        with self._lock:
            for j in jobs:
                row = self._rows.get(j.id)
                if row is not None and row.owner == owner and not row.cancelled:
                    self._rows[j.id] = replace(row, job=j, owner="", until=0.0)

    def finish(self, ids: Sequence[str]) -> None:
        with self._lock:
            for jid in ids:
                self._rows.pop(jid, None)

    def abandon(self, ids: Sequence[str], owner: str) -> None:
        with self._lock:
            for jid in ids:
                row = self._rows.get(jid)
                if row is not None and row.cancelled:
                    del self._rows[jid]
                elif row is not None and row.owner == owner:
                    self._rows[jid] = replace(row, owner="", until=0.0)

    def held(self, ids: Sequence[str], owner: str, now: float) -> bool:
        with self._lock:
            rows = [self._rows.get(jid) for jid in ids]
            return all(r is not None and r.owner == owner and r.until > now and not r.cancelled for r in rows)

    def live(self, ids: Sequence[str]) -> bool:
        with self._lock:
            return all(jid in self._rows and not self._rows[jid].cancelled for jid in ids)

    def cancel(self, scope: Scope, now: float) -> list[tuple[str, float]]:
        with self._lock:
            out = []
            for jid, r in list(self._rows.items()):
                if not scope.contains(r.job.scope):
                    continue
                if r.until > now:
                    self._rows[jid] = replace(r, cancelled=True)
                    out.append((jid, r.until))
                else:
                    del self._rows[jid]
            return out

    def remaining(self, ids: Sequence[str]) -> list[str]:
        with self._lock:
            return [jid for jid in ids if jid in self._rows]

    def purge(self, scope: Scope) -> int:
        with self._lock:
            gone = [jid for jid, r in self._rows.items() if scope.contains(r.job.scope)]
            for jid in gone:
                del self._rows[jid]
            return len(gone)

    def waiting(self) -> int:
        with self._lock:
            return len(self._rows)
