"""The background worker: extraction and consolidation of queued turns, and use reinforcement.

Jobs come from the journal (`ChangeSet.jobs`), so the queue is durable: a job is done when the
change set holding its memories (and `done_jobs`) is journaled, atomically; a restart replays
the journal and queues every job without that mark. One extractor call per batch of jobs of a
scope, under a timeout: an extractor that hangs is abandoned (its late result is never
committed) and the job retried, then given up with an audit event after `max_attempts`.
`add_messages` never waits for any of this.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import FlushTimeout, MemoError
from ..models import Scope
from .changes import AuditItem, ChangeSet, ExtractJob
from .extraction import JobToken
from .gate import Gate

if TYPE_CHECKING:
    from . import Engine


class Worker:
    def __init__(
        self,
        engine: Engine,
        *,
        timeout: float = 60.0,
        max_attempts: int = 3,
        batch: int = 32,
        gate: Gate | None = None,
    ) -> None:
        self.engine = engine
        self.gate = gate or Gate(quiet=0.0, max_wait=0.0)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.batch = batch
        self._jobs: deque[ExtractJob] = deque()
        self._touches: dict[Scope, list[str]] = {}
        self._busy = 0
        self._running: set[str] = set()
        self._cv = threading.Condition()
        self._stop = False
        self.last_error: str | None = None
        self.stats = new_stats()
        self._thread = threading.Thread(target=self._run, name="memo-worker", daemon=True)
        self._thread.start()

    def enqueue(self, jobs: Sequence[ExtractJob]) -> None:
        with self._cv:
            known = {j.id for j in self._jobs} | self._running
            for j in jobs:
                if j.id not in known:
                    known.add(j.id)
                    self._jobs.append(j)
            self._cv.notify_all()

    def touch(self, scope: Scope, ids: Sequence[str]) -> None:
        with self._cv:
            self._touches.setdefault(scope, []).extend(ids)
            self._cv.notify_all()

    def pending(self) -> int:
        with self._cv:
            return len(self._jobs) + self._busy + len(self._touches)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stop and not self._jobs and not self._touches:
                    self._cv.wait(0.5)
                if self._stop:
                    return
            self.gate.wait_quiet()  # callers first (engine/gate.py); jobs queue up meanwhile
            with self._cv:
                if self._stop:
                    return
                touches, self._touches = self._touches, {}
                group: list[ExtractJob] = []
                if self._jobs:
                    scope = self._jobs[0].scope
                    for j in list(self._jobs):
                        if j.scope == scope and len(group) < self.batch:
                            group.append(j)
                            self._jobs.remove(j)
                self._busy = len(group) + len(touches)
                self._running = {j.id for j in group}
            try:
                for sc, ids in touches.items():
                    try:
                        self.engine.touch(sc, ids)
                    except MemoError as exc:  # reinforcement is best effort
                        self.last_error = str(exc)
                if group:
                    self._extract(group)
            finally:
                with self._cv:
                    self._busy = 0
                    self._running = set()
                    self._cv.notify_all()

    def _extract(self, group: list[ExtractJob]) -> None:
        error = extract_group(self.engine, group, self.timeout, self.max_attempts, self.stats, self._requeue)
        if error is not None:
            self.last_error = error

    def _requeue(self, jobs: list[ExtractJob]) -> None:
        with self._cv:
            self._running = set()
        self.enqueue(jobs)

    def flush(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            self._cv.notify_all()
            while self._jobs or self._busy or self._touches:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise FlushTimeout(
                        f"{len(self._jobs) + self._busy} extraction jobs not done"
                        + (f" (last error: {self.last_error})" if self.last_error else "")
                    )
                self._cv.wait(0.1 if left is None else min(left, 0.1))

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(timeout=5)


def extract_group(
    engine: Engine,
    group: list[ExtractJob],
    timeout: float,
    max_attempts: int,
    stats: dict[str, float],
    requeue: Callable[[list[ExtractJob]], None],
    still_held: Callable[[], bool] | None = None,
) -> str | None:
    """Run one batch of jobs of a scope under `timeout` (an extractor that hangs is abandoned: its
    late result is never committed). A failed batch goes back through `requeue` with one more
    attempt, or is given up after `max_attempts` with an audit event (its raw turns stay
    searchable). Returns the error, if any. The thread worker and `memo worker` both run this
    (`still_held`: asked before the commit, whether the jobs are still this run's to finish)."""
    token = JobToken(still_held)
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["n"] = engine.run_jobs(group, token)
        except BaseException as exc:  # reported below, never raised in a thread
            box["error"] = exc

    t0 = time.monotonic()
    t = threading.Thread(target=run, name="memo-extract", daemon=True)
    t.start()
    t.join(timeout)
    stats["extract_calls"] += 1
    stats["extract_seconds"] += time.monotonic() - t0
    if t.is_alive():
        with engine._write_lock:  # either it has committed, or it never will
            token.wanted = False
            done = token.committed
        if not done:
            stats["timeouts"] += 1
            box["error"] = TimeoutError(f"extraction did not finish in {timeout:g} s")
    if token.committed:  # done, whatever happened after
        stats["jobs_done"] += len(group)
        stats["memories"] += int(box.get("n", 0))  # type: ignore[call-overload]
        return None
    if "error" not in box:  # refused to commit: the jobs were taken away (erasure, a lapsed claim)
        return None
    error = f"{type(box['error']).__name__}: {box['error']}"
    retry = [j.model_copy(update={"attempts": j.attempts + 1}) for j in group]
    again = [j for j in retry if j.attempts < max_attempts]
    if again:
        stats["jobs_retried"] += len(again)
        time.sleep(min(2.0, 0.05 * 2 ** again[0].attempts))
        requeue(again)
    failed = [j for j in retry if j.attempts >= max_attempts]
    if failed and (
        still_held is None or still_held()
    ):  # given up: the raw turns stay; the audit log says why
        stats["jobs_failed"] += len(failed)
        change = ChangeSet(
            actor=failed[0].actor,
            done_jobs=[j.id for j in failed],
            audit=[
                AuditItem(
                    action="extract",
                    record_id=None,
                    scope=j.scope,
                    decision="failed",
                    reason=error[:300],
                    actor=j.actor,
                )
                for j in failed
            ],
        )
        engine._seam.commit(change)
    return error


def new_stats() -> dict[str, float]:
    return {
        "jobs_done": 0,
        "jobs_failed": 0,
        "jobs_retried": 0,
        "extract_calls": 0,
        "extract_seconds": 0.0,
        "memories": 0,
        "timeouts": 0,
    }
