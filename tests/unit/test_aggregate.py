"""Aggregate rows (`search/aggregate.py`): one derived line per person and group of memories,
recomputed by the scope index whenever one of its memories changes, never stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from shared_core import MemoConfig, Memory, NotFound, Scope
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder
from shared_core.governance.access import Principal, Role
from shared_core.models import Kind, MemoryRecord, Provenance, Status
from shared_core.search import aggregate
from shared_core.search.index import ScopeIndex
from shared_core.store.base import RecordFilter

EMB = HashingEmbedder(dim=128)
T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
SC = Scope(tenant="t", user="u")
ADMIN = Principal(id="ops-admin", role=Role.ADMIN)


def memory(text: str, source: str, *, subject: str = "alice", kind: Kind = Kind.PREFERENCE,
           attribute: str = "likes", day: int = 0, status: Status = Status.ACTIVE) -> MemoryRecord:  # fmt: skip
    at = T0 + timedelta(days=day)
    return MemoryRecord(
        scope=SC, kind=kind, text=text, status=status, created_at=at, updated_at=at,
        subject=subject, attribute=attribute,
        provenance=Provenance(source_message_ids=[source], turn_timestamps=[at], speaker="Alice"),
    )  # fmt: skip


def index(records: list[MemoryRecord], items: int = 12) -> ScopeIndex:
    return ScopeIndex(
        records,
        EMB.embed([r.text for r in records]),
        [(r.id, r.text) for r in records],
        aggregate_items=items,
    )


def aggregates(ix: ScopeIndex) -> list[MemoryRecord]:
    return [r for r in ix.records if aggregate.is_aggregate(r.id)]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Alice went camping (said on 3 May 2024)", "went camping"),
        ("Alice and others went camping in June 2024", "went camping in June 2024 (with others)"),
        ("Alice's goal is to run a marathon.", "goal is to run a marathon"),
        ("Her sister visited Lyon", "Her sister visited Lyon"),
    ],
)
def test_an_item_is_the_memory_without_its_subject_and_its_said_on(text: str, shown: str) -> None:
    assert aggregate.item(memory(text, "m"), "Alice") == shown


def test_build_lists_the_newest_memories_oldest_first_and_cites_all_their_sources() -> None:
    ms = [
        memory("Alice loves hiking (said on 1 March 2024)", "m1", day=0),
        memory("Alice is a big fan of pottery", "m2", day=2),
        memory("Alice enjoys jazz", "m3", day=1),
    ]
    key = aggregate.key_of(ms[0])
    assert key == (SC.key(), "alice", "likes")
    rec, vec = aggregate.build(key, ms, EMB.embed([m.text for m in ms]), max_items=2)
    assert rec.text == "Alice's likes and interests: enjoys jazz; is a big fan of pottery"
    assert rec.provenance.source_message_ids == ["m3", "m2"]
    assert rec.id == aggregate.aggregate_id(key) and aggregate.is_aggregate(rec.id)
    assert rec.kind is Kind.PREFERENCE and rec.metadata == {"aggregate": "likes", "members": 3}
    assert vec.shape == (128,) and np.isclose(np.linalg.norm(vec), 1.0)


@pytest.mark.parametrize(
    ("rec", "group"),
    [
        (memory("Alice went to Lyon", "m", kind=Kind.EVENT, attribute="went_to"), "places"),
        (memory("Alice ran a race", "m", kind=Kind.EVENT, attribute="ran"), "activities"),
        (memory("Alice plans to move", "m", kind=Kind.COMMITMENT, attribute="plan"), "plans"),
        (memory("Alice has two cats", "m", kind=Kind.FACT, attribute="has"), "facts"),
    ],
)
def test_groups(rec: MemoryRecord, group: str) -> None:
    assert aggregate.group_of(rec) == group


@pytest.mark.parametrize(
    "rec",
    [
        memory("Alice likes tea", "m", status=Status.PENDING_REVIEW),
        memory("Alice likes tea", "m", status=Status.SUPERSEDED),
        memory("Alice likes tea", "m", subject=""),
        memory("I like tea", "m", kind=Kind.EPISODE),
    ],
)
def test_memories_in_review_superseded_without_subject_or_raw_turns_are_never_aggregated(
    rec: MemoryRecord,
) -> None:
    assert aggregate.key_of(rec) is None


def test_the_index_keeps_aggregates_current_through_upserts_and_removals() -> None:
    hiking, pottery = memory("Alice loves hiking", "m1"), memory("Alice loves pottery", "m2", day=1)
    other = memory("Bob loves chess", "m9", subject="bob")
    ix = index([hiking, other])
    assert aggregates(ix) == []  # one memory alone is its own line
    assert ix.upsert(pottery, EMB.embed([pottery.text])[0])
    (agg,) = aggregates(ix)
    assert agg.text == "Alice's likes and interests: loves hiking; loves pottery" and ix.aggregates == 1
    jazz = memory("Alice loves jazz", "m3", day=2)
    ix.upsert(jazz, EMB.embed([jazz.text])[0])
    assert aggregates(ix)[0].text.endswith("loves pottery; loves jazz")
    assert ix.lexical_ranks("jazz pottery hiking", 1) == [ix.position[agg.id]]  # BM25 reads it
    # a memory that changes is listed as it is now; one that leaves review or goes is dropped
    ix.upsert(pottery.model_copy(update={"text": "Alice loves raku pottery"}), None)
    assert "loves raku pottery" in aggregates(ix)[0].text
    ix.upsert(jazz.model_copy(update={"status": Status.SUPERSEDED}), None)
    assert aggregates(ix)[0].text == "Alice's likes and interests: loves hiking; loves raku pottery"
    ix.remove([hiking.id])
    assert aggregates(ix) == [] and ix.aggregates == 0
    assert [r.id for r in ix.stored()] == [r.id for r in ix.records]
    assert len(ix.features.table) == len(ix.records) == len(ix.vectors)


def test_stored_leaves_aggregates_out_and_a_time_window_never_matches_one() -> None:
    ms = [memory("Alice loves hiking", "m1"), memory("Alice loves pottery", "m2", day=1)]
    ix = index(ms)
    assert len(ix.records) == 3 and [r.id for r in ix.stored()] == [m.id for m in ms]
    window = ix.mask(RecordFilter(since=T0 - timedelta(days=1)))
    assert window.tolist() == [True, True, False]
    assert index(ms, items=0).records == ms  # switched off: no derived rows


@pytest.fixture
def agg_mem(tmp_path: Path, clock: ManualClock) -> Memory:
    # without collapsing: a memory whose source turns all rank above it is otherwise left out, and
    # in a scope this small its turns always do (that rule is tested in test_search_scoring)
    cfg = MemoConfig.model_validate({"scoring": {"aggregate_items": 12, "collapse_sources": False}})
    return Memory.open(tmp_path / "store", embedder=HashingEmbedder(dim=256), clock=clock, config=cfg)


def test_through_the_public_api_an_aggregate_answers_a_list_question_and_forgets_a_deleted_memory(
    agg_mem: Memory,
) -> None:
    alice = Scope(tenant="acme", user="alice")
    said = ["I love hiking in the Alps.", "I love pottery.", "I love playing the cello."]
    agg_mem.add_messages(
        [{"role": "user", "content": t, "id": f"m{i}", "name": "Alice"} for i, t in enumerate(said)],
        scope=alice,
        wait=True,
    )
    hits = agg_mem.search("What hobbies does Alice love? hiking pottery cello", scope=alice, k=10)
    agg = next(h for h in hits if aggregate.is_aggregate(h.record.id))
    assert "hiking" in agg.record.text and "pottery" in agg.record.text and "cello" in agg.record.text
    assert sorted(agg.provenance.source_message_ids) == ["m0", "m1", "m2"]
    ctx = agg_mem.context("What does Alice love?", scope=alice, token_budget=400)
    assert any(c.record_id == agg.record.id and len(c.source_message_ids) == 3 for c in ctx.citations)
    # derived, not stored: never listed, never fetched, never in the store
    assert all(not aggregate.is_aggregate(r.id) for r in agg_mem.records(alice))
    with pytest.raises(NotFound):
        agg_mem.get(agg.record.id, scope=alice)
    assert all(not aggregate.is_aggregate(r.id) for r in agg_mem.store.list_records(alice, RecordFilter()))
    agg_mem.search("pottery", scope=alice, k=5, track_access=True)  # using one is no write
    # deleting a memory takes it out of the aggregate at once
    pottery = next(r for r in agg_mem.records(alice, kinds=["preference"]) if "pottery" in r.text)
    agg_mem.delete(pottery.id, scope=alice)
    after = agg_mem.search("What hobbies does Alice love? hiking pottery cello", scope=alice, k=5)
    left = [h.record for h in after if aggregate.is_aggregate(h.record.id)]
    assert left and "pottery" not in left[0].text and "m1" not in left[0].provenance.source_message_ids
    agg_mem.close()


def test_erasing_a_memory_or_the_user_leaves_nothing_of_it_in_an_aggregate(agg_mem: Memory) -> None:
    alice = Scope(tenant="acme", user="alice")
    agg_mem.add_messages(
        [{"role": "user", "content": t, "id": f"m{i}", "name": "Alice"}
         for i, t in enumerate(["I love hiking.", "I love pottery.", "I love chess."])],
        scope=alice, wait=True,
    )  # fmt: skip

    def aggregates_found() -> list[MemoryRecord]:
        hits = agg_mem.search("Alice loves hiking pottery chess", scope=alice, k=10)
        return [h.record for h in hits if aggregate.is_aggregate(h.record.id)]

    assert "pottery" in aggregates_found()[0].text
    pottery = next(r for r in agg_mem.records(alice, kinds=["preference"]) if "pottery" in r.text)
    assert agg_mem.governor.forget_record(ADMIN, pottery.id, alice).ok
    (left,) = aggregates_found()
    assert "pottery" not in left.text and "hiking" in left.text
    report = agg_mem.governor.forget_user(ADMIN, alice)
    assert report.ok, report.failed
    assert aggregates_found() == [] and agg_mem.search("Alice", scope=alice, k=10) == []
    agg_mem.close()


def test_the_inspector_shows_an_aggregate_as_a_derived_line_without_a_page(agg_mem: Memory) -> None:
    from starlette.testclient import TestClient

    from shared_core.ui.app import create_app
    from shared_core.ui.auth import Tokens, parse_token_spec

    alice = Scope(tenant="acme", user="alice")
    agg_mem.add_messages(
        [{"role": "user", "content": t, "id": f"m{i}", "name": "Alice"}
         for i, t in enumerate(["I love hiking.", "I love pottery."])],
        scope=alice, wait=True,
    )  # fmt: skip
    app = create_app(agg_mem, Tokens([parse_token_spec("admin:dpo=tok-for-aggregate-test")]))
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        client.get("/login?token=tok-for-aggregate-test")
        page = client.get("/search", params={"tenant": "acme", "user": "alice", "q": "Alice loves"}).text
    assert "aggregate of 2 memories" in page and "/memory/agg:" not in page
    assert "/memory/" in page  # the stored memories and turns keep their pages
    agg_mem.close()
