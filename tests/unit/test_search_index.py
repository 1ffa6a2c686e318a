"""The per-scope search index and its cache: exact cosine, masks, revision checks, a record budget."""

from __future__ import annotations

import random

import numpy as np
import pytest

from shared_core.embed import HashingEmbedder
from shared_core.models import Kind, MemoryRecord, Provenance, Scope
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


def test_filter_masks_stay_current_through_every_change() -> None:
    """A cached mask is updated in place by appends, updates and removals: always what a fresh
    computation over the records gives."""
    from shared_core.models import Kind, Provenance
    from shared_core.store.base import RecordFilter

    recs = [
        make_record(ALICE, f"note {i}", minutes=i, metadata={"team": "a" if i % 2 else "b"}) for i in range(6)
    ]
    ix = ScopeIndex(recs, EMB.embed([r.text for r in recs]), [(r.id, r.text) for r in recs])
    flt = RecordFilter(metadata={"team": "a"})

    def fresh() -> list[bool]:
        return [flt.matches(r) for r in ix.records]

    assert ix.mask(flt).tolist() == fresh() == [False, True, False, True, False, True]
    new = make_record(ALICE, "note 6", minutes=6, metadata={"team": "a"})
    ix.upsert(new, EMB.embed([new.text])[0])
    ix.upsert(recs[1].model_copy(update={"metadata": {"team": "b"}}), None)  # an update, in place
    ix.remove([recs[3].id])
    assert ix.mask(flt).tolist() == fresh() == [False, False, False, False, True, True]
    turn = make_record(ALICE, "hello", kind=Kind.EPISODE, minutes=9, provenance=Provenance(session_id="s1"))
    older = make_record(ALICE, "hi", kind=Kind.EPISODE, minutes=8, provenance=Provenance(session_id="s1"))
    ix.upsert(turn, EMB.embed([turn.text])[0])
    ix.upsert(older, EMB.embed([older.text])[0])  # written later, said earlier
    assert [r.text for r in ix.last_turns("s1", 5)] == ["hi", "hello"]
    assert [r.text for r in ix.last_turns("s1", 1)] == ["hello"] and ix.last_turns("s2", 3) == []
    ix.remove([turn.id])
    assert [r.text for r in ix.last_turns("s1", 0)] == ["hi"]


def test_ranking_features_stay_current_through_every_change() -> None:
    """The numbers ranking reads (times, importance, uses, kind, question, who) are kept in place
    by appends, updates, refreshes and removals: always what a fresh index would compute, and
    past the spare capacity of their buffer."""
    from datetime import timedelta

    from shared_core.models import Kind, Provenance
    from shared_core.search.features import Features

    recs = [make_record(ALICE, f"note {i}", minutes=i) for i in range(5)]
    ix = ScopeIndex(recs, EMB.embed([r.text for r in recs]), [(r.id, r.text) for r in recs])

    def same() -> None:
        fresh = Features(ix.records)
        assert np.array_equal(ix.features.table, fresh.table) and ix.features.who == fresh.who
        assert ix.features.people() == fresh.people()
        assert len(ix.features.table) == len(ix.records)

    same()
    for i in range(40):  # beyond the initial buffer
        kind = Kind.EPISODE if i % 2 else Kind.FACT
        text = f"did you see {i}?" if i % 4 == 1 else f"turn {i}"
        r = make_record(ALICE, text, kind=kind, minutes=10 + i, provenance=Provenance(speaker="Dana"))
        ix.upsert(r, EMB.embed([r.text])[0])
    same()
    used = recs[2].model_copy(
        update={"access_count": 4, "last_accessed_at": recs[2].created_at + timedelta(days=3)}
    )
    ix.refresh([used])
    ix.upsert(recs[1].model_copy(update={"importance": 0.9, "subject": "Ben"}), None)
    same()
    assert ix.features.who[1] == "ben" and ix.features.table[2][3] == 4.0
    assert "ben" in ix.features.people() and "dana" in ix.features.people()
    ix.remove([recs[0].id, ix.records[7].id, ix.records[30].id])
    same()
    ben = ix.records[ix.position[recs[1].id]]  # Ben's only record
    ix.upsert(ben.model_copy(update={"subject": "user"}), None)
    same()
    assert "ben" not in ix.features.people() and "user" not in ix.features.people()  # a role, no name


def _turn(text: str, session: str, minute: int, role: str = "user") -> MemoryRecord:
    return make_record(
        ALICE,
        text,
        kind=Kind.EPISODE,
        minutes=minute,
        provenance=Provenance(session_id=session),
        metadata={"role": role},
    )


@pytest.mark.parametrize(
    ("change", "rank"),
    [
        ({}, 1),  # a user's reply is found through the question before it
        ({"metadata": {"role": "assistant"}}, 2),  # an assistant's "Noted" is not
        ({"metadata": {}}, 2),  # nor a turn without a role
        ({"scope": Scope(tenant="t", user="bob")}, 2),  # nor another user's turn in a session of that name
        ({"provenance": Provenance()}, 2),  # nor turns without a session (both)
    ],
)
def test_only_a_users_reply_in_the_same_session_is_lifted(change: dict[str, object], rank: int) -> None:
    question = _turn("holiday last summer?", "s1", 0)
    reply = _turn("Noted", "s1", 1).model_copy(update=change)
    if "provenance" in change:
        question = question.model_copy(update=change)
    recs = [question, reply, make_record(ALICE, "we spent the summer in Rome", minutes=2)]
    ix = ScopeIndex(recs, EMB.embed([r.text for r in recs]), [(r.id, r.text) for r in recs])
    got = [p for p, _ in ix.dense(EMB.embed(["holiday last summer"])[0], 3, context=0.5)]
    assert got.index(1) == rank  # 2: below the memory that says something


def test_a_reply_is_found_through_the_question_before_it() -> None:
    recs = [
        _turn("where did you go on holiday last summer", "s1", 0),
        _turn("Lisbon with my sister", "s1", 1),
        _turn("the football match tonight", "s1", 2),
        _turn("my cat knocked a vase over", "s2", 3),
        make_record(ALICE, "Alice plays the violin", minutes=4),
    ]
    ix = ScopeIndex(recs, EMB.embed([r.text for r in recs]), [(r.id, r.text) for r in recs])
    q = EMB.embed(["holiday last summer"])[0]
    sims = ix.vectors @ q
    alone = [p for p, _ in ix.dense(q, 2)]
    assert alone[0] == 0 and 1 not in alone  # the reply shares no word with the question asked
    with_context = ix.dense(q, 2, context=0.5)
    assert [p for p, _ in with_context] == [0, 1]
    assert np.isclose(with_context[1][1], sims[1])  # the score it reports is still its own cosine
    # records with no turn before them (a session's first turn, a memory) keep their order
    firsts = [p for p, _ in ix.dense(q, 5, context=0.5) if p in (0, 3, 4)]
    assert firsts == sorted((0, 3, 4), key=lambda i: (-sims[i], i))


def test_turn_context_stays_right_through_in_place_changes() -> None:
    rng = random.Random(7)
    words = [
        "tea",
        "coffee",
        "violin",
        "holiday",
        "lisbon",
        "cat",
        "vase",
        "football",
        "summer",
        "sister",
        "garden",
        "rain",
    ]
    turns = [_turn(" ".join(rng.sample(words, 3)), f"s{i % 3}", i) for i in range(30)]
    memories = [make_record(ALICE, " ".join(rng.sample(words, 2)), minutes=100 + i) for i in range(5)]
    bob = Scope(tenant="t", user="bob")  # an index read by tenant: another user's turns in "s1"
    others = [t.model_copy(update={"id": f"bob{i}", "scope": bob}) for i, t in enumerate(turns[1:30:6])] + [
        _turn("tea without a session", "x", 200 + i).model_copy(update={"provenance": Provenance()})
        for i in range(3)
    ]
    first, rest = turns[:10], turns[10:] + memories + others
    rng.shuffle(rest)  # turns arrive out of order: some before a turn already indexed
    ix = ScopeIndex(first, EMB.embed([r.text for r in first]), [(r.id, r.text) for r in first])

    def same_as_fresh() -> None:
        fresh = ScopeIndex(ix.records, ix.vectors.copy(), [(r.id, r.text) for r in ix.records])
        for word in words:
            q = EMB.embed([word])[0]
            assert ix.dense(q, len(ix), context=0.5) == fresh.dense(q, len(ix), context=0.5), word

    for r in rest:
        assert ix.upsert(r, EMB.embed([r.text])[0])
    same_as_fresh()
    moved = turns[4].model_copy(update={"provenance": Provenance(session_id="s2")})  # a turn changes session
    ix.upsert(moved, None)
    same_as_fresh()
    ix.upsert(turns[13].model_copy(update={"metadata": {"role": "assistant"}}), None)  # a role corrected
    same_as_fresh()
    ix.remove([turns[7].id, turns[20].id, memories[1].id])
    same_as_fresh()


@pytest.mark.parametrize(
    ("query", "names", "embedded"),
    [
        ("What does Melanie do to destress?", {"melanie"}, "What does do to destress?"),
        ("What is Melanie's favourite book?", {"melanie"}, "What is favourite book?"),
        ("Did Jean Luc call Melanie’s mom", {"jean luc", "melanie"}, "Did call mom"),  # two words; ’s
        ("what does melanie do", {"melanie"}, "what does do"),  # no capitals anywhere: any case
        ("What will Caroline do?", {"caroline"}, "What will do?"),  # "will" is not the person Will
        ("Who is Bob?", set(), "Who is Bob?"),  # not someone of the scope
        ("Melanie?", {"melanie"}, "Melanie?"),  # nothing would remain
        ("Melanies garden", set(), "Melanies garden"),  # another word
    ],
)
def test_a_query_names_people_and_is_embedded_without_their_names(
    query: str, names: set[str], embedded: str
) -> None:
    from shared_core.search.score import named

    assert named(query, {"melanie", "caroline", "jean luc", "will"}) == (names, embedded)
