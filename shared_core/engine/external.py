"""`memo worker`: extraction and consolidation in a process of their own.

With `extraction.external_worker`, the processes that write turns extract nothing: their applier
puts each change's jobs into the store's shared queue (`store/jobs.py`) together with the turns.
A worker claims the waiting jobs of one scope under a lease, runs them exactly as the thread
worker does (`worker.extract_group`: one extractor call per batch, a timeout, retries, an audit
event when given up), and the change set holding the memories finishes the jobs when the worker's
applier writes it. A worker killed mid-job leaves its claim to expire; another worker (or the
same one restarted) takes the jobs again. Writers see the memories at their next revision check.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ..errors import InvalidInput, MemoError
from .changes import ExtractJob, queued
from .worker import extract_group, new_stats

if TYPE_CHECKING:
    from . import Engine

log = logging.getLogger("shared_core.engine")


class ExternalWorker:
    def __init__(
        self,
        engine: Engine,
        *,
        batch: int = 32,
        timeout: float = 60.0,
        max_attempts: int = 3,
        lease: float | None = None,
        owner: str | None = None,
    ) -> None:
        if engine.job_queue is None:
            raise InvalidInput("memo worker needs extraction.external_worker=true in the configuration")
        self.engine = engine
        self.queue = engine.job_queue
        self.batch = batch
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.lease = lease if lease is not None else 2 * timeout + 30.0
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stats = new_stats()
        self.last_error: str | None = None

    def run_once(self) -> int:
        """Claim the waiting jobs of one scope (up to `batch`) and run them; how many were claimed."""
        claimed = self.queue.claim(self.owner, time.time(), self.lease, self.batch)
        if not claimed:
            return 0
        group: list[ExtractJob] = []
        for j in claimed:
            try:
                group.append(ExtractJob.model_validate_json(j.payload))
            except ValidationError as exc:  # written by another version of MeMo: not ours to guess
                self.stats["jobs_failed"] += 1
                self.last_error = f"job {j.id} cannot be read: {exc.errors()[0]['msg']}"
                log.error("memo worker: %s (dropped)", self.last_error)
                self.queue.finish([j.id])
        ids = [j.id for j in group]
        lost: list[bool] = []

        def still_held() -> bool:  # asked just before a commit
            ok = self.queue.held(ids, self.owner, time.time())
            if not ok:
                lost.append(True)
            return ok

        error = None
        if group:
            error = extract_group(
                self.engine, group, self.timeout, self.max_attempts, self.stats, self._requeue, still_held
            )
            if error is not None:
                self.last_error = error
        # the memories, and the jobs' end, are in the store before the next claim (bounded: a
        # store outage must not keep the loop from seeing `stop`)
        self.engine._seam.flush(self.timeout)
        if lost or error is not None:  # not committed: cancelled rows go (an erasure waits for them)
            self.queue.abandon(ids, self.owner)
        return len(claimed)

    def _requeue(self, jobs: list[ExtractJob]) -> None:
        """A failed batch goes back to the shared queue, its attempts counted, if it is still this
        worker's (not cancelled by an erasure meanwhile)."""
        self.queue.requeue([queued(j) for j in jobs], self.owner)

    def run(
        self, stop: threading.Event | None = None, poll: float = 1.0, *, until_empty: bool = False
    ) -> int:
        """Work until `stop` is set (or, with `until_empty`, until no job is waiting); returns the
        number of jobs run. Store errors are reported and retried after `poll` seconds."""
        stop = stop or threading.Event()
        total = 0
        while not stop.is_set():
            try:
                n = self.run_once()
            except MemoError as exc:  # the server may be restarting: try again
                self.last_error = f"{type(exc).__name__}: {exc}"
                n = 0
            total += n
            if n == 0:
                if until_empty and self.queue.waiting() == 0:
                    break
                stop.wait(poll)
        return total
