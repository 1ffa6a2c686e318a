"""The shared queue of extraction jobs, for `memo worker` processes (`extraction.external_worker`).

A writer's applier puts the jobs of the turns it writes into the store, next to the turns; a
worker claims the waiting jobs of one scope at a time under a lease, extracts, and the change set
holding its memories finishes them. A worker that dies leaves its claim to expire: the jobs are
claimed again (at least once; memory ids are derived from their source, so a second run merges
into what the first wrote). Payloads are opaque strings to this layer (JSON of the engine's
`ExtractJob`); they hold the (redacted) turn text, so erasing a scope purges its jobs too.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..models import Scope


@dataclass(frozen=True)
class QueuedJob:
    id: str
    scope: Scope
    payload: str


class JobQueue(Protocol):
    def put(self, jobs: Sequence[QueuedJob], now: float) -> None:
        """Queue jobs (a job already queued keeps its place and its claim)."""
        ...

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[QueuedJob]:
        """Up to `limit` waiting jobs of one scope (the scope of the oldest waiting job), claimed
        by `owner` until `now + lease`; jobs whose claim expired are waiting again."""
        ...

    def release(self, ids: Sequence[str]) -> None:
        """Give claimed jobs back at once (to be tried again)."""
        ...

    def finish(self, ids: Sequence[str]) -> None:
        """Remove done jobs."""
        ...

    def held(self, ids: Sequence[str], owner: str, now: float) -> bool:
        """Whether every one of these jobs is still queued and claimed by `owner` (not expired)."""
        ...

    def purge(self, scope: Scope) -> int:
        """Remove every job readable through `scope` (erasure); returns how many."""
        ...

    def waiting(self) -> int:
        """Jobs not finished (claimed or not)."""
        ...


class InMemoryJobQueue:
    """The queue of an in-memory store (tests; several engines on one `InMemoryStore`)."""

    def __init__(self) -> None:
        self._jobs: dict[str, tuple[QueuedJob, float, str, float]] = {}  # id -> (job, at, owner, until)
        self._lock = threading.Lock()

    def put(self, jobs: Sequence[QueuedJob], now: float) -> None:
        with self._lock:
            for j in jobs:
                self._jobs.setdefault(j.id, (j, now, "", 0.0))

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[QueuedJob]:
        with self._lock:
            free = sorted((at, j.id) for j, at, _, until in self._jobs.values() if until <= now)
            if not free:
                return []
            scope = self._jobs[free[0][1]][0].scope
            mine = [jid for _, jid in free if self._jobs[jid][0].scope == scope][:limit]
            for jid in mine:
                job, at, _, _ = self._jobs[jid]
                self._jobs[jid] = (job, at, owner, now + lease)
            return [self._jobs[jid][0] for jid in mine]

    def release(self, ids: Sequence[str]) -> None:
        with self._lock:
            for jid in ids:
                if jid in self._jobs:
                    job, at, _, _ = self._jobs[jid]
                    self._jobs[jid] = (job, at, "", 0.0)

    def finish(self, ids: Sequence[str]) -> None:
        with self._lock:
            for jid in ids:
                self._jobs.pop(jid, None)

    def held(self, ids: Sequence[str], owner: str, now: float) -> bool:
        with self._lock:
            return all(
                jid in self._jobs and self._jobs[jid][2] == owner and self._jobs[jid][3] > now for jid in ids
            )

    def purge(self, scope: Scope) -> int:
        with self._lock:
            gone = [jid for jid, (j, *_) in self._jobs.items() if scope.contains(j.scope)]
            for jid in gone:
                del self._jobs[jid]
            return len(gone)

    def waiting(self) -> int:
        with self._lock:
            return len(self._jobs)
