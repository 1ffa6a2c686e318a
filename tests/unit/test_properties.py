"""Properties (hypothesis): decay never rises without use, supersede keeps history, merging is idempotent,
and the extractors and the date parser never fail on arbitrary text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_core.config import DecayConfig
from shared_core.consolidate import Add, Merge, Skip, Supersede, decide, merge_records
from shared_core.decay import plan_sweep, strength
from shared_core.extract.base import ExtractInput
from shared_core.extract.dates import find_time_expressions, query_time_range
from shared_core.extract.rules import RuleExtractor
from shared_core.governance.policy import GovernancePolicy
from shared_core.models import Kind, MemoryRecord, Origin, Provenance, Scope, Status

T0 = datetime(2023, 1, 1, tzinfo=timezone.utc)
SCOPE = Scope(user="u")
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

offsets = st.floats(min_value=-3000, max_value=3000, allow_nan=False)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


@st.composite
def records(draw: st.DrawFn, kind: Kind | None = None, **fixed: object) -> MemoryRecord:
    k = kind or draw(st.sampled_from(list(Kind)))
    created = draw(offsets)
    vf = draw(st.none() | offsets)
    vt = None if vf is None else draw(st.none() | st.floats(min_value=0, max_value=400).map(lambda x: vf + x))
    stamps = draw(st.lists(offsets, max_size=3))
    accessed = draw(st.none() | offsets)
    fields: dict[str, object] = {
        "scope": SCOPE,
        "kind": k,
        "text": draw(st.text(min_size=1, max_size=30)),
        "created_at": at(created),
        "updated_at": at(created),
        "valid_from": None if vf is None else at(vf),
        "valid_to": None if vt is None else at(vt),
        "importance": draw(unit),
        "confidence": draw(unit),
        "pinned": draw(st.booleans()),
        "access_count": draw(st.integers(min_value=0, max_value=50)),
        "last_accessed_at": None if accessed is None else at(accessed),
        "provenance": Provenance(
            source_message_ids=draw(
                st.lists(st.sampled_from(["m1", "m2", "m3", "m4"]), max_size=3, unique=True)
            ),
            turn_timestamps=[at(s) for s in stamps],
            session_id=draw(st.none() | st.sampled_from(["s1", "s2"])),
            origin=draw(st.sampled_from(list(Origin))),
        ),
        "subject": draw(st.none() | st.sampled_from(["caroline", "melanie"])),
        "attribute": draw(st.none() | st.sampled_from(["likes", "lives_in", "went_to"])),
        "value": draw(st.none() | st.sampled_from(["Berlin", "jazz", "Paris"])),
        "metadata": draw(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2)),
    }
    fields.update(fixed)
    return MemoryRecord(**fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------ decay


@SETTINGS
@given(records(), offsets, st.floats(min_value=0, max_value=5000, allow_nan=False))
def test_decay_is_monotone_non_increasing_without_access(r: MemoryRecord, t: float, later: float) -> None:
    cfg = DecayConfig()
    s1, s2 = strength(r, at(t), cfg), strength(r, at(t + later), cfg)
    assert 0.0 <= s2 <= s1 <= 1.0


@SETTINGS
@given(records(), offsets)
def test_more_accesses_or_importance_never_weaken(r: MemoryRecord, t: float) -> None:
    cfg = DecayConfig()
    base = strength(r, at(t), cfg)
    assert strength(r.model_copy(update={"access_count": r.access_count + 1}), at(t), cfg) >= base
    assert strength(r.model_copy(update={"importance": min(1.0, r.importance + 0.2)}), at(t), cfg) >= base


@SETTINGS
@given(st.lists(records(), max_size=8), offsets, st.booleans())
def test_sweeps_only_touch_active_unpinned_records(rs: list[MemoryRecord], t: float, held: bool) -> None:
    rs = [r.model_copy(update={"status": st_}) for r, st_ in zip(rs, [Status.ACTIVE, Status.SUPERSEDED] * 8)]
    plan = plan_sweep(
        rs, at(t), DecayConfig(), GovernancePolicy(ttl_days={Kind.EPISODE: 30}, capacity_per_scope=2), held
    )
    eligible = {r.id for r in rs if r.status is Status.ACTIVE and not r.pinned}
    assert set(plan.ids) <= eligible
    assert len(plan.ids) == len(set(plan.ids))
    assert plan.kept + len(plan.ids) == sum(1 for r in rs if r.status is Status.ACTIVE)
    if held:
        assert plan.ids == []


# ------------------------------------------------------------------ supersede keeps history


@SETTINGS
@given(
    st.sampled_from(["lives_in", "works_at", "job", "relationship_status", "number_of_children"]),
    st.sampled_from(["Berlin", "Paris", "Google", "married"]),
    st.sampled_from(["Oslo", "Rome", "Spotify", "single"]),
    st.none() | offsets,
    st.none() | offsets,
    unit,
    st.floats(min_value=0, max_value=1000),
)
def test_supersede_never_loses_history(
    attr: str, v_old: str, v_new: str, f_old: float | None, f_new: float | None, sim: float, later: float
) -> None:
    old = MemoryRecord(
        scope=SCOPE, text=f"Caroline {attr} {v_old}", created_at=T0, updated_at=T0, subject="caroline",
        attribute=attr, value=v_old, valid_from=None if f_old is None else at(f_old),
    )  # fmt: skip
    new = MemoryRecord(
        scope=SCOPE, text=f"Caroline {attr} {v_new}", created_at=at(1), updated_at=at(1), subject="caroline",
        attribute=attr, value=v_new, valid_from=None if f_new is None else at(f_new),
    )  # fmt: skip
    now = at(3000 + later)
    d = decide(new, [(old, sim)], now=now, duplicate_threshold=0.9)
    assert isinstance(d, Supersede | Add)
    if isinstance(d, Supersede):
        # the old record is kept, closed and linked both ways; nothing else about it changes
        assert d.old.id == old.id and d.old.text == old.text and d.old.value == old.value
        assert d.old.status is Status.SUPERSEDED and d.old.superseded_by == new.id
        assert d.old.version == old.version + 1
        assert d.new.id == new.id and old.id in d.new.supersedes and d.new.status is Status.ACTIVE
        assert d.old.valid_to is not None
        assert d.old.valid_from is None or d.old.valid_to >= d.old.valid_from
        MemoryRecord.model_validate(d.old.model_dump())  # still a valid record
    else:
        # only a statement about an earlier time is added instead, ending where the current one starts
        assert old.valid_from is not None and new.valid_from is not None and new.valid_from < old.valid_from
        assert d.record.valid_to is not None and d.record.valid_to <= old.valid_from


@SETTINGS
@given(records(kind=Kind.FACT), st.lists(st.tuples(records(), unit), max_size=6), unit)
def test_decisions_only_touch_given_records(
    new: MemoryRecord, nb: list[tuple[MemoryRecord, float]], th: float
) -> None:
    d = decide(new, nb, now=at(5000), duplicate_threshold=th)
    ids = {r.id for r, _ in nb}
    if isinstance(d, Merge):
        assert d.target.id in ids
    elif isinstance(d, Supersede):
        assert d.old.id in ids and d.new.id == new.id
    elif isinstance(d, Add):
        assert d.record.id == new.id
    else:
        assert isinstance(d, Skip)


# ------------------------------------------------------------------ merging is idempotent


@SETTINGS
@given(records(), records(), offsets)
def test_merging_is_idempotent(a: MemoryRecord, b: MemoryRecord, t: float) -> None:
    once = merge_records(a, b, now=at(t))
    twice = merge_records(once, b, now=at(t + 10))
    assert twice == once
    assert merge_records(a, a, now=at(t)) == a
    assert once.id == a.id and once.text == a.text and once.kind is a.kind
    assert set(a.provenance.source_message_ids) | set(b.provenance.source_message_ids) == set(
        once.provenance.source_message_ids
    )
    assert once.confidence == max(a.confidence, b.confidence)
    assert once.importance == max(a.importance, b.importance)
    assert once.version in {a.version, a.version + 1}
    MemoryRecord.model_validate(once.model_dump())


@SETTINGS
@given(records(kind=Kind.PREFERENCE), records(kind=Kind.PREFERENCE))
def test_deciding_the_same_duplicate_twice_changes_nothing(old: MemoryRecord, new: MemoryRecord) -> None:
    first = decide(new, [(old, 1.0)], now=at(4000), duplicate_threshold=0.5)
    if isinstance(first, Merge):
        again = decide(new, [(first.target, 1.0)], now=at(4001), duplicate_threshold=0.5)
        assert isinstance(again, Skip) and again.duplicate_of == old.id


# ------------------------------------------------------------------ robustness on arbitrary text

texts = st.text(max_size=300) | st.lists(
    st.sampled_from(
        [
            "I",
            "my",
            "we",
            "love",
            "live",
            "in",
            "the",
            "a",
            "to",
            "went",
            "last",
            "next",
            "week",
            "yesterday",
            "Paris",
            "and",
            "but",
            "because",
            ",",
            ".",
            "!",
            "?",
            "going",
            "will",
            "have",
            "kids",
            "dog",
            "named",
            "Max",
            "work",
            "at",
            "as",
            "engineer",
            "never",
            "always",
            "don't",
            "not",
            "anymore",
            "remind",
            "me",
            "if",
            "would",
            "May",
            "2023",
            "8",
            "the",
            "week",
            "before",
            "3",
            "days",
            "ago",
            "on",
            "Friday",
            "tomorrow",
            "my",
            "name",
            "is",
            "Ana",
            "I'm",
            "a",
            "nurse",
        ]
    ),
    max_size=40,
).map(" ".join)


@settings(max_examples=300, deadline=None, database=None)
@given(texts, offsets)
def test_rule_extractor_never_fails(text: str, t: float) -> None:
    turn = ExtractInput(message_id="m", speaker="Ana", text=text, timestamp=at(t))
    for c in RuleExtractor().extract([turn], now=at(t)):
        assert c.text.strip() and c.subject == "ana" and c.source_message_ids == ["m"]
        assert 0.8 <= c.confidence <= 0.95
        assert c.valid_from is None or c.valid_to is None or c.valid_from <= c.valid_to


@settings(max_examples=300, deadline=None, database=None)
@given(texts, st.none() | offsets)
def test_time_expressions_are_well_formed(text: str, t: float | None) -> None:
    ref = None if t is None else at(t)
    spans = find_time_expressions(text, ref)
    for sp in spans:
        assert sp.start < sp.end
        assert text[sp.char_start : sp.char_end] == sp.expression
        assert sp.describe()
    assert [s.char_start for s in spans] == sorted(s.char_start for s in spans)
    q = query_time_range(text, ref)
    assert q is None or q.start < q.end
