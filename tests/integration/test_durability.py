"""Persistence across processes and durability under `kill -9`, on the embedded store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.store.base import ALL_STATUSES

pytestmark = pytest.mark.integration

ALICE = Scope(tenant="acme", user="alice")

WRITER = textwrap.dedent(
    """
    import sys
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    mem = Memory.open(sys.argv[1], embedder=HashingEmbedder())
    alice = Scope(tenant="acme", user="alice")
    mode = sys.argv[2]
    if mode == "one":
        mem.add_messages([{"role": "user", "content": "I keep my bike in the blue shed", "id": "m1"}],
                         scope=alice, session_id="s1")
        mem.remember("Prefers strict typing and test-first patches", scope=alice, kind="preference")
        print("done", flush=True)
    else:
        i = 0
        while True:
            mem.remember(f"note number {i} about topic {i % 7}", scope=alice, consolidate=False)
            print(f"wrote {i}", flush=True)
            i += 1
    """
)


def run_writer(path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), mode], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})  # fmt: skip


def test_write_in_one_process_read_in_another(tmp_path: Path) -> None:
    p = run_writer(tmp_path / "store", "one")
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0 and "done" in out
    reader = textwrap.dedent(
        """
        import sys
        from shared_core import Memory, Scope
        from shared_core.embed import HashingEmbedder
        mem = Memory.open(sys.argv[1], embedder=HashingEmbedder())
        hits = mem.search("what does the team prefer in patches?", scope=Scope(tenant="acme", user="alice"), k=3)
        print(hits[0].record.text)
        print(len(mem.search("where is the bike", scope=Scope(tenant="acme", user="bob"), k=3)))
        """
    )
    got = subprocess.run([sys.executable, "-c", reader, str(tmp_path / "store")], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    assert got.stdout.splitlines() == ["Prefers strict typing and test-first patches", "0"]


@pytest.mark.parametrize("kill_after", [5, 40])
def test_kill_9_loses_no_returned_write_and_leaves_nothing_half_visible(
    tmp_path: Path, kill_after: int
) -> None:
    path = tmp_path / "store"
    p = run_writer(path, "loop")
    assert p.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 120
    while acknowledged < kill_after and time.monotonic() < deadline:
        line = p.stdout.readline()
        if line.startswith("wrote "):
            acknowledged = int(line.split()[1])
    os.kill(p.pid, signal.SIGKILL)  # an instant after the last acknowledged write
    p.wait(timeout=30)
    assert acknowledged >= kill_after
    mem = Memory.open(path, embedder=HashingEmbedder())  # the next open repairs interrupted writes
    recs = mem.store.list_records(ALICE, ALL_STATUSES)
    texts = {r.text for r in recs}
    for i in range(acknowledged + 1):
        assert f"note number {i} about topic {i % 7}" in texts
    # every record is whole (parses, has its vector) and every history entry has its record
    vectors = mem.store.fetch(ALICE, [r.id for r in recs])
    assert set(vectors) == {r.id for r in recs}
    for entry in mem.store.history(ALICE):
        assert mem.store.get(ALICE, [entry.record_id]), f"history without record {entry.record_id}"
    hits = mem.search(f"note number {acknowledged}", scope=ALICE, k=5)
    assert any(h.record.text.startswith(f"note number {acknowledged} ") for h in hits)
    mem.close()


HANGING_EMBEDDER_WRITER = textwrap.dedent(
    """
    import sys, time
    from shared_core import MemoConfig, Memory, Scope
    from shared_core.config import WriteConfig
    from shared_core.embed import HashingEmbedder

    class Hangs(HashingEmbedder):  # same name and vectors as HashingEmbedder, but never returns
        def embed(self, texts):
            time.sleep(3600)

    config = MemoConfig(write=WriteConfig(embed_wait_ms=float(sys.argv[2])))
    mem = Memory.open(sys.argv[1], embedder=Hangs(), config=config)
    alice = Scope(tenant="acme", user="alice")
    i = 0
    while True:
        mem.add_messages([{"role": "user", "content": f"turn {i} says colour {i * 7 % 11}", "id": f"u{i}"},
                          {"role": "assistant", "content": f"reply {i} noted", "id": f"a{i}"}],
                         scope=alice, session_id="s1", extract=False)
        print(f"wrote {i}", flush=True)
        i += 1
    """
)


@pytest.mark.parametrize("embed_wait_ms", ["0", "50"])
def test_raw_turns_acknowledged_before_their_embedding_survive_kill_9(
    tmp_path: Path, embed_wait_ms: str
) -> None:
    """`add_messages` returns once the turns are journaled; their vectors come after (here: never,
    the embedder hangs). kill -9 then: the next open embeds and applies every acknowledged turn.
    With `write.embed_wait_ms` the first write waits for the hung embedder up to the bound, the
    others find it busy and return at once; durability is the same."""
    path = tmp_path / "store"
    p = subprocess.Popen([sys.executable, "-c", HANGING_EMBEDDER_WRITER, str(path), embed_wait_ms], stdout=subprocess.PIPE,
                         text=True, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})  # fmt: skip
    assert p.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 120
    while acknowledged < 30 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if line.startswith("wrote "):
            acknowledged = int(line.split()[1])
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert acknowledged >= 30  # the hanging embedder never held a write back
    mem = Memory.open(path, embedder=HashingEmbedder())
    recs = mem.store.list_records(ALICE, ALL_STATUSES)
    texts = {r.text for r in recs}
    for i in range(acknowledged + 1):
        assert f"turn {i} says colour {i * 7 % 11}" in texts and f"reply {i} noted" in texts
    assert len(recs) == len(texts)  # nothing twice
    assert set(mem.store.fetch(ALICE, [r.id for r in recs])) == {r.id for r in recs}  # every vector
    hits = mem.search(f"turn {acknowledged} says colour", scope=ALICE, k=3)
    assert hits[0].record.text.startswith(f"turn {acknowledged} says")
    mem.close()


def test_a_script_that_exits_without_close_still_applies_its_turns(tmp_path: Path) -> None:
    """The turns of `add_messages` are embedded after the call; a script that ends without
    `close()` has them embedded (two lanes of the default embedder) and applied at exit."""
    script = textwrap.dedent(
        """
        import sys
        from shared_core import Memory, Scope
        mem = Memory.open(sys.argv[1])
        mem.add_messages([{"role": "user", "content": f"fact number {i} about the garden", "id": f"g{i}"}
                          for i in range(9)], scope=Scope(tenant="acme", user="alice"), session_id="s1")
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "store")], check=True, timeout=120,
                   env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})  # fmt: skip
    mem = Memory.open(tmp_path / "store")
    assert mem.recovered.replayed == 0  # nothing was left in the journal
    assert len(mem.store.list_records(ALICE, ALL_STATUSES)) >= 9
    mem.close()
