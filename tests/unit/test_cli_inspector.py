"""The Inspector behind `memo` and `memo ui`: the role table decides, every content read is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_store import HOSTILE, make_store

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.errors import InvalidInput, NotFound, PermissionDenied
from shared_core.inspect import Inspector, parse_principal

ALICE = Scope(tenant="acme", user="alice")
BOB = Scope(tenant="acme", user="bob")


@pytest.fixture
def mem(tmp_path: Path) -> Iterator[Memory]:
    m = Memory.open(make_store(tmp_path / "store"), embedder=HashingEmbedder())
    yield m
    m.close()


def reads(m: Memory, actor: str) -> list[str]:
    assert m.engine.audit is not None
    return [e.decision for e in m.engine.audit.events() if e.action == "read" and e.actor == actor]


def test_parse_principal_binds_subjects_and_agents() -> None:
    assert parse_principal("subject:alice", "acme").scope == ALICE
    assert parse_principal("agent:bot@acme").scope == Scope(tenant="acme", agent="bot")
    assert parse_principal("reviewer:kim@acme").scope == Scope(tenant="acme")
    assert parse_principal("admin:dpo").scope is None
    for bad in ("admin", "root:x", "admin:"):
        with pytest.raises(InvalidInput):
            parse_principal(bad)


def test_every_content_read_is_audited_with_who_and_scope(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("admin:dpo"))
    recs = ins.timeline(ALICE)
    ins.show(recs[0].id, ALICE)
    view = ins.search("spare key", ALICE, token_budget=200)
    assert "heron statue" in view.context.text and view.hits[0].components
    assert reads(mem, "dpo") == ["timeline", "show", "search"]
    assert mem.engine.audit is not None
    last = [e for e in mem.engine.audit.events() if e.actor == "dpo"][-1]
    assert last.scope == ALICE and last.payload["role"] == "admin"


def test_an_auditor_never_sees_content_and_reading_is_denied_before_it_happens(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("auditor:eve"))
    rid = Inspector(mem, parse_principal("admin:dpo")).timeline(ALICE)[0].id
    for call in (lambda: ins.timeline(ALICE), lambda: ins.show(rid, ALICE), lambda: ins.search("key", ALICE),
                 lambda: ins.review_queue("acme"), lambda: ins.sweep("acme")):  # fmt: skip
        with pytest.raises(PermissionDenied):
            call()
    assert not ins.sees_content and reads(mem, "eve") == []
    assert ins.audit().report.ok and ins.scopes("acme")  # the log and counts are what it is for


def test_a_subject_sees_only_their_own_scope(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("subject:alice", "acme"))
    assert {r.scope.user for r in ins.timeline(ALICE)} == {"alice"}
    assert [c.scope.user for c in ins.scopes("acme")] == ["alice"]
    with pytest.raises(PermissionDenied):
        ins.timeline(BOB)


def test_a_reviewer_sees_pending_memories_only_across_the_tenant(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("reviewer:kim"))
    queue = ins.review_queue("acme")
    assert [r.text for r in queue] == ["User loves jazz"]
    assert [r.status.value for r in ins.timeline(ALICE)] == ["pending_review"]
    done = ins.decide("approve", queue[0].id[:6], ALICE, reason="checked")
    assert done.status.value == "active" and ins.review_queue("acme") == []


def test_ids_resolve_from_unique_prefixes_only(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("admin:dpo"))
    ids = [r.id for r in ins.timeline(ALICE)]
    assert ins.resolve_id(ids[0][:10], ALICE) == ids[0]
    with pytest.raises(NotFound):
        ins.resolve_id("zzzz", ALICE)
    with pytest.raises(InvalidInput):
        ins.resolve_id("", ALICE)


def test_timeline_filters_and_show_details(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("admin:dpo"))
    assert [r.text for r in ins.timeline(ALICE, text="LISBON", kinds=["fact"])] == ["User lives in Lisbon"]
    assert all(r.status.value == "active" for r in ins.timeline(ALICE, statuses=["active"]))
    with pytest.raises(InvalidInput):
        ins.timeline(ALICE, kinds=["bogus"])
    key = ins.timeline(ALICE, text="spare key")[0]
    d = ins.show(key.id, ALICE)
    assert 0.99 <= d.strength <= 1.0 and d.history[0].op == "add"
    assert [e.reason for e in d.expiry] == ["weak"] and d.expiry[0].at is not None
    assert ins.show(ins.timeline(BOB)[0].id, BOB).record.text == HOSTILE


def test_sweep_plan_has_texts_and_stats_have_no_content(mem: Memory) -> None:
    ins = Inspector(mem, parse_principal("admin:dpo"), path=None)
    plan = ins.sweep("acme")
    assert not plan.applied and any("Lisbon" in r.text for r in plan.rows)
    st = ins.stats("acme")
    assert st.records == 5 and st.pending_by_scope == {"alice": 1} and "fact" in st.by_kind
    assert "Lisbon" not in st.model_dump_json()
    applied = ins.sweep("acme", apply=True)
    assert {r.record_id for r in applied.rows} == {r.record_id for r in plan.rows}
    assert ins.sweep("acme").rows == []
