"""MemoStore (LangGraph BaseStore): a store contract (run on LangGraph's InMemoryStore too), plus semantic
search, the namespace -> scope mapping, isolation, review, a graph, async and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.store.base import BaseStore, GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from langchain_memo import MemoStore
from shared_core import InvalidInput, MemoError, Memory, Scope, ScopeError, Status

NOTES = ("acme", "alice", "notes")
VALUE: dict[str, Any] = {"text": "Alice likes jazz", "tags": ["music", "jazz"], "n": 3, "nested": {"a": [1, 2.5, None]},
                         "unicode": "Zoë 東京 \u2028", "flag": True}  # fmt: skip


class LangGraphStoreContract:
    """What a LangGraph store must do with (tenant, user, ...) namespaces. Subclasses provide `store`."""

    def test_put_get_round_trips_the_exact_value(self, store: BaseStore) -> None:
        store.put(NOTES, "k1", VALUE)
        item = store.get(NOTES, "k1")
        assert item is not None and item.value == VALUE and item.key == "k1" and item.namespace == NOTES
        assert item.created_at <= item.updated_at

    def test_get_missing(self, store: BaseStore) -> None:
        assert store.get(NOTES, "nope") is None

    def test_put_replaces(self, store: BaseStore) -> None:
        store.put(NOTES, "k1", {"text": "v1"})
        store.put(NOTES, "k1", {"text": "v2", "extra": 1})
        assert store.get(NOTES, "k1").value == {"text": "v2", "extra": 1}  # type: ignore[union-attr]
        assert len(store.search(NOTES)) == 1

    def test_delete_and_put_none(self, store: BaseStore) -> None:
        store.put(NOTES, "k1", {"text": "a"})
        store.put(NOTES, "k2", {"text": "b"})
        store.delete(NOTES, "k1")
        store.put(NOTES, "k2", None)  # type: ignore[arg-type]
        assert store.get(NOTES, "k1") is None and store.get(NOTES, "k2") is None
        store.delete(NOTES, "never-there")  # no error

    def test_same_key_in_other_namespaces(self, store: BaseStore) -> None:
        store.put(NOTES, "k", {"text": "notes"})
        store.put(("acme", "alice", "prefs"), "k", {"text": "prefs"})
        store.put(("acme", "alice"), "k", {"text": "root"})
        assert store.get(NOTES, "k").value == {"text": "notes"}  # type: ignore[union-attr]
        assert store.get(("acme", "alice", "prefs"), "k").value == {"text": "prefs"}  # type: ignore[union-attr]
        assert store.get(("acme", "alice"), "k").value == {"text": "root"}  # type: ignore[union-attr]

    def test_users_are_isolated(self, store: BaseStore) -> None:
        store.put(NOTES, "k", {"text": "alice's"})
        assert store.get(("acme", "bob", "notes"), "k") is None
        assert store.get(("other", "alice", "notes"), "k") is None
        assert store.search(("acme", "bob")) == []

    def test_search_prefix_filter_limit_offset(self, store: BaseStore) -> None:
        for i in range(5):
            store.put(NOTES, f"k{i}", {"text": f"note {i}", "n": i, "kind": "even" if i % 2 == 0 else "odd"})
        store.put(("acme", "alice", "prefs"), "p", {"text": "pref", "n": 9, "kind": "even"})
        assert {i.key for i in store.search(NOTES)} == {f"k{i}" for i in range(5)}
        assert len(store.search(("acme", "alice"), limit=100)) == 6
        assert {i.key for i in store.search(NOTES, filter={"kind": "even"})} == {"k0", "k2", "k4"}
        assert {i.key for i in store.search(NOTES, filter={"n": {"$gte": 3}})} == {"k3", "k4"}
        assert {i.key for i in store.search(NOTES, filter={"n": {"$ne": 0}, "kind": "even"})} == {"k2", "k4"}
        assert len(store.search(NOTES, limit=2)) == 2
        all_keys = [i.key for i in store.search(NOTES, limit=10)]
        assert [i.key for i in store.search(NOTES, limit=2, offset=3)] == all_keys[3:5]

    def test_list_namespaces(self, store: BaseStore) -> None:
        for ns in [NOTES, ("acme", "alice", "prefs", "food"), ("acme", "bob", "notes")]:
            store.put(ns, "k", {"text": "x"})
        assert store.list_namespaces(prefix=("acme",)) == [
            NOTES,
            ("acme", "alice", "prefs", "food"),
            ("acme", "bob", "notes"),
        ]
        assert store.list_namespaces(prefix=("acme",), max_depth=2) == [("acme", "alice"), ("acme", "bob")]
        assert store.list_namespaces(prefix=("acme",), suffix=("notes",)) == [NOTES, ("acme", "bob", "notes")]
        assert store.list_namespaces(prefix=("acme", "*", "notes")) == [NOTES, ("acme", "bob", "notes")]
        assert store.list_namespaces(prefix=("acme",), limit=1, offset=1) == [
            ("acme", "alice", "prefs", "food")
        ]

    def test_batch_of_mixed_ops(self, store: BaseStore) -> None:
        assert store.batch([PutOp(NOTES, "k", {"text": "batched"}), PutOp(NOTES, "gone", None)]) == [
            None,
            None,
        ]
        out = store.batch([
            GetOp(NOTES, "k"),
            SearchOp(NOTES, None, 10, 0),
            ListNamespacesOp((MatchCondition("prefix", ("acme",)),), None, 10, 0),
            GetOp(NOTES, "gone"),
        ])  # fmt: skip
        assert out[0].value == {"text": "batched"} and out[3] is None  # type: ignore[union-attr]
        assert [i.key for i in out[1]] == ["k"] and out[2] == [NOTES]  # type: ignore[union-attr]

    async def test_async_parity(self, store: BaseStore) -> None:
        await store.aput(NOTES, "k", VALUE)
        assert (await store.aget(NOTES, "k")).value == VALUE  # type: ignore[union-attr]
        assert [i.key for i in await store.asearch(NOTES)] == ["k"]
        assert await store.alist_namespaces(prefix=("acme",)) == [NOTES]
        await store.adelete(NOTES, "k")
        assert await store.aget(NOTES, "k") is None


class TestReferenceInMemoryStore(LangGraphStoreContract):
    """The contract holds for LangGraph's own store (so it tests the interface, not our choices)."""

    @pytest.fixture
    def store(self) -> BaseStore:
        return InMemoryStore()


class TestMemoStore(LangGraphStoreContract):
    @pytest.fixture
    def store(self, mem: Memory) -> Iterator[BaseStore]:
        yield MemoStore(mem)

    def test_namespace_maps_to_scope_and_items_are_memories(self, mem: Memory, alice: Scope) -> None:
        MemoStore(mem).put(NOTES, "k", {"text": "Alice likes jazz", "source": "form"})
        (rec,) = mem.list(alice)
        assert rec.scope == alice and rec.text == "Alice likes jazz"
        assert "Alice likes jazz" in mem.context("jazz", alice).text  # the agent's recall sees store items

    def test_searchable_text(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem)
        store.put(NOTES, "a", {"content": "Alice owns a kayak"})
        store.put(NOTES, "b", {"colour": "green", "size": 3})
        store.put(NOTES, "c", {"title": "Trip", "body": "to Oslo"}, index=["body"])
        assert sorted(r.text for r in mem.list(alice)) == [
            "Alice owns a kayak",
            "to Oslo",
            '{"colour": "green", "size": 3}',
        ]

    def test_semantic_search_ranks_and_scores(self, mem: Memory) -> None:
        store = MemoStore(mem)
        texts = ["Alice loves green tea", "The quarterly report is due", "Football results from Sunday"]
        for i, t in enumerate(texts):
            store.put(NOTES, f"k{i}", {"text": t})
        found = store.search(("acme", "alice"), query="green tea")
        assert found[0].key == "k0" and all(0.0 <= i.score <= 1.0 for i in found)  # type: ignore[operator]
        assert found[0].score > max(i.score for i in found[1:])  # type: ignore[operator,type-var]
        assert [
            i.key
            for i in store.search(NOTES, query="green tea", filter={"text": "Football results from Sunday"})
        ] == ["k2"]

    def test_fixed_tenant_mode(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem, tenant="acme")
        store.put(("alice", "notes"), "k", {"text": "x"})
        assert mem.list(alice)[0].scope == alice
        assert store.list_namespaces() == [("alice", "notes")]
        assert MemoStore(mem).get(NOTES, "k").value == {"text": "x"}  # type: ignore[union-attr]

    def test_pii_in_values_follows_the_policy(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem)
        store.put(
            NOTES, "k", {"text": "Mail alice@example.com", "contacts": [{"email": "bob@example.com"}], "n": 1}
        )
        assert store.get(NOTES, "k").value == {
            "text": "Mail [EMAIL]",
            "contacts": [{"email": "[EMAIL]"}],
            "n": 1,
        }  # type: ignore[union-attr]
        assert "example.com" not in json.dumps([r.model_dump(mode="json") for r in mem.list(alice)])

    def test_pending_review_item_is_hidden(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem)
        store.put(NOTES, "k", {"text": "Alice's password hint is her cat"})
        mem.update(mem.list(alice)[0].id, alice, status=Status.PENDING_REVIEW)
        assert store.get(NOTES, "k") is None
        assert store.search(NOTES, query="password hint") == [] and store.search(NOTES) == []

    def test_other_memories_of_the_user_are_not_items(self, mem: Memory, alice: Scope) -> None:
        mem.remember("Alice likes jazz", alice)
        mem.add_messages([{"role": "user", "content": "I like jazz"}], alice, session_id="s1")
        store = MemoStore(mem)
        assert store.search(("acme", "alice")) == [] and store.search(("acme", "alice"), query="jazz") == []
        assert store.list_namespaces(prefix=("acme",)) == []

    def test_in_a_langgraph_graph(self, mem: Memory) -> None:
        def node(state: MessagesState, *, store: BaseStore) -> dict[str, Any]:
            store.put(("acme", "alice", "memories"), "m1", {"text": state["messages"][-1].text})
            hits = store.search(("acme", "alice"), query="sailing")
            return {"messages": [("ai", f"I remember: {hits[0].value['text']}")]}

        graph = (
            StateGraph(MessagesState).add_node("n", node).add_edge(START, "n").compile(store=MemoStore(mem))
        )
        out = graph.invoke({"messages": [("user", "I go sailing on weekends")]})
        assert out["messages"][-1].text == "I remember: I go sailing on weekends"

    def test_bad_input_is_a_memo_error(self, mem: Memory) -> None:
        store = MemoStore(mem)
        with pytest.raises(ScopeError):
            store.put(("acme",), "k", {"text": "x"})
        with pytest.raises(ScopeError):
            store.search(("acme",))
        with pytest.raises(ScopeError):
            store.list_namespaces()
        with pytest.raises(InvalidInput):
            store.put(NOTES, "k", {"when": object()})
        with pytest.raises(MemoError):
            store.put(NOTES, "k", {"text": "x" * 20_000})
        with pytest.raises(MemoError):
            store.search(NOTES, query="   ")
