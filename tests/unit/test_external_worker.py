"""`extraction.external_worker`: writers queue extraction jobs in the store; `memo worker`
processes (here `ExternalWorker` on a second engine over the same embedded directory) run them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from shared_core import ExternalWorker, InvalidInput, Kind, MemoConfig, Memory, Scope, Status
from shared_core.config import ExtractionConfig
from shared_core.embed import HashingEmbedder
from shared_core.engine.changes import ChangeSet
from shared_core.extract.base import Candidate, ExtractInput
from shared_core.extract.rules import RuleExtractor
from shared_core.governance.access import Principal, Role
from shared_core.store.jobs import QueuedJob
from shared_core.testing import make_record

EXTERNAL = MemoConfig(extraction=ExtractionConfig(external_worker=True))
ALICE = Scope(tenant="acme", user="alice")
TURNS = [
    {"role": "user", "content": "I moved to Lisbon last spring and I am allergic to peanuts", "id": "m1"},
    {"role": "assistant", "content": "Noted: Lisbon, and no peanuts.", "id": "m2"},
]


def _open(path: Path, config: MemoConfig = EXTERNAL) -> Memory:
    return Memory.open(path, embedder=HashingEmbedder(), config=config)


def _memories(mem: Memory) -> list[str]:
    return sorted(r.text for r in mem.records(ALICE) if r.kind is not Kind.EPISODE)


def test_writer_queues_and_a_worker_extracts(tmp_path: Path) -> None:
    writer = _open(tmp_path)
    result = writer.add_messages(TURNS, scope=ALICE, session_id="s1")
    assert result.extraction == "queued"
    writer.flush()
    assert _memories(writer) == [] and writer.stats()["jobs_waiting"] == 1  # the writer extracts nothing
    assert [h.record.id for h in writer.search("peanuts", scope=ALICE, k=2)][0]  # the raw turn, at once
    worker_mem = _open(tmp_path)  # a second engine on the directory: the worker's process
    worker = ExternalWorker(worker_mem.engine)
    assert worker.run(until_empty=True, poll=0.05) == 1
    assert worker_mem.stats()["jobs_waiting"] == 0 and worker.stats["jobs_done"] == 1
    time.sleep(writer.engine.revision_ttl + 0.05)  # another engine wrote them: seen after a revision check
    found = _memories(writer)
    assert any("peanut" in t for t in found) and any("Lisbon" in t for t in found), found
    assert worker.run_once() == 0  # nothing is done twice
    assert _memories(writer) == found
    worker_mem.close()
    writer.close()


def test_a_dead_workers_claim_expires_and_the_job_is_taken_again(tmp_path: Path) -> None:
    writer = _open(tmp_path)
    writer.add_messages(TURNS, scope=ALICE, session_id="s1")
    writer.flush()
    queue = writer.engine.job_queue
    assert queue is not None
    now = time.time()
    (taken,) = queue.claim("dead-worker", now, 0.3, 10)  # claimed, then the worker dies
    assert queue.claim("other", now, 0.3, 10) == []  # held while the lease runs
    assert queue.held([taken.id], "dead-worker", now) and not queue.held([taken.id], "other", now)
    time.sleep(0.35)
    other = ExternalWorker(writer.engine, owner="other")
    assert other.run(until_empty=True, poll=0.05) == 1
    assert any("peanut" in t for t in _memories(writer))
    assert writer.stats()["jobs_waiting"] == 0
    writer.close()


class GatedRules:
    """The rule extractor, held at a gate: a batch in flight while the test acts."""

    name, version = "gated-rules", "1"

    def __init__(self) -> None:
        self.entered, self.gate = threading.Event(), threading.Event()
        self.inner = RuleExtractor()

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        self.entered.set()
        self.gate.wait(30)
        return self.inner.extract(turns, now=now)


def test_erasure_waits_out_a_batch_in_flight_which_never_commits(tmp_path: Path) -> None:
    writer = _open(tmp_path)
    writer.add_messages(TURNS, scope=ALICE, session_id="s1")
    bob = Scope(tenant="acme", user="bob")
    writer.add_messages([{"role": "user", "content": "I love sailing on the lake", "id": "b1"}], scope=bob)
    writer.flush()
    queue = writer.engine.job_queue
    assert queue is not None and queue.waiting() == 2
    rules = GatedRules()
    worker_mem = Memory.open(tmp_path, embedder=HashingEmbedder(), config=EXTERNAL, extractor=rules)
    worker = ExternalWorker(worker_mem.engine, owner="w1")
    busy = threading.Thread(target=worker.run_once)
    busy.start()  # claims alice's batch (the oldest) and extracts...
    assert rules.entered.wait(10)
    other = queue.claim("w2", time.time(), 60.0, 10)  # ...no one else takes a job of alice's now
    assert [j.scope.user for j in other] == ["bob"]
    queue.abandon([j.id for j in other], "w2")
    admin = Principal(id="dpo", role=Role.ADMIN)
    erasing = threading.Thread(target=writer.governor.forget_user, args=(admin, ALICE))
    erasing.start()
    time.sleep(0.5)
    assert erasing.is_alive()  # the erasure waits for the batch in flight
    rules.gate.set()  # the batch ends: its claim was cancelled, so it commits nothing
    busy.join(10)
    erasing.join(10)
    assert not erasing.is_alive() and worker.stats["memories"] == 0
    worker_mem.flush()
    time.sleep(writer.engine.revision_ttl + 0.05)
    assert (
        writer.records(ALICE, statuses=list(Status)) == [] == worker_mem.records(ALICE, statuses=list(Status))
    )
    assert queue.waiting() == 1  # bob's job stays, and runs
    assert worker.run(until_empty=True, poll=0.05) == 1
    assert any("sailing" in r.text for r in worker_mem.records(bob) if r.kind is not Kind.EPISODE)
    worker_mem.close()
    writer.close()


def test_a_workers_change_for_cancelled_jobs_is_not_written(tmp_path: Path) -> None:
    """The last line of defence, at apply time (and at a replay after a crash): a change that
    finishes jobs an erasure cancelled, or that are no longer queued, is dropped."""
    writer = _open(tmp_path)
    writer.add_messages(TURNS, scope=ALICE, session_id="s1")
    writer.flush()
    queue = writer.engine.job_queue
    assert queue is not None
    (job,) = queue.claim("w1", time.time(), 60.0, 10)
    assert queue.cancel(ALICE, time.time()) == [(job.id, pytest.approx(time.time() + 60.0, abs=5))]
    late = make_record(ALICE, "User is allergic to peanuts", kind=Kind.FACT)
    change = ChangeSet(done_jobs=[job.id])
    change.add(late, HashingEmbedder().embed([late.text])[0])
    writer.engine._seam.apply([change])
    assert writer.store.get(ALICE, [late.id]) == [] and queue.remaining([job.id]) == []
    again = ChangeSet(done_jobs=[job.id])  # a replay of it later: the job is gone, still nothing
    again.add(late, HashingEmbedder().embed([late.text])[0])
    writer.engine._seam.apply([again])
    assert writer.store.get(ALICE, [late.id]) == []
    writer.close()


@pytest.mark.parametrize("child_external", [True, False])
def test_jobs_of_a_crashed_writer_reach_the_queue_at_the_next_open(
    tmp_path: Path, child_external: bool
) -> None:
    """kill -9 right after `add_messages` returned, before the applier wrote anything (or, in
    thread mode, while the worker thread is stuck in extraction): the journal replay at the next
    open, with `external_worker`, writes the turns and queues their job, once."""
    child = textwrap.dedent(
        f"""
        import os, threading
        from shared_core import Memory, MemoConfig, Scope
        from shared_core.config import ExtractionConfig
        from shared_core.embed import HashingEmbedder
        class Stuck:
            name, version = "stuck", "1"
            def extract(self, turns, *, now):
                threading.Event().wait(60)
                return []
        mem = Memory.open({str(tmp_path)!r}, embedder=HashingEmbedder(), extractor=Stuck(),
                          config=MemoConfig(extraction=ExtractionConfig(external_worker={child_external})))
        mem.add_messages({TURNS!r}, scope=Scope(tenant="acme", user="alice"), session_id="s1")
        mem.engine._seam.flush() if {not child_external} else None  # thread mode: the turns applied, the job not done
        os.kill(os.getpid(), 9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    mem = _open(tmp_path)
    assert len(mem.records(ALICE, kinds=["episode"])) == 2
    assert mem.stats()["jobs_waiting"] == 1
    assert ExternalWorker(mem.engine).run(until_empty=True, poll=0.05) == 1
    assert any("peanut" in t for t in _memories(mem))
    mem.close()
    again = _open(tmp_path)  # nothing left to replay or to queue
    assert again.stats()["jobs_waiting"] == 0
    again.close()


def test_a_worker_needs_the_external_configuration(tmp_path: Path) -> None:
    mem = _open(tmp_path, MemoConfig())
    with pytest.raises(InvalidInput, match="external_worker"):
        ExternalWorker(mem.engine)
    mem.close()


class FailingAtGate(GatedRules):
    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        self.entered.set()
        self.gate.wait(30)
        raise RuntimeError("the model is down")


def test_an_erasure_does_not_wait_out_the_lease_of_a_batch_that_fails(tmp_path: Path) -> None:
    writer = _open(tmp_path)
    writer.add_messages(TURNS, scope=ALICE, session_id="s1")
    writer.flush()
    failing = FailingAtGate()
    worker_mem = Memory.open(tmp_path, embedder=HashingEmbedder(), config=EXTERNAL, extractor=failing)
    worker = ExternalWorker(worker_mem.engine, owner="w1", timeout=20.0)  # a lease of 70 s
    busy = threading.Thread(target=worker.run_once)
    busy.start()
    assert failing.entered.wait(10)
    erasing = threading.Thread(
        target=writer.governor.forget_user, args=(Principal(id="dpo", role=Role.ADMIN), ALICE)
    )
    erasing.start()
    time.sleep(0.3)
    failing.gate.set()  # the batch fails while cancelled: it gives the jobs up at once
    busy.join(15)
    erasing.join(15)
    assert not erasing.is_alive() and worker.stats["jobs_done"] == 0
    assert writer.engine.job_queue is not None and writer.engine.job_queue.waiting() == 0
    worker_mem.close()
    writer.close()


def test_a_held_scope_with_many_jobs_does_not_hide_the_others(tmp_path: Path) -> None:
    mem = _open(tmp_path)
    queue = mem.engine.job_queue
    assert queue is not None
    bob = Scope(tenant="acme", user="bob")
    queue.put([QueuedJob(f"a{i:04d}", ALICE, "{}") for i in range(1100)], 1.0)  # a bulk import
    queue.put([QueuedJob("b1", bob, "{}")], 2.0)
    now = time.time()
    assert {j.scope.user for j in queue.claim("w1", now, 60.0, 32)} == {"alice"}
    assert [j.id for j in queue.claim("w2", now, 60.0, 32)] == ["b1"]
    mem.close()
