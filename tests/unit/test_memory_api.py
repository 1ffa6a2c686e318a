"""The public API of `Memory` on an embedded Chroma store: writes, reads, history, bad input."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shared_core import (
    AsyncMemory,
    InvalidInput,
    Kind,
    MemoError,
    Memory,
    NotFound,
    Scope,
    ScopeError,
    Status,
)
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder
from shared_core.store.base import ALL_STATUSES


def count_all(mem: Memory, scope: Scope) -> int:
    return len(mem.store.list_records(scope, ALL_STATUSES))


def test_remember_then_search_with_provenance(mem: Memory, alice: Scope) -> None:
    rec = mem.remember("Prefers strict typing and test-first patches", scope=alice, kind="preference",
                       source_message_ids=["m1"], session_id="s1")  # fmt: skip
    mem.remember("The office dog is called Biscuit", scope=alice)
    hits = mem.search("what does the team prefer in patches?", scope=alice, k=5)
    assert hits[0].record.id == rec.id
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert hits[0].score >= hits[-1].score
    assert hits[0].provenance.source_message_ids == ["m1"] and hits[0].provenance.session_id == "s1"
    assert hits[0].record.kind is Kind.PREFERENCE


def test_add_messages_keeps_raw_turns_with_provenance(mem: Memory, alice: Scope, clock: ManualClock) -> None:
    when = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    res = mem.add_messages(
        [{"role": "user", "content": "Deploys fail at the OAuth step again", "id": "D1:1", "name": "Ann",
          "timestamp": when},
         {"role": "assistant", "content": "Let's look at the token refresh.", "id": "D1:2"}],
        scope=alice, session_id="s1",
    )  # fmt: skip
    assert [e.provenance.source_message_ids for e in res.episodes] == [["D1:1"], ["D1:2"]]
    ep = res.episodes[0]
    assert ep.kind is Kind.EPISODE and ep.provenance.session_id == "s1" and ep.valid_from == when
    assert ep.provenance.speaker == "Ann" and ep.index_text() == "Ann: Deploys fail at the OAuth step again"
    hits = mem.search("OAuth deploy failure", scope=alice, k=3)
    assert hits[0].record.id == ep.id
    # the same message added again replaces, never duplicates
    mem.add_messages([{"role": "user", "content": "Deploys fail at the OAuth step again", "id": "D1:1", "name": "Ann",
                       "timestamp": when}], scope=alice, session_id="s1")  # fmt: skip
    episodes = mem.records(alice, kinds=["episode"])
    assert len(episodes) == 2


def test_history_kept_on_update(mem: Memory, alice: Scope, clock: ManualClock) -> None:
    rec = mem.remember("Alice's desk is on floor 2", scope=alice)
    clock.advance(days=1)
    mem.update(rec.id, alice, text="Alice's desk is on floor 3", reason="moved desks")
    clock.advance(days=1)
    mem.update(rec.id, alice, importance=0.9)
    hist = mem.history(rec.id, alice)
    assert [h.op for h in hist] == ["add", "update", "update"]
    assert [h.version for h in hist] == [1, 2, 3]
    assert hist[0].snapshot is not None and hist[0].snapshot.text == "Alice's desk is on floor 2"
    assert hist[1].snapshot is not None and hist[1].snapshot.text == "Alice's desk is on floor 3"
    assert hist[1].reason == "moved desks"
    assert mem.get(rec.id, alice).version == 3
    assert mem.search("which floor", scope=alice, k=1)[0].record.text == "Alice's desk is on floor 3"


def test_scope_isolation_two_tenants_same_user(mem: Memory) -> None:
    a = Scope(tenant="acme", user="sam")
    b = Scope(tenant="globex", user="sam")
    mem.remember("Sam at Acme likes Rust", scope=a)
    mem.remember("Sam at Globex likes Go", scope=b)
    assert [h.record.text for h in mem.search("likes", scope=a, k=10)] == ["Sam at Acme likes Rust"]
    assert [h.record.text for h in mem.search("likes", scope=b, k=10)] == ["Sam at Globex likes Go"]
    rec_b = mem.records(b)[0]
    with pytest.raises(NotFound):
        mem.get(rec_b.id, a)
    assert mem.delete([rec_b.id], a) == []
    assert mem.get(rec_b.id, b).text == "Sam at Globex likes Go"


@pytest.mark.parametrize(
    "hostile", ['{"$ne": ""}', "*", "$in", ".*", "'; DROP TABLE records; --", "alice OR 1=1"]
)
def test_hostile_scope_ids_match_nothing_else(mem: Memory, alice: Scope, hostile: str) -> None:
    mem.remember("alice's private note about the merger", scope=alice)
    evil = Scope(tenant="acme", user=hostile)
    assert mem.search("private note merger", scope=evil, k=10) == []
    assert mem.records(evil) == []
    mem.remember("hostile's own note", scope=evil)
    assert [r.text for r in mem.records(evil)] == ["hostile's own note"]
    assert [r.text for r in mem.records(alice)] == ["alice's private note about the merger"]


BAD_MESSAGES = [
    ([{"role": "user", "content": ""}], "empty"),
    ([{"role": "user", "content": "   \n\t "}], "whitespace"),
    ([{"role": "user", "content": "x" * 1_000_001}], "limit"),
    ([{"role": "user", "content": b"bytes are not text"}], "bytes"),
    ([{"role": "user", "content": "nul \x00 inside"}], "NUL"),
    ([{"role": "user", "content": "lone surrogate \udcff"}], "UTF-8"),
    ([{"role": "user", "content": 42}], "str"),
    ([{"role": "robot", "content": "hi"}], "invalid"),
    ([{"role": "user"}], "str"),
    ([{"role": "user", "content": "ok", "extra": 1}], "invalid"),
    ("just a string", "list"),
    ([], "empty"),
    ([{"role": "user", "content": "fine"}, {"role": "user", "content": ""}], "empty"),
    (
        [{"role": "user", "content": "a", "id": "x"}, {"role": "user", "content": "b", "id": "x"}],
        "share an id",
    ),
]


@pytest.mark.parametrize(("messages", "needle"), BAD_MESSAGES)
def test_bad_messages_raise_and_write_nothing(
    mem: Memory, alice: Scope, messages: object, needle: str
) -> None:
    before = count_all(mem, alice)
    with pytest.raises(InvalidInput) as info:
        mem.add_messages(messages, scope=alice, session_id="s1")
    assert needle.lower() in str(info.value).lower()
    assert isinstance(info.value, MemoError)
    assert count_all(mem, alice) == before


@pytest.mark.parametrize(
    "scope",
    [
        {"tenant": "acme", "user": ""},
        {"tenant": "acme", "user": "a\x00b"},
        {"tenant": "acme", "user": "x" * 200},
        {"tenant": "acme"},
        {"tenant": "", "user": "alice"},
        {"tenant": "acme", "user": 7},
        "alice",
        None,
    ],
)
def test_invalid_scopes_raise_scope_error(mem: Memory, scope: object) -> None:
    with pytest.raises(ScopeError):
        mem.add_messages([{"role": "user", "content": "hello"}], scope=scope)
    with pytest.raises(ScopeError):
        mem.search("hello", scope=scope)


def test_other_bad_arguments(mem: Memory, alice: Scope) -> None:
    with pytest.raises(InvalidInput):
        mem.search("", scope=alice)
    with pytest.raises(InvalidInput):
        mem.search("q", scope=alice, k=0)
    with pytest.raises(InvalidInput):
        mem.search("q", scope=alice, k=10_000)
    with pytest.raises(InvalidInput):
        mem.search("q", scope=alice, token_budget=-5)
    with pytest.raises(InvalidInput):
        mem.remember("x", scope=alice, kind="gossip")
    with pytest.raises(InvalidInput):
        mem.remember("x", scope=alice, importance=3.0)
    with pytest.raises(InvalidInput):
        mem.remember("x", scope=alice, metadata={"nested": {"a": 1}})
    with pytest.raises(InvalidInput):
        mem.remember("x", scope=alice, valid_from=datetime(2024, 2, 1), valid_to=datetime(2024, 1, 1))
    with pytest.raises(NotFound):
        mem.get("nope", alice)
    assert count_all(mem, alice) == 0


def test_search_filters_kind_and_time(mem: Memory, alice: Scope) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    mem.remember("Visited Lisbon for a conference", scope=alice, kind="event", valid_from=t0)
    mem.remember("Visited Porto with family", scope=alice, kind="event", valid_from=t0 + timedelta(days=60))
    mem.remember("Likes visiting new cities", scope=alice, kind="preference")
    kinds = {h.record.kind for h in mem.search("visited", scope=alice, kinds=["event"], k=10)}
    assert kinds == {Kind.EVENT}
    texts = [
        h.record.text
        for h in mem.search("visited", scope=alice, kinds=["event"], since=t0 + timedelta(days=30))
    ]
    assert texts == ["Visited Porto with family"]
    cached = len(mem.engine._indexes.cached())
    for days in range(5):  # a time window masks the scope's index; it never builds another one
        until = t0 + timedelta(days=days)
        assert [h.record.text for h in mem.search("visited", scope=alice, kinds=["event"], until=until)] == [
            "Visited Lisbon for a conference"
        ]
    assert mem.search("Porto", scope=alice, since=t0 + timedelta(days=90)) == []
    assert len(mem.engine._indexes.cached()) == cached + 1  # kinds=None is its own index


def test_token_budget_is_never_exceeded(mem: Memory, alice: Scope) -> None:
    from shared_core.tokens import count_tokens

    for i in range(30):
        mem.remember(f"Project note {i}: the build of module {i} needs the flag --fast-{i}", scope=alice)
    for budget in (40, 80, 200, 1000):
        ctx = mem.context("project build notes", scope=alice, token_budget=budget)
        assert ctx.tokens == count_tokens(ctx.text) <= budget
        hits = mem.search("project build notes", scope=alice, k=50, token_budget=budget)
        assert [h.id for h in hits] == [h.id for h in ctx.hits]


def test_pending_review_and_deleted_never_returned(mem: Memory, alice: Scope) -> None:
    rec = mem.remember("Alice's salary is 100k", scope=alice)
    mem.update(rec.id, alice, status=Status.PENDING_REVIEW)
    assert mem.search("salary", scope=alice, k=10) == []
    assert mem.context("salary", scope=alice).hits == []
    mem.update(rec.id, alice, status=Status.ACTIVE)
    assert len(mem.search("salary", scope=alice, k=10)) == 1
    mem.delete([rec.id], alice)
    assert mem.search("salary", scope=alice, k=10) == []


async def test_async_parity(tmp_path: object, clock: ManualClock) -> None:
    """One scenario through Memory and AsyncMemory gives the same results."""
    from pathlib import Path

    base = Path(str(tmp_path))
    scope = Scope(tenant="acme", user="alice")
    msgs = [{"role": "user", "content": "I live in Paris and I love green tea", "id": "m1"},
            {"role": "user", "content": "Deploys fail at the OAuth step again", "id": "m2"}]  # fmt: skip

    def summary(hits: list) -> list[tuple[str, float]]:  # type: ignore[type-arg]
        return [(h.record.text, h.score) for h in hits]

    sync = Memory.open(base / "sync", embedder=HashingEmbedder(), clock=ManualClock(clock.now()))
    r1 = sync.add_messages(msgs, scope=scope, session_id="s1")
    sync.remember("Prefers test-first patches", scope=scope, kind="preference")
    sync.flush()  # extraction runs in the background: compare the settled states
    s_hits = summary(sync.search("what does alice like?", scope=scope, k=5))
    s_ctx = sync.context("deploys", scope=scope, token_budget=100).text

    amem = AsyncMemory.open(base / "async", embedder=HashingEmbedder(), clock=ManualClock(clock.now()))
    r2 = await amem.add_messages(msgs, scope=scope, session_id="s1")
    await amem.remember("Prefers test-first patches", scope=scope, kind="preference")
    await amem.drain()
    a_hits = summary(await amem.search("what does alice like?", scope=scope, k=5))
    a_ctx = (await amem.context("deploys", scope=scope, token_budget=100)).text
    assert [e.text for e in r1.episodes] == [e.text for e in r2.episodes]
    assert [m.text for m in r1.added] == [m.text for m in r2.added]
    assert s_hits == a_hits and s_hits
    assert s_ctx == a_ctx and s_ctx
    with pytest.raises(InvalidInput):
        await amem.add_messages([{"role": "user", "content": ""}], scope=scope)
    await amem.aclose()
    sync.close()


class BrokenExtractor:
    """An extractor with a bug: the raw turns must be kept all the same."""

    name = "broken"
    version = "0"

    def extract(self, turns: object, *, now: datetime) -> list[object]:
        raise RuntimeError("extractor bug")


def test_a_failing_extractor_keeps_the_raw_turns(tmp_path: object, clock: ManualClock, alice: Scope) -> None:
    from pathlib import Path

    from shared_core import ExtractionError

    path = Path(str(tmp_path)) / "store"
    broken = Memory.open(path, embedder=HashingEmbedder(dim=256), clock=clock, extractor=BrokenExtractor())
    with broken, pytest.raises(ExtractionError, match="extractor bug"):
        broken.add_messages(  # wait=True: extraction in the call, so its error is the call's
            [{"role": "user", "content": "I moved to Lisbon in March", "id": "t1"}], scope=alice, wait=True
        )
    with Memory.open(path, embedder=HashingEmbedder(dim=256), clock=clock) as m:  # a new process, in effect
        (ep,) = m.records(alice)
        assert ep.kind is Kind.EPISODE and ep.provenance.source_message_ids == ["t1"]
        assert m.search("Lisbon", scope=alice, k=1)[0].record.id == ep.id
        audit = m.engine.audit
        assert audit is not None and audit.verify().ok
        assert [(e.action, e.record_id) for e in audit.events()] == [("write", ep.id)]


def test_returned_records_are_immutable(mem: Memory, alice: Scope) -> None:
    """Searches share records with the process's cached index: a caller cannot change them in place."""
    from pydantic import ValidationError

    mem.remember("Prefers window seats", scope=alice, kind="preference")
    hit = mem.search("seats", scope=alice, k=1)[0]
    with pytest.raises(ValidationError):
        hit.record.text = "Prefers aisle seats"  # type: ignore[misc]
    changed = hit.record.model_copy(update={"importance": 0.9})  # the supported way to derive a new record
    assert (
        changed.importance == 0.9
        and mem.search("seats", scope=alice, k=1)[0].record.text == "Prefers window seats"
    )


def test_a_store_reopens_with_the_built_in_embedder_it_recorded(tmp_path: object, alice: Scope) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "store"
    with Memory.open(path, embedder=HashingEmbedder(dim=128)) as m:
        rec = m.remember("Keeps bees on the roof", scope=alice)
    with Memory.open(path) as m:  # no embedder given: the recorded hashing-128, not the default model
        assert m.engine.embedder.name == "hashing-128"
        assert m.search("bees", scope=alice, k=1)[0].record.id == rec.id


def test_a_failing_background_extractor_keeps_the_raw_turns_and_says_why(
    tmp_path: object, clock: ManualClock, alice: Scope
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "store"
    with Memory.open(path, embedder=HashingEmbedder(dim=256), clock=clock, extractor=BrokenExtractor()) as m:
        m.engine._worker.max_attempts = 2  # type: ignore[union-attr]
        res = m.add_messages(
            [{"role": "user", "content": "I moved to Lisbon in March", "id": "t1"}], scope=alice
        )
        assert res.extraction == "queued"
        assert m.search("Lisbon", scope=alice, k=1)[0].record.id == res.episodes[0].id  # searchable at once
        m.flush(timeout=30)
        stats = m.stats()
        assert stats["worker_jobs_failed"] == 1 and "extractor bug" in stats["worker_last_error"]
        audit = m.engine.audit
        assert audit is not None and audit.verify().ok
        assert [(e.action, e.decision) for e in audit.events()] == [("write", "keep"), ("extract", "failed")]


def test_hit_components_say_how_retrieval_found_it(mem: Memory, alice: Scope) -> None:
    mem.remember("Alice keeps bees on the roof", scope=alice)
    mem.add_messages(
        [{"role": "user", "content": "do you keep bees on the roof?"}], alice, "s1", extract=False
    )
    hits = mem.search("bees on the roof", scope=alice, k=5)
    assert hits
    for h in hits:
        c = h.components
        assert {"dense_rank", "lexical_rank", "dense_rrf", "lexical_rrf", "fused"} <= set(c)
        assert c["dense_rank"] >= 1 or c["lexical_rank"] >= 1
    by_kind = {h.record.kind.value: h.components for h in hits}
    assert by_kind["fact"]["memory_factor"] == 0.85  # extracted/stated memories are damped
    assert by_kind["episode"]["question_turn_factor"] == 0.85  # a question rarely holds its answer


def test_list_is_a_deprecated_name_of_records(mem: Memory, alice: Scope) -> None:
    mem.remember("Prefers the window seat", scope=alice, kind="preference")
    with pytest.warns(DeprecationWarning, match="records"):
        old = mem.list(alice, kinds=["preference"])
    assert [r.id for r in old] == [r.id for r in mem.records(alice, kinds=["preference"])] != []
    amem = AsyncMemory(mem)
    with pytest.warns(DeprecationWarning, match="records"):
        aold = asyncio.run(amem.list(alice, kinds=["preference"]))
    assert [r.id for r in aold] == [r.id for r in old]


@pytest.mark.parametrize("without_names", [True, False])
def test_search_embeds_the_query_without_the_names_of_the_scopes_people(
    tmp_path: Path, alice: Scope, without_names: bool
) -> None:
    """A raw turn never holds its speaker's name, an extracted memory always holds its subject's:
    the query's vector leaves the scope's names out (who it is about is scored apart), so "What
    does Melanie do to destress?" is not drawn to every memory that starts with "Melanie"."""
    from shared_core import MemoConfig
    from shared_core.embed.base import FunctionEmbedder

    inner = HashingEmbedder(64)
    seen: list[list[str]] = []

    def embed(texts: list[str]) -> Any:
        seen.append(texts)
        return inner.embed(texts)

    cfg = MemoConfig.model_validate({"scoring": {"dense_without_names": without_names}})
    m = Memory.open(tmp_path / "s", embedder=FunctionEmbedder(embed, 64, "recording"), config=cfg)
    try:
        m.add_messages([{"role": "user", "name": "Melanie", "content": "I love quiet weekends."},
                        {"role": "user", "name": "Melanie", "content": "Running is how I destress."}],
                       scope=alice, session_id="s1", wait=True)  # fmt: skip
        assert any(r.subject == "melanie" for r in m.records(alice) if r.kind is not Kind.EPISODE)
        seen.clear()
        m.search("What does Melanie do to destress? Ask Bob.", scope=alice, k=3)
        want = (
            "What does do to destress? Ask Bob."
            if without_names
            else "What does Melanie do to destress? Ask Bob."
        )
        assert seen == [[want]]
        seen.clear()  # a role word is no name: the subject of a nameless user's memories is "user"
        m.search("What does the User like?", scope=alice, k=3)
        assert seen == [["What does the User like?"]]
    finally:
        m.close()
