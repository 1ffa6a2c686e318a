"""`extraction.external_worker`: writers queue extraction jobs in the store; `memo worker`
processes (here `ExternalWorker` on a second engine over the same embedded directory) run them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shared_core import ExternalWorker, InvalidInput, Kind, MemoConfig, Memory, Scope, Status
from shared_core.config import ExtractionConfig
from shared_core.embed import HashingEmbedder
from shared_core.engine.changes import ExtractJob
from shared_core.engine.worker import extract_group, new_stats
from shared_core.governance.access import Principal, Role

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


def test_erasure_purges_the_queue_and_a_claimed_batch_never_commits(tmp_path: Path) -> None:
    writer = _open(tmp_path)
    writer.add_messages(TURNS, scope=ALICE, session_id="s1")
    bob = Scope(tenant="acme", user="bob")
    writer.add_messages([{"role": "user", "content": "I love sailing on the lake", "id": "b1"}], scope=bob)
    writer.flush()
    queue = writer.engine.job_queue
    assert queue is not None and queue.waiting() == 2
    worker = ExternalWorker(writer.engine, owner="w1")
    claimed = queue.claim("w1", time.time(), 60.0, 10)  # the worker holds alice's batch...
    assert [j.scope.user for j in claimed] == ["alice"]
    writer.governor.forget_user(Principal(id="dpo", role=Role.ADMIN), ALICE)  # ...and alice is erased
    assert queue.waiting() == 1  # bob's job stays
    ids = [j.id for j in claimed]
    assert not queue.held(ids, "w1", time.time())
    # the batch it held finishes its extraction now: asked before the commit, the claim is gone
    group = [ExtractJob.model_validate_json(j.payload) for j in claimed]
    stats = new_stats()
    assert (
        extract_group(
            writer.engine, group, 30.0, 3, stats, lambda _: None, lambda: queue.held(ids, "w1", time.time())
        )
        is None
    )
    writer.flush()
    assert writer.records(ALICE, statuses=list(Status)) == [] and stats["memories"] == 0
    assert worker.run(until_empty=True, poll=0.05) == 1  # bob's only
    assert writer.records(ALICE) == [] and _memories(writer) == []
    assert any("sailing" in r.text for r in writer.records(bob) if r.kind is not Kind.EPISODE)
    writer.close()


def test_jobs_of_a_crashed_writer_reach_the_queue_at_the_next_open(tmp_path: Path) -> None:
    """kill -9 right after `add_messages` returned, before the applier wrote anything: the
    journal replay at the next open writes the turns and queues their job."""
    child = textwrap.dedent(
        f"""
        import os
        from shared_core import Memory, MemoConfig, Scope
        from shared_core.config import ExtractionConfig
        from shared_core.embed import HashingEmbedder
        mem = Memory.open({str(tmp_path)!r}, embedder=HashingEmbedder(),
                          config=MemoConfig(extraction=ExtractionConfig(external_worker=True)))
        mem.add_messages({TURNS!r}, scope=Scope(tenant="acme", user="alice"), session_id="s1")
        os.kill(os.getpid(), 9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    mem = _open(tmp_path)
    assert mem.recovered.replayed >= 1 or len(mem.records(ALICE, kinds=["episode"])) == 2
    assert len(mem.records(ALICE, kinds=["episode"])) == 2
    assert mem.stats()["jobs_waiting"] == 1
    assert ExternalWorker(mem.engine).run(until_empty=True, poll=0.05) == 1
    assert any("peanut" in t for t in _memories(mem))
    mem.close()


def test_a_worker_needs_the_external_configuration(tmp_path: Path) -> None:
    mem = _open(tmp_path, MemoConfig())
    with pytest.raises(InvalidInput, match="external_worker"):
        ExternalWorker(mem.engine)
    mem.close()
