"""Fakes and contract suites shipped with MeMo, for our tests and for yours.

- `FakeChat`: a scripted LLM callable (`messages -> str`), for the LLM extractor.
- `HashingEmbedder`, `ManualClock`: deterministic embedder and settable clock.
- `StoreContract`: a pytest base class every `Store` implementation must pass. Subclass it
  and provide a `store` fixture (see tests/unit/test_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from .clock import ManualClock
from .embed.hashing import HashingEmbedder
from .errors import ScopeError
from .models import HistoryEntry, Kind, MemoryRecord, Scope, Status
from .store.base import ALL_STATUSES, RecordFilter, Store

__all__ = ["FakeChat", "HashingEmbedder", "ManualClock", "StoreContract", "make_record"]


class FakeChat:
    """Returns scripted replies in order (the last one repeats); records every prompt it saw.

    A reply that is an Exception instance is raised instead, to simulate a failing provider.
    """

    def __init__(self, replies: Iterable[str | Exception]) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict[str, str]]] = []

    def __call__(self, messages: list[dict[str, str]]) -> str:
        self.calls.append(messages)
        if not self.replies:
            raise RuntimeError("FakeChat has no replies scripted")
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


_T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def make_record(
    scope: Scope, text: str, *, kind: Kind = Kind.FACT, minutes: int = 0, **kw: Any
) -> MemoryRecord:
    t = _T0 + timedelta(minutes=minutes)
    return MemoryRecord(scope=scope, kind=kind, text=text, created_at=t, updated_at=t, **kw)


class StoreContract:
    """Behaviour every `Store` must have. Subclasses provide a `store` fixture (an empty store)."""

    embedder = HashingEmbedder(dim=64)
    alice = Scope(tenant="t1", user="alice")
    bob = Scope(tenant="t1", user="bob")
    other_tenant_alice = Scope(tenant="t2", user="alice")

    def _put(self, store: Store, recs: list[MemoryRecord]) -> None:
        store.upsert(recs, self.embedder.embed([r.text for r in recs]))

    def test_upsert_get_roundtrip(self, store: Store) -> None:
        r = make_record(self.alice, "Alice likes green tea")
        self._put(store, [r])
        got = store.get(self.alice, [r.id])
        assert [g.model_dump() for g in got] == [r.model_dump()]

    def test_upsert_replaces(self, store: Store) -> None:
        r = make_record(self.alice, "v1")
        self._put(store, [r])
        r2 = r.model_copy(update={"text": "v2", "version": 2})
        self._put(store, [r2])
        assert store.get(self.alice, [r.id])[0].text == "v2"
        assert len(store.list_records(self.alice, ALL_STATUSES)) == 1

    def test_update_without_vector_keeps_vector(self, store: Store) -> None:
        r = make_record(self.alice, "Alice likes green tea")
        self._put(store, [r])
        store.upsert([r.model_copy(update={"importance": 0.9})], None)
        q = self.embedder.embed(["Alice likes green tea"])[0]
        ((rec, dist),) = store.query(self.alice, q, 1, RecordFilter())
        assert rec.importance == 0.9 and dist < 1e-4

    def test_scope_isolation(self, store: Store) -> None:
        a = make_record(self.alice, "alice secret")
        b = make_record(self.bob, "bob secret")
        c = make_record(self.other_tenant_alice, "other tenant alice secret")
        self._put(store, [a, b, c])
        q = self.embedder.embed(["secret"])[0]
        for scope, own in ((self.alice, a), (self.bob, b), (self.other_tenant_alice, c)):
            assert [r.id for r in store.list_records(scope, ALL_STATUSES)] == [own.id]
            assert [r.id for r, _ in store.query(scope, q, 10, RecordFilter())] == [own.id]
            others = [x.id for x in (a, b, c) if x.id != own.id]
            assert store.get(scope, others) == []
            store.delete(scope, others)  # deleting through the wrong scope does nothing
        assert len(store.get(self.alice, [a.id])) == 1 and len(store.get(self.bob, [b.id])) == 1

    def test_hostile_scope_values_are_data(self, store: Store) -> None:
        victim = make_record(self.alice, "victim memory")
        self._put(store, [victim])
        for value in ('{"$ne": ""}', "*", "$ne", "%", ".*", "' OR 1=1 --", "alice*"):
            hostile = Scope(tenant="t1", user=value)
            own = make_record(hostile, f"hostile {value}")
            self._put(store, [own])
            assert [r.id for r in store.list_records(hostile, ALL_STATUSES)] == [own.id]
            q = self.embedder.embed(["memory"])[0]
            assert victim.id not in [r.id for r, _ in store.query(hostile, q, 50, RecordFilter())]

    def test_read_without_user_is_refused(self, store: Store) -> None:
        import pytest

        with pytest.raises(ScopeError):
            store.list_records(Scope(tenant="t1"), ALL_STATUSES)

    def test_filters(self, store: Store) -> None:
        recs = [
            make_record(self.alice, "a fact", kind=Kind.FACT, minutes=1),
            make_record(self.alice, "a pref", kind=Kind.PREFERENCE, minutes=2),
            make_record(self.alice, "pending", status=Status.PENDING_REVIEW, minutes=3),
        ]
        self._put(store, recs)
        assert [r.text for r in store.list_records(self.alice, RecordFilter())] == ["a fact", "a pref"]
        assert [
            r.text for r in store.list_records(self.alice, RecordFilter(kinds=frozenset({Kind.PREFERENCE})))
        ] == ["a pref"]
        q = self.embedder.embed(["pending"])[0]
        assert "pending" not in [r.text for r, _ in store.query(self.alice, q, 10, RecordFilter())]
        since = RecordFilter(since=_T0 + timedelta(minutes=2), statuses=None)
        assert [r.text for r in store.list_records(self.alice, since)] == ["a pref", "pending"]

    def test_query_orders_by_distance(self, store: Store) -> None:
        texts = ["green tea every morning", "the stock market", "a green tea ceremony", "football results"]
        self._put(store, [make_record(self.alice, t, minutes=i) for i, t in enumerate(texts)])
        q = self.embedder.embed(["green tea"])[0]
        res = store.query(self.alice, q, 4, RecordFilter())
        dists = [d for _, d in res]
        assert dists == sorted(dists)
        assert {r.text for r, _ in res[:2]} == {"green tea every morning", "a green tea ceremony"}

    def test_history_and_revision(self, store: Store) -> None:
        r = make_record(self.alice, "x")
        e = HistoryEntry(record_id=r.id, scope=self.alice, version=1, op="add", at=_T0, snapshot=r)
        store.append_history([e])
        assert [h.id for h in store.history(self.alice, r.id)] == [e.id]
        assert store.history(self.bob) == []
        assert [h.id for h in store.history_since(_T0)] == [e.id]
        rev = store.revision(self.alice)
        store.bump_revision([self.alice])
        assert store.revision(self.alice) != rev
        store.delete_history(self.alice)
        assert store.history(self.alice) == []

    def test_revisions_follow_the_scopes_written(self, store: Store) -> None:
        agent_wide = Scope(tenant="t1", agent="helper")  # a read scope without a user sees every user
        before = {s: store.revision(s) for s in (self.alice, self.bob, agent_wide, self.other_tenant_alice)}
        r = make_record(self.alice, "alice writes")
        self._put(store, [r])
        after = {s: store.revision(s) for s in before}
        assert after[self.alice] != before[self.alice] and after[agent_wide] != before[agent_wide]
        assert after[self.bob] == before[self.bob]  # other users' caches stay valid
        assert after[self.other_tenant_alice] == before[self.other_tenant_alice]
        store.upsert([r.model_copy(update={"access_count": 3})], None, bump=False)
        assert store.revision(self.alice) == after[self.alice]
        store.delete(self.alice, [r.id])
        assert (
            store.revision(self.alice) != after[self.alice] and store.revision(self.bob) == before[self.bob]
        )

    def test_snapshot_holds_records_and_their_vectors(self, store: Store) -> None:
        recs = [make_record(self.alice, t, minutes=i) for i, t in enumerate(["one", "two", "three"])]
        recs[1] = recs[1].model_copy(update={"status": Status.SUPERSEDED})
        self._put(store, [*reversed(recs), make_record(self.bob, "bob's")])
        got, vecs = store.snapshot(self.alice, RecordFilter())
        assert [r.text for r in got] == ["one", "three"] and vecs.shape == (2, self.embedder.dim)
        assert np.allclose(vecs, self.embedder.embed(["one", "three"]), atol=1e-5)
        got, vecs = store.snapshot(self.alice, ALL_STATUSES)
        assert [r.text for r in got] == ["one", "two", "three"] and len(vecs) == 3
        assert store.snapshot(Scope(tenant="t1", user="nobody"), ALL_STATUSES)[0] == []
        same_instant = [make_record(self.bob, t, minutes=9) for t in ("zulu", "alpha", "mike", "kilo")]
        self._put(store, same_instant)  # ids are random: the order must come from the writes
        assert [r.text for r in store.snapshot(self.bob, RecordFilter())[0]] == [
            "bob's",
            "zulu",
            "alpha",
            "mike",
            "kilo",
        ]

    def test_vectors_and_delete(self, store: Store) -> None:
        r = make_record(self.alice, "to delete")
        self._put(store, [r])
        rec, v = store.fetch(self.alice, [r.id])[r.id]
        assert rec.id == r.id and np.allclose(v, self.embedder.embed(["to delete"])[0], atol=1e-5)
        assert store.fetch(self.bob, [r.id]) == {}
        store.delete(self.alice, [r.id])
        assert store.get(self.alice, [r.id]) == [] and store.fetch(self.alice, [r.id]) == {}

    def test_meta(self, store: Store) -> None:
        assert store.get_meta("k") is None
        store.set_meta("k", "v")
        assert store.get_meta("k") == "v"


def scripted(replies: Iterable[str | Exception]) -> Callable[[list[dict[str, str]]], str]:
    return FakeChat(replies)
