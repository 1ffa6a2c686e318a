"""Reads by id answer from the scope's cached index only while this engine writes the store alone."""

from __future__ import annotations

from pathlib import Path

from shared_core import Memory, Scope


def test_two_memories_on_one_directory_in_one_process_see_each_others_writes(tmp_path: Path) -> None:
    """Reads by id come from the cached index only while nothing else writes the store: a second
    `Memory` on the same directory in this process writes behind the first one's cache."""
    from shared_core.embed import HashingEmbedder

    alice = Scope(tenant="acme", user="alice")
    a = Memory.open(tmp_path, embedder=HashingEmbedder())
    b = Memory.open(tmp_path, embedder=HashingEmbedder())
    try:
        rec = a.remember("Alice likes green tea", alice, key="tea")
        a.flush()  # in the store, where `b` can see it
        a.search("tea", alice)  # caches the scope's index in `a`
        assert a.get(rec.id, alice).text == "Alice likes green tea"
        b.remember("Alice likes black tea now", alice, key="tea")  # same record, a new version
        b.flush()
        assert a.get(rec.id, alice).text == "Alice likes black tea now"
    finally:
        b.close()
        a.close()
