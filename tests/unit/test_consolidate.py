"""Consolidation decisions: add, merge, supersede, skip (pure, no store)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter

from shared_core.consolidate import (
    Add,
    Decision,
    Merge,
    Skip,
    Supersede,
    decide,
    is_single_valued,
    merge_records,
    normalise_value,
)
from shared_core.extract.base import Candidate
from shared_core.models import Kind, MemoryRecord, Origin, Provenance, Scope, Status

T0 = datetime(2023, 5, 1, tzinfo=timezone.utc)
NOW = datetime(2023, 6, 1, tzinfo=timezone.utc)
SCOPE = Scope(user="u1")
TH = 0.92


def rec(text: str, **kw: Any) -> MemoryRecord:
    kw.setdefault("scope", SCOPE)
    kw.setdefault("created_at", T0)
    kw.setdefault("updated_at", T0)
    kw.setdefault("provenance", Provenance(source_message_ids=[kw.pop("src", "m0")], turn_timestamps=[T0]))
    return MemoryRecord(text=text, **kw)


def fact(text: str, subject: str, attribute: str, value: str | None, **kw: Any) -> MemoryRecord:
    return rec(text, subject=subject, attribute=attribute, value=value, **kw)


def test_episodes_are_always_added() -> None:
    ep = rec("I live in Berlin", kind=Kind.EPISODE)
    twin = rec("I live in Berlin", kind=Kind.EPISODE)
    d = decide(ep, [(twin, 1.0)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Add) and d.record == ep


def test_nothing_similar_is_added() -> None:
    new = fact("Caroline likes jazz", "caroline", "likes", "jazz")
    other = fact("Caroline lives in Berlin", "caroline", "lives_in", "Berlin")
    assert isinstance(decide(new, [], now=NOW, duplicate_threshold=TH), Add)
    assert isinstance(decide(new, [(other, 0.3)], now=NOW, duplicate_threshold=TH), Add)


def test_near_duplicate_merges_provenance_and_maxima() -> None:
    old = rec("Caroline loves hiking", confidence=0.8, importance=0.4, src="m1")
    new = rec(
        "Caroline really loves hiking",
        confidence=0.9,
        importance=0.6,
        provenance=Provenance(
            source_message_ids=["m2"], turn_timestamps=[T0 + timedelta(days=3)], session_id="s2"
        ),
    )
    d = decide(new, [(old, 0.95)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Merge)
    t = d.target
    assert t.id == old.id and t.text == old.text and d.merged_id == new.id
    assert t.provenance.source_message_ids == ["m1", "m2"]
    assert t.provenance.turn_timestamps == [T0, T0 + timedelta(days=3)]
    assert t.provenance.session_id == "s2"
    assert (t.confidence, t.importance) == (0.9, 0.6)
    assert t.version == old.version + 1 and t.updated_at == NOW


def test_same_structured_key_merges_even_when_embeddings_differ() -> None:
    old = fact("Caroline lives in Berlin", "caroline", "lives_in", "Berlin")
    new = fact("User says she is based in berlin!", "Caroline", "lives_in", "berlin", src="m9")
    d = decide(new, [(old, 0.4)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Merge) and d.target.provenance.source_message_ids == ["m0", "m9"]


def test_merging_the_same_record_twice_is_a_skip() -> None:
    old = fact("Caroline lives in Berlin", "caroline", "lives_in", "Berlin")
    new = fact("Caroline lives in Berlin", "caroline", "lives_in", "Berlin", src="m9")
    first = decide(new, [(old, 0.99)], now=NOW, duplicate_threshold=TH)
    assert isinstance(first, Merge)
    again = decide(new, [(first.target, 0.99)], now=NOW + timedelta(days=1), duplicate_threshold=TH)
    assert isinstance(again, Skip) and again.duplicate_of == old.id
    assert merge_records(first.target, new, now=NOW + timedelta(days=1)) == first.target


def test_single_valued_attribute_supersedes() -> None:
    old = fact("Caroline lives in Berlin", "caroline", "lives_in", "Berlin", valid_from=T0)
    moved = T0 + timedelta(days=20)
    new = fact("Caroline moved to Munich", "caroline", "lives_in", "Munich", valid_from=moved, src="m5")
    d = decide(new, [(old, 0.7)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Supersede)
    assert d.old.id == old.id and d.old.status is Status.SUPERSEDED
    assert d.old.valid_to == moved and d.old.superseded_by == new.id and d.old.version == 2
    assert d.new.id == new.id and d.new.supersedes == [old.id] and d.new.status is Status.ACTIVE


def test_supersede_without_a_start_ends_the_old_value_now() -> None:
    old = fact("Caroline works at Google", "caroline", "works_at", "Google")
    new = fact("Caroline works at Spotify", "caroline", "works_at", "Spotify")
    d = decide(new, [(old, 0.5)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Supersede) and d.old.valid_to == NOW


def test_an_older_statement_does_not_replace_the_current_value() -> None:
    current = fact("Caroline lives in Munich", "caroline", "lives_in", "Munich", valid_from=T0)
    past = fact(
        "Caroline lived in Paris", "caroline", "lives_in", "Paris", valid_from=T0 - timedelta(days=900)
    )
    d = decide(past, [(current, 0.6)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Add) and d.record.valid_to == T0


def test_multi_valued_attributes_are_not_superseded() -> None:
    old = fact("Caroline likes jazz", "caroline", "likes", "jazz")
    new = fact("Caroline likes hiking", "caroline", "likes", "hiking")
    assert isinstance(decide(new, [(old, 0.8)], now=NOW, duplicate_threshold=TH), Add)


def test_negation_ends_the_matching_value() -> None:
    old = fact("Caroline lives in Paris", "caroline", "lives_in", "Paris")
    other = fact("Caroline likes Paris", "caroline", "likes", "Paris")
    neg = fact(
        "Caroline does not live in Paris anymore", "caroline", "lives_in", "Paris", metadata={"negated": True}
    )
    d = decide(neg, [(other, 0.9), (old, 0.8)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Supersede) and d.old.id == old.id and d.old.status is Status.SUPERSEDED
    # nothing to end: the negated statement is kept as a memory of its own
    assert isinstance(decide(neg, [(other, 0.9)], now=NOW, duplicate_threshold=TH), Add)


def test_negation_without_value_ends_whatever_value() -> None:
    old = fact("Caroline works at Google", "caroline", "works_at", "Google")
    quit_ = fact("Caroline quit their job", "caroline", "works_at", None, metadata={"negated": True})
    d = decide(quit_, [(old, 0.3)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Supersede) and d.old.id == old.id


def test_a_negated_and_a_positive_statement_are_never_merged_on_similarity() -> None:
    pos = rec("Caroline lives in Paris")
    neg = rec("Caroline does not live in Paris", metadata={"negated": True})
    assert isinstance(decide(neg, [(pos, 0.99)], now=NOW, duplicate_threshold=TH), Add)


def test_flipped_preference_supersedes() -> None:
    old = fact("Caroline likes coffee", "caroline", "likes", "coffee", kind=Kind.PREFERENCE)
    new = fact("Caroline hates coffee", "caroline", "dislikes", "Coffee", kind=Kind.PREFERENCE)
    d = decide(new, [(old, 0.8)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Supersede) and d.old.id == old.id


def test_different_subjects_or_attributes_are_not_merged_on_similarity() -> None:
    a = fact("Caroline loves hiking", "caroline", "likes", "hiking", kind=Kind.PREFERENCE)
    b = fact("Melanie loves hiking", "melanie", "likes", "hiking", kind=Kind.PREFERENCE)
    assert isinstance(decide(b, [(a, 0.97)], now=NOW, duplicate_threshold=TH), Add)
    c = fact("Caroline dislikes hiking", "caroline", "dislikes", "hiking in snow", kind=Kind.PREFERENCE)
    assert isinstance(decide(c, [(a, 0.97)], now=NOW, duplicate_threshold=TH), Add)


def test_events_at_different_times_are_different_events() -> None:
    june = rec("Melanie went camping", kind=Kind.EVENT, valid_from=T0, valid_to=T0 + timedelta(days=2))
    aug = rec("Melanie went camping", kind=Kind.EVENT, valid_from=T0 + timedelta(days=90))
    assert isinstance(decide(aug, [(june, 0.99)], now=NOW, duplicate_threshold=TH), Add)
    same = rec("Melanie went camping with kids", kind=Kind.EVENT, valid_from=T0 + timedelta(days=1), src="m2")
    assert isinstance(decide(same, [(june, 0.95)], now=NOW, duplicate_threshold=TH), Merge)


def test_other_scopes_kinds_and_inactive_records_are_ignored() -> None:
    new = rec("Caroline loves hiking")
    elsewhere = rec("Caroline loves hiking", scope=Scope(user="u2"))
    episode = rec("Caroline loves hiking", kind=Kind.EPISODE)
    gone = rec("Caroline loves hiking", status=Status.SUPERSEDED)
    deleted = rec("Caroline loves hiking", status=Status.DELETED)
    other_kind = rec("Caroline loves hiking", kind=Kind.EVENT)
    nb = [(elsewhere, 1.0), (episode, 1.0), (gone, 1.0), (deleted, 1.0), (other_kind, 1.0)]
    assert isinstance(decide(new, nb, now=NOW, duplicate_threshold=TH), Add)


def test_pending_review_target_becomes_active_when_stated_again() -> None:
    pending = rec("Caroline loves hiking", status=Status.PENDING_REVIEW)
    new = rec("Caroline loves hiking", src="m7")
    d = decide(new, [(pending, 0.99)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Merge) and d.target.status is Status.ACTIVE


def test_the_same_record_again_is_skipped() -> None:
    r = rec("Caroline loves hiking")
    d = decide(r, [(r, 1.0)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Skip) and d.duplicate_of == r.id


def test_judge_in_the_grey_band() -> None:
    old = rec("Caroline is into trail running")
    new = rec("Caroline runs on mountain trails", src="m2")
    calls: list[tuple[str, str]] = []

    def same(a: MemoryRecord, b: MemoryRecord) -> Any:
        calls.append((a.text, b.text))
        return "same"

    assert isinstance(decide(new, [(old, 0.85)], now=NOW, duplicate_threshold=TH, judge=same), Merge)
    assert calls == [(new.text, old.text)]
    upd = decide(new, [(old, 0.85)], now=NOW, duplicate_threshold=TH, judge=lambda a, b: "update")
    assert isinstance(upd, Supersede)
    diff = decide(new, [(old, 0.85)], now=NOW, duplicate_threshold=TH, judge=lambda a, b: "different")
    assert isinstance(diff, Add)
    calls.clear()
    decide(new, [(old, 0.5)], now=NOW, duplicate_threshold=TH, judge=same)  # outside the band: not asked
    assert calls == []

    def broken(a: MemoryRecord, b: MemoryRecord) -> Any:
        raise RuntimeError("LLM down")

    assert isinstance(decide(new, [(old, 0.85)], now=NOW, duplicate_threshold=TH, judge=broken), Add)


def test_merge_records_helper() -> None:
    a = rec("A", confidence=0.5, importance=0.2, pinned=False, access_count=3,
            provenance=Provenance(source_message_ids=["m1"], origin=Origin.INFERRED))  # fmt: skip
    b = rec("B", confidence=0.7, importance=0.1, pinned=True, subject="caroline", attribute="likes", value="tea",
            provenance=Provenance(source_message_ids=["m1", "m2"], origin=Origin.STATED))  # fmt: skip
    m = merge_records(a, b, now=NOW)
    assert m.text == "A" and m.id == a.id
    assert m.provenance.source_message_ids == ["m1", "m2"] and m.provenance.origin is Origin.STATED
    assert (m.confidence, m.importance, m.pinned, m.access_count) == (0.7, 0.2, True, 3)
    assert (m.subject, m.attribute, m.value) == ("caroline", "likes", "tea")
    assert merge_records(m, b, now=NOW + timedelta(days=9)) is m
    assert merge_records(a, a) is a


def test_decisions_are_a_tagged_union() -> None:
    ta: TypeAdapter[Decision] = TypeAdapter(Decision)
    r = rec("x")
    for d in [Add(record=r), Merge(target=r), Supersede(old=r, new=r), Skip(reason="dup")]:
        assert ta.validate_python(d.model_dump()) == d


def test_helpers() -> None:
    assert normalise_value("  The Big Apple! ") == "big apple"
    assert normalise_value("their dog") == "dog"
    assert normalise_value(None) is None
    for a in ["lives_in", "works_at", "job", "name", "age", "relationship_status", "number_of_children",
              "favourite_food"]:  # fmt: skip
        assert is_single_valued(a)
    for a in ["likes", "visited", "went_to", None, ""]:
        assert not is_single_valued(a)


def test_candidate_to_record_carries_negation_for_consolidation() -> None:
    c = Candidate(
        kind=Kind.FACT,
        text="Caroline does not live in Paris anymore",
        subject="Caroline",
        attribute="lives_in",
        value="Paris",
        negated=True,
        source_message_ids=["m3"],
        speaker="Caroline",
        observed_at=T0,
        time_expression="anymore",
    )
    r = c.to_record(SCOPE, now=NOW, extractor="rules", extractor_version="1")
    assert r.metadata == {"negated": True, "time_expression": "anymore"}
    assert r.provenance.turn_timestamps == [T0] and r.provenance.extractor == "rules"
    old = fact("Caroline lives in Paris", "caroline", "lives_in", "Paris")
    assert isinstance(decide(r, [(old, 0.8)], now=NOW, duplicate_threshold=TH), Supersede)


@pytest.mark.parametrize("sim", [-0.5, 1.5])
def test_similarity_is_clamped(sim: float) -> None:
    old = rec("Caroline loves hiking")
    new = rec("Caroline loves hiking!", src="m2")
    d = decide(new, [(old, sim)], now=NOW, duplicate_threshold=TH)
    assert isinstance(d, Merge if sim > 1 else Add)
