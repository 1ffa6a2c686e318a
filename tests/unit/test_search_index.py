"""The per-scope search index and its cache: exact cosine, masks, revision checks, a record budget."""

from __future__ import annotations

import numpy as np

from shared_core.embed import HashingEmbedder
from shared_core.models import Scope
from shared_core.search.index import IndexCache, ScopeIndex
from shared_core.testing import make_record

EMB = HashingEmbedder(dim=64)
ALICE = Scope(tenant="t", user="alice")


def index_of(texts: list[str]) -> ScopeIndex:
    recs = [make_record(ALICE, t, minutes=i) for i, t in enumerate(texts)]
    return ScopeIndex(recs, EMB.embed(texts), [(r.id, r.text) for r in recs])


def test_dense_is_exact_cosine_and_masks() -> None:
    ix = index_of(["green tea in the morning", "the stock market", "a green tea ceremony", "football"])
    q = EMB.embed(["green tea"])[0]
    got = ix.dense(q, 4)
    sims = ix.vectors @ q
    assert [p for p, _ in got] == sorted(range(4), key=lambda i: (-sims[i], i))
    assert np.allclose([s for _, s in got], sorted(sims, reverse=True), atol=1e-6)
    mask = np.array([False, True, True, True])
    assert [p for p, _ in ix.dense(q, 2, mask)][0] == 2 and all(p != 0 for p, _ in ix.dense(q, 4, mask))
    assert ix.lexical_ranks("green tea", 5) in ([0, 2], [2, 0]) and ix.lexical_ranks(
        "green tea", 5, mask
    ) == [2]
    assert ix.dense(q, 3, np.zeros(4, dtype=bool)) == [] and index_of([]).dense(q, 3) == []


def test_cache_rebuilds_on_a_new_revision_and_keeps_a_record_budget() -> None:
    cache = IndexCache(max_records=5)
    builds: list[str] = []

    def build(name: str, n: int):  # type: ignore[no-untyped-def]
        def go() -> ScopeIndex:
            builds.append(name)
            return index_of([f"{name} {i}" for i in range(n)])

        return go

    a = cache.get("a", "r1", build("a", 2))
    assert cache.get("a", "r1", build("a", 2)) is a and builds == ["a"]
    assert cache.get("a", "r2", build("a", 2)) is not a and builds == ["a", "a"]
    cache.get("b", "r1", build("b", 3))  # 2 + 3 records: both fit
    assert len(cache.cached()) == 2
    cache.get("c", "r1", build("c", 2))  # 7 > 5: the least recently used ("a") goes
    assert builds[-1] == "c" and len(cache.cached()) == 2
    cache.get("b", "r1", build("b", 3))
    assert builds.count("b") == 1  # still cached
    big = cache.get("d", "r1", build("d", 9))  # larger than the budget alone: kept, the others go
    assert cache.cached() == [big]
