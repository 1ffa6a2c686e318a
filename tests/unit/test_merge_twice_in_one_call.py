"""New memories of one call that duplicate the same stored memory: found by an outside user running an
agent loop with the default embedder. Two merges into one record built two "version 2" history
entries with one id; the store refused the batch and the applier retried it for ever, so nothing
written afterwards reached the store. The second merge must build on the first."""

from __future__ import annotations

from pathlib import Path

from shared_core import Memory, Scope
from shared_core.embed.base import FunctionEmbedder


def _same_vector(texts: list[str]) -> list[list[float]]:
    return [[0.5, 0.5, 0.5, 0.5] for _ in texts]  # every text a duplicate of every other


def test_a_stored_memory_duplicated_by_several_turns_of_one_exchange(tmp_path: Path) -> None:
    alice = Scope(tenant="acme", user="alice")
    mem = Memory.open(tmp_path, embedder=FunctionEmbedder(_same_vector, 4, "same"))
    try:
        for i in range(6):
            turns = [
                {"role": "user", "content": f"I went hiking with my dog number {i} last weekend"},
                {"role": "user", "content": f"My dog number {i} loves hiking too"},
            ]
            mem.add_messages(turns, alice, session_id="s1")
        mem.flush(timeout=20)  # raised FlushTimeout: the applier could not write a batch
        assert mem.engine._seam.last_error is None and mem.engine._seam.backlog() == 0
        merged = [r for r in mem.records(alice, kinds=["fact", "event", "preference"]) if r.version > 1]
        assert merged, "the scenario must merge"
        for r in merged:
            versions = [e.version for e in mem.history(r.id, alice)]
            assert versions == sorted(set(versions)) and versions[-1] == r.version, versions
    finally:
        mem.close()
