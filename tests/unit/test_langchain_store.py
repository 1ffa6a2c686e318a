"""MemoStore (LangGraph BaseStore): a store contract (run on LangGraph's InMemoryStore too), the issue's
repros (atomic puts, filters and offsets before the cut, index=False, TTL, namespace mapping), semantic
search, isolation, review, a graph, async and errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.store.base import BaseStore, GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from langchain_memo import MemoMiddleware, MemoStore
from langchain_memo.testing import RecordingChatModel, scripted
from shared_core import InvalidInput, MemoError, Memory, Scope, ScopeError, Status
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder

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
        yield MemoStore(mem, tenant="acme", user_id="alice")

    def test_namespace_maps_to_scope_and_items_are_memories(self, mem: Memory, alice: Scope) -> None:
        MemoStore(mem, tenant="acme", user_id="alice").put(
            NOTES, "k", {"text": "Alice likes jazz", "source": "form"}
        )
        (rec,) = mem.records(alice)
        assert rec.scope == alice and rec.text == "Alice likes jazz"
        assert "Alice likes jazz" in mem.context("jazz", alice).text  # the agent's recall sees store items

    def test_searchable_text(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
        store.put(NOTES, "a", {"content": "Alice owns a kayak"})
        store.put(NOTES, "b", {"colour": "green", "size": 3})
        store.put(NOTES, "c", {"title": "Trip", "body": "to Oslo"}, index=["body"])
        assert sorted(r.text for r in mem.records(alice)) == [
            "Alice owns a kayak",
            "to Oslo",
            '{"colour": "green", "size": 3}',
        ]

    def test_semantic_search_ranks_and_scores(self, mem: Memory) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
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

    def test_pii_in_values_follows_the_policy(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
        store.put(
            NOTES, "k", {"text": "Mail alice@example.com", "contacts": [{"email": "bob@example.com"}], "n": 1}
        )
        got = store.get(NOTES, "k")
        assert got is not None and got.value["n"] == 1
        assert "example.com" not in json.dumps(got.value) and "[EMAIL]" in got.value["text"]
        assert "example.com" not in json.dumps([r.model_dump(mode="json") for r in mem.records(alice)])
        store.put(NOTES, "num", {"phone": 4155550123, "ok": [7]})  # a redacted number still parses
        assert store.get(NOTES, "num").value["ok"] == [7]  # type: ignore[union-attr]

    def test_pending_review_item_is_hidden(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
        store.put(NOTES, "k", {"text": "Alice's password hint is her cat"})
        mem.update(mem.records(alice)[0].id, alice, status=Status.PENDING_REVIEW)
        assert store.get(NOTES, "k") is None
        assert store.search(NOTES, query="password hint") == [] and store.search(NOTES) == []

    def test_other_memories_of_the_user_are_not_items(self, mem: Memory, alice: Scope) -> None:
        mem.remember("Alice likes jazz", alice)
        mem.add_messages([{"role": "user", "content": "I like jazz"}], alice, session_id="s1")
        store = MemoStore(mem, tenant="acme", user_id="alice")
        assert store.search(("acme", "alice")) == [] and store.search(("acme", "alice"), query="jazz") == []
        assert store.list_namespaces(prefix=("acme",)) == []

    def test_in_a_langgraph_graph_user_from_the_run(self, mem: Memory, alice: Scope) -> None:
        def node(state: MessagesState, *, store: BaseStore) -> dict[str, Any]:
            store.put(("memories",), "m1", {"text": state["messages"][-1].text})  # one-label namespace
            hits = store.search(("memories",), query="sailing")
            return {"messages": [("ai", f"I remember: {hits[0].value['text']}")]}

        graph = StateGraph(MessagesState).add_node("n", node).add_edge(START, "n")
        app = graph.compile(store=MemoStore(mem, tenant="acme"))
        out = app.invoke(
            {"messages": [("user", "I go sailing on weekends")]}, {"configurable": {"user_id": "alice"}}
        )
        assert out["messages"][-1].text == "I remember: I go sailing on weekends"
        assert [r.text for r in mem.records(alice)] == ["I go sailing on weekends"]

    def test_bad_input_is_a_memo_error(self, mem: Memory) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
        with pytest.raises(InvalidInput):
            store.put(NOTES, "k", {"when": object()})
        with pytest.raises(MemoError):
            store.put(NOTES, "k", {"text": "x" * 20_000})
        with pytest.raises(MemoError):
            store.search(NOTES, query="   ")


class TestIssue12Repros:
    """Each reproduction of issue #12 (LangGraph/LangMem side) as a test."""

    def test_eight_threads_putting_one_key_leave_one_item(self, mem: Memory, alice: Scope) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
        threads = [threading.Thread(target=store.put, args=(NOTES, "k", {"text": f"v{i}"})) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store.search(NOTES)) == 1 and len(mem.records(alice)) == 1
        store.delete(NOTES, "k")
        assert store.get(NOTES, "k") is None and mem.records(alice) == []

    def test_a_put_racing_a_delete_never_raises(self, mem: Memory) -> None:
        store = MemoStore(mem, tenant="acme", user_id="alice")
        errors: list[BaseException] = []

        def run(fn: Any, *args: Any) -> None:
            try:
                for _ in range(5):
                    fn(*args)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        store.put(NOTES, "k", {"text": "v"})
        threads = [threading.Thread(target=run, args=(store.put, NOTES, "k", {"text": "w"})),
                   threading.Thread(target=run, args=(store.delete, NOTES, "k"))]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(store.search(NOTES)) <= 1

    @pytest.fixture
    def many(self, tmp_path: Path, embedder: HashingEmbedder) -> Iterator[MemoStore]:
        mem = Memory.open(tmp_path / "many", embedder=embedder)  # the system clock: puts keep their order
        store = MemoStore(mem, tenant="acme", user_id="alice")
        store.batch(
            [
                PutOp(NOTES, f"k{i:03}", {"text": f"note number {i} about the weather", "i": i})
                for i in range(249)
            ]
        )
        store.put(NOTES, "tagged", {"text": "note number 249 about the weather", "tag": "x", "i": 249})
        store.put(("acme", "alice", "other"), "o", {"text": "note about the weather"})
        yield store
        mem.close()

    def test_query_and_filter_apply_before_the_cut(self, many: MemoStore) -> None:
        found = many.search(NOTES, query="weather", filter={"tag": "x"})
        assert [(i.key, i.score is not None) for i in found] == [("tagged", True)]  # ranked, not a filler

    def test_pages_past_200_and_filters_with_offset(self, many: MemoStore) -> None:
        assert [i.value["i"] for i in many.search(NOTES, limit=10, offset=240)] == list(range(240, 250))
        assert [i.value["i"] for i in many.search(NOTES, filter={"i": {"$gte": 245}}, limit=3, offset=2)] == [247, 248, 249]  # fmt: skip
        assert len(many.search(("acme", "alice"), limit=1000)) == 251

    def test_nested_dict_filters_match_like_in_memory_store(self, mem: Memory) -> None:
        stores: list[BaseStore] = [MemoStore(mem, tenant="acme", user_id="alice"), InMemoryStore()]
        for store in stores:
            store.put(NOTES, "a", {"text": "a", "meta": {"lang": "en", "n": 1}})
            store.put(NOTES, "b", {"text": "b", "meta": {"lang": "de", "n": 2}})
        for flt in ({"meta": {"lang": "en"}}, {"meta": {"n": {"$gt": 1}}}, {"meta": {"lang": "fr"}}):
            assert [i.key for i in stores[0].search(NOTES, filter=flt)] == [i.key for i in stores[1].search(NOTES, filter=flt)]  # fmt: skip
        assert [i.key for i in stores[0].search(NOTES, filter={"meta": {"lang": "en"}})] == ["a"]

    def test_index_false_is_honoured_and_index_config_accepted(self, mem: Memory) -> None:
        store = MemoStore(mem, index={"dims": 64, "embed": lambda xs: [[0.0] * 64 for _ in xs], "fields": ["body"]},
                          tenant="acme", user_id="alice")  # fmt: skip
        store.put(NOTES, "hidden", {"body": "secret sailing plans"}, index=False)
        store.put(NOTES, "shown", {"body": "sailing on weekends"})
        ranked = store.search(NOTES, query="sailing", limit=1)
        assert [(i.key, i.score is not None) for i in ranked] == [("shown", True)]
        both = store.search(
            NOTES, query="sailing", limit=5
        )  # like InMemoryStore: unindexed items fill up, no score
        assert [(i.key, i.score) for i in both][1] == ("hidden", None)
        assert store.get(NOTES, "hidden").value == {"body": "secret sailing plans"}  # type: ignore[union-attr]

    def test_ttl(self, mem: Memory, clock: ManualClock) -> None:
        store = MemoStore(
            mem, tenant="acme", user_id="alice", ttl={"default_ttl": 10, "refresh_on_read": True}
        )
        assert store.supports_ttl
        store.put(NOTES, "default", {"text": "ten minutes"})
        store.put(NOTES, "short", {"text": "one minute"}, ttl=1)
        store.put(NOTES, "forever", {"text": "no ttl"}, ttl=None)
        clock.advance(timedelta(minutes=2))
        assert store.get(NOTES, "short") is None and store.get(NOTES, "default") is not None  # refreshed
        clock.advance(timedelta(minutes=9))
        assert store.get(NOTES, "default", refresh_ttl=False) is not None  # 9 < 10 since the refresh
        clock.advance(timedelta(minutes=2))
        assert store.get(NOTES, "default") is None
        assert [i.key for i in store.search(NOTES)] == ["forever"]
        assert store.sweep_ttl() == 2 and len(mem.records(Scope(tenant="acme", user="alice"))) == 1

    def test_langmem_namespace_maps_to_the_user_and_the_middleware_recalls_it(self, mem: Memory) -> None:
        store = MemoStore(mem, tenant="acme")
        store.put(("memories", "alice"), "m1", {"content": "Alice is allergic to peanuts"})
        assert mem.records(Scope(tenant="acme", user="alice"))[0].text == "Alice is allergic to peanuts"
        assert store.search(("memories", "alice"), query="peanuts")[0].key == "m1"
        model = RecordingChatModel(messages=scripted("ok"))
        agent = create_agent(model, middleware=[MemoMiddleware(mem, tenant="acme", save=False)], store=store)
        agent.invoke(
            {"messages": [HumanMessage("what am I allergic to? peanuts?")]},
            {"configurable": {"user_id": "alice"}},
        )
        assert "allergic to peanuts" in model.last_system_prompt

    def test_missing_user_id_names_it_and_where_to_put_it(self, mem: Memory) -> None:
        with pytest.raises(
            ScopeError,
            match=r"user_id.*config\[\"configurable\"\]\[\"user_id\"\].*MemoStore\(memory, user_id=",
        ):
            MemoStore(mem, tenant="acme").put(("notes",), "k", {"text": "x"})

    def test_batch_reads_see_the_store_before_its_puts(self, mem: Memory) -> None:
        for store in (MemoStore(mem, tenant="acme", user_id="alice"), InMemoryStore()):
            store.put(NOTES, "k", {"text": "old"})
            got = store.batch(
                [PutOp(NOTES, "k", {"text": "new"}), GetOp(NOTES, "k"), PutOp(NOTES, "k", {"text": "last"})]
            )
            assert got[1].value == {"text": "old"} and store.get(NOTES, "k").value == {"text": "last"}  # type: ignore[union-attr]

    def test_namespaces_and_keys_are_exact_addresses(self, mem: Memory) -> None:
        """Found by LangGraph's own test_store_injected: a uuid label is not a phone number."""
        store = MemoStore(mem, tenant="acme", user_id="alice")
        ns = ("foo-00f43244ba944b27a0768815812345678", "bar")
        store.put(ns, "4155550123", {"text": "x"})
        (item,) = store.search(ns)
        assert item.namespace == ns and item.key == "4155550123"
        assert store.list_namespaces(prefix=("foo-00f43244ba944b27a0768815812345678",)) == [ns]
