"""Raw turns are acknowledged once journaled; their vectors follow (`Seam.settle`), yet every
read of the writing process sees them at once, and an embedder that fails or hangs loses nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.embed.base import Vectors
from shared_core.errors import EmbeddingError
from shared_core.store.base import ALL_STATUSES

ALICE = Scope(tenant="t", user="alice")


class Switchable(HashingEmbedder):
    """HashingEmbedder that can be made to fail, or to block until released; counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = False
        self.release = threading.Event()
        self.release.set()
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.release.wait()
        if self.fail:
            raise RuntimeError("the embedding service is down")
        self.calls.append(len(texts))
        return super().embed(texts)


def _turns(i: int) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": f"my locker code is number {i}", "id": f"u{i}"},
        {"role": "assistant", "content": f"noted locker {i}", "id": f"a{i}"},
    ]


def test_a_search_right_after_a_write_sees_it_and_embeds_each_text_once(tmp_path: Path) -> None:
    emb = Switchable()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    mem.search("warm", scope=ALICE)
    emb.release.clear()  # the applier cannot embed them first
    mem.add_messages(_turns(1), scope=ALICE, session_id="s", extract=False)
    before = len(emb.calls)
    emb.release.set()
    hits = mem.search("what is my locker code", scope=ALICE, k=2)
    assert any(h.record.text == "my locker code is number 1" for h in hits)
    # the two turns and the query in one embedder call
    assert emb.calls[before:] == [3]
    mem.close()


class Recording(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts.append(list(texts))
        return super().embed(texts)


def test_a_question_naming_the_speaker_of_turns_not_yet_embedded_leaves_the_name_out(
    tmp_path: Path,
) -> None:
    """The query's vector leaves out the names of the scope's people, those who said turns not yet
    embedded included: the same question embeds the same text before and after they settle."""
    emb = Recording()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    mem.search("warm", scope=ALICE)
    msgs = [{"role": "user", "name": "Melanie", "content": "I painted a sunrise over the lake", "id": "m1"}]
    mem.add_messages(msgs, scope=ALICE, session_id="s", extract=False)
    emb.texts.clear()
    mem.search("What did Melanie paint?", scope=ALICE, k=2)
    first = emb.texts[-1]
    assert len(emb.texts) == 1 and len(first) == 2  # the turn and the question, one call
    mem.search("What did Melanie paint?", scope=ALICE, k=2)
    assert emb.texts[-1] == [first[-1]]  # the question alone now, embedded as the same text
    assert "Melanie" not in first[-1]
    mem.close()


def test_a_hanging_embedder_never_blocks_add_messages(tmp_path: Path) -> None:
    emb = Switchable()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    emb.release.clear()
    t0 = time.monotonic()
    for i in range(5):
        mem.add_messages(_turns(i), scope=ALICE, session_id="s", extract=False)
    assert time.monotonic() - t0 < 5
    emb.release.set()
    assert {f"my locker code is number {i}" for i in range(5)} <= {r.text for r in mem.records(scope=ALICE)}
    mem.flush()
    assert len(mem.store.list_records(ALICE, ALL_STATUSES)) == 10
    mem.close()


def test_a_failing_embedder_loses_no_acknowledged_turn(tmp_path: Path) -> None:
    emb = Switchable()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    emb.fail = True
    result = mem.add_messages(_turns(7), scope=ALICE, session_id="s", extract=False)  # journaled
    assert len(result.episodes) == 2
    with pytest.raises(EmbeddingError):
        mem.search("locker code", scope=ALICE)
    emb.fail = False  # the service is back: the next write or read embeds the waiting turns first
    mem.remember("Alice prefers tea", scope=ALICE, consolidate=False)
    hits = mem.search("locker code number 7", scope=ALICE, k=3)
    assert hits[0].record.text == "my locker code is number 7"
    mem.flush()
    stored = mem.store.list_records(ALICE, ALL_STATUSES)
    assert {r.text for r in stored} == {"my locker code is number 7", "noted locker 7", "Alice prefers tea"}
    vecs = mem.store.fetch(ALICE, [r.id for r in stored])
    assert all(np.isfinite(v).all() and abs(float(np.linalg.norm(v)) - 1) < 1e-4 for _, v in vecs.values())
    mem.close()


def test_turns_journaled_without_vectors_are_embedded_at_the_next_open(tmp_path: Path) -> None:
    emb = Switchable()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    emb.fail = True
    mem.add_messages(_turns(3), scope=ALICE, session_id="s", extract=False)
    mem.close()  # cannot embed them: they stay in the journal, not in the store
    again = Memory.open(tmp_path / "s", embedder=HashingEmbedder())
    assert (
        again.search("locker code number 3", scope=ALICE, k=1)[0].record.text == "my locker code is number 3"
    )
    assert len(again.store.list_records(ALICE, ALL_STATUSES)) == 2
    again.close()


def test_threads_each_see_their_own_write_at_once(tmp_path: Path) -> None:
    """Four threads write and search at once: concurrent settles embed side by side, and every
    search still sees the write its own thread made just before."""
    mem = Memory.open(tmp_path / "s", embedder=HashingEmbedder())
    errors: list[str] = []

    def run(t: int) -> None:
        scope = Scope(tenant="t", user=f"u{t}")
        for i in range(15):
            word = f"zq{t}x{i}"
            msgs = [{"role": "user", "content": f"the code word is {word}", "id": f"{t}-{i}"}]
            rid = mem.add_messages(msgs, scope=scope, session_id="s", extract=False).episodes[0].id
            hits = mem.search(f"code word {word}", scope=scope, k=5)
            if rid not in [h.record.id for h in hits]:
                errors.append(f"thread {t} write {i}: {[h.record.text for h in hits]}")

    threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    mem.flush()
    assert (
        sum(len(mem.store.list_records(Scope(tenant="t", user=f"u{t}"), ALL_STATUSES)) for t in range(4))
        == 60
    )
    mem.close()


def test_a_turn_deleted_before_its_vector_came_stays_deleted(tmp_path: Path) -> None:
    """The embedder is down: a turn is acknowledged, then deleted (the delete does not wait for
    the vector). When the vector comes, the turn is not brought back into the search index."""
    emb = Switchable()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    mem.search("warm", scope=ALICE)
    emb.fail = True
    rid = mem.add_messages(_turns(4), scope=ALICE, session_id="s", extract=False).episodes[0].id
    assert mem.delete(rid, scope=ALICE) == [rid]
    emb.fail = False
    hits = mem.search("my locker code is number 4", scope=ALICE, k=5)
    assert rid not in [h.record.id for h in hits]
    assert [h.record.text for h in hits] == ["noted locker 4"]
    mem.flush()
    assert {r.text for r in mem.store.list_records(ALICE, ALL_STATUSES)} == {"noted locker 4"}
    mem.close()


class Short(HashingEmbedder):
    """Returns one vector too few for a batch of more than one text."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = super().embed(texts)
        return out[:-1] if len(texts) > 1 else out


def test_an_embedder_returning_too_few_vectors_is_an_embedding_error(tmp_path: Path) -> None:
    mem = Memory.open(tmp_path / "s", embedder=Short())
    mem.add_messages(_turns(5), scope=ALICE, session_id="s", extract=False)  # acknowledged all the same
    with pytest.raises(EmbeddingError, match="vectors for [23] texts"):
        mem.search("locker", scope=ALICE)
    assert len(mem.records(scope=ALICE)) == 2  # readable by id and listing, from the journal's overlay
    mem.close()


def test_a_turn_sent_again_with_new_text_gets_its_new_vector(tmp_path: Path) -> None:
    emb = Switchable()
    mem = Memory.open(tmp_path / "s", embedder=emb)
    first = [{"role": "user", "content": "my locker code is 1234", "id": "u1"}]
    mem.add_messages(first, scope=ALICE, session_id="s", extract=False)
    mem.search("warm", scope=ALICE)  # settled: the first text has its vector
    emb.release.clear()
    again = [{"role": "user", "content": "favourite colour turquoise", "id": "u1"}]
    mem.add_messages(again, scope=ALICE, session_id="s", extract=False)
    emb.release.set()
    hit = mem.search("favourite colour turquoise", scope=ALICE, k=1)[0]
    assert hit.record.text == "favourite colour turquoise"
    assert hit.components is not None and hit.components["similarity"] > 0.8  # its own vector, not 1234
    mem.close()


def _waiting(tmp_path: Path, emb: Switchable, wait_ms: float) -> Memory:
    from shared_core import MemoConfig
    from shared_core.config import WriteConfig

    cfg = MemoConfig(write=WriteConfig(embed_wait_ms=wait_ms))
    return Memory.open(tmp_path / "s", embedder=emb, config=cfg)


def test_with_embed_wait_a_chat_exchange_is_embedded_before_the_write_returns(tmp_path: Path) -> None:
    emb = Switchable()
    mem = _waiting(tmp_path, emb, 5_000)
    mem.search("warm", scope=ALICE)
    emb.calls.clear()
    mem.add_messages(_turns(1), scope=ALICE, session_id="s", extract=False)
    assert emb.calls == [2]  # the two turns, before add_messages returned
    hits = mem.search("what is my locker code", scope=ALICE, k=2)
    assert any(h.record.text == "my locker code is number 1" for h in hits)
    assert emb.calls == [2, 1]  # the search embedded its query alone
    # a bulk write (more turns than `embed_wait_texts`) returns once journaled
    emb.release.clear()
    t0 = time.monotonic()
    mem.add_messages(_turns(2) + _turns(3) + _turns(4), scope=ALICE, session_id="s", extract=False)
    assert time.monotonic() - t0 < 2
    emb.release.set()
    mem.close()


def test_with_embed_wait_a_hanging_embedder_delays_a_write_by_the_wait_at_most(tmp_path: Path) -> None:
    emb = Switchable()
    mem = _waiting(tmp_path, emb, 200)
    mem.search("warm", scope=ALICE)
    emb.release.clear()  # hangs
    took = []
    for i in range(4):
        t0 = time.monotonic()
        mem.add_messages(_turns(i), scope=ALICE, session_id="s", extract=False)
        took.append(time.monotonic() - t0)
    assert took[0] >= 0.2  # the first write waited for its vectors, up to the bound
    assert max(took) < 3
    assert sum(took[1:]) < 0.5 * 3  # later writes do not queue behind the hung embedding
    emb.release.set()  # (a read settles its scope first, so it would wait for the hung embedder)
    assert {f"my locker code is number {i}" for i in range(4)} <= {r.text for r in mem.records(scope=ALICE)}
    hits = mem.search("locker code number 3", scope=ALICE, k=8)
    assert {f"my locker code is number {i}" for i in range(4)} <= {h.record.text for h in hits}
    mem.flush()
    assert len(mem.store.list_records(ALICE, ALL_STATUSES)) == 8
    mem.close()
