"""Physical erasure (#17.4): after an erasure no byte of the subject's text remains in any file of the
store directory, and `verify_erasure` scans the raw files: residue planted in each kind of file
(the SQLite main database, Chroma's write log, a free page, an HNSW segment file, a stray file) fails it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from _servers import ENV, ROOT

from shared_core import Memory, Scope, Status
from shared_core.embed import HashingEmbedder
from shared_core.extract.base import Candidate, ExtractInput
from shared_core.extract.rules import RuleExtractor
from shared_core.governance.access import Principal, Role

DPO = Principal(id="dpo", role=Role.ADMIN)
ALICE = Scope(tenant="acme", user="alice")
BOB = Scope(tenant="acme", user="bob")
SECRET_FACT = "Alice keeps her spare key under the heron statue by the pond"
SECRET_TURN = "Alice whispered that her locker code hint is the purple giraffe"
SECRET_META = "ticket-7731-alice-private-locker"
BREST = "lighthouse keeper in Brest"


def forms(text: str) -> list[bytes]:
    """The test's own idea of how a text can sit in a file: raw, JSON-escaped, escaped twice."""
    once = json.dumps(text)[1:-1]
    return [text.encode(), once.encode(), json.dumps(once)[1:-1].encode()]


def byte_scan(root: Path, texts: list[str]) -> list[str]:
    """Every (file, text) where any form of `text` occurs, over every file under `root`."""
    found = []
    for base, _dirs, files in os.walk(root):
        for name in files:
            data = (Path(base) / name).read_bytes()
            found += [f"{name}: {t[:20]}" for t in texts if any(f in data for f in forms(t))]
    return found


class SlowExtractor:
    """The rule extractor, a little slow (a user's extractor may take seconds): the erasure starts
    while the background worker still holds the subject's turns."""

    name = "slow-rules"
    version = "1"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.inner = RuleExtractor()

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        time.sleep(self.delay)
        return self.inner.extract(turns, now=now)


@pytest.fixture(params=["flushed", "unflushed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Memory, Path]]:
    """Writes through `add_messages` (journal, applier, background extraction): erased either after
    `flush()` or while the extraction worker is still at work on the subject's turns."""
    path = tmp_path / "store"
    delay = 0.0 if request.param == "flushed" else 1.0
    mem = Memory.open(path, embedder=HashingEmbedder(), extractor=SlowExtractor(delay))
    for i in range(12):
        mem.add_messages([{"role": "user", "content": f"Bob notes that build {i} of the bridge passed", "id": f"b{i}"}],
                         scope=BOB, session_id="s1")  # fmt: skip
    mem.remember(SECRET_FACT, scope=ALICE, metadata={"ticket": SECRET_META})
    mem.add_messages([{"role": "user", "content": SECRET_TURN, "id": "a1"},
                      {"role": "user", "content": "I work as a lighthouse keeper in Brest", "id": "a2"}],
                     scope=ALICE, session_id="s1")  # fmt: skip
    mem.update(mem.records(ALICE, kinds=["fact"])[0].id, ALICE, text=SECRET_FACT + " (confirmed)")
    # the journal is part of the store's directory: before erasure it holds the subject's turns
    assert [f for f in byte_scan(path / "memo_journal", [SECRET_TURN])]
    if request.param == "flushed":
        mem.flush()
    yield mem, path
    mem.close()


def test_text_is_in_the_files_before_erasure(store: tuple[Memory, Path]) -> None:
    """The scan is not vacuous: before erasure, every secret is in the files."""
    mem, path = store
    mem.flush()
    assert len({f.split(": ")[1] for f in byte_scan(path, [SECRET_FACT, SECRET_TURN, SECRET_META])}) == 3


def test_erasure_leaves_no_byte_of_the_subject_in_any_file(store: tuple[Memory, Path]) -> None:
    mem, path = store
    report = mem.governor.forget_user(DPO, ALICE)
    assert report.ok, [c for c in report.checks if not c.passed]
    assert {c.name for c in report.checks} >= {"files", "raw_scan", "records", "history"}
    assert report.purged["log_rows_scrubbed"] > 0
    # the whole directory, the engine's journal (memo_journal/) included
    assert (path / "memo_journal").is_dir()
    assert byte_scan(path, [SECRET_FACT, SECRET_FACT + " (confirmed)", SECRET_TURN, SECRET_META, BREST]) == []
    mem.flush()
    # no memory extracted from the erased turns came back
    assert mem.records(ALICE, statuses=list(Status)) == []
    assert not [p for p in path.iterdir() if p.name.endswith(("-journal", "-wal"))]
    # everyone else is intact, also after reopening (the log replay still ends in the same state)
    bob_before = [r.text for r in mem.records(BOB)]
    mem.close()  # stopping Chroma rewrites its HNSW files: MeMo zeroes their unused bytes again
    assert byte_scan(path, [SECRET_FACT, SECRET_TURN, SECRET_META]) == []
    # a fresh process (its heap never held the erased text) reopens the store: everyone else is intact
    # (the log replay still ends in the same state) and the erasure verifies from the ledger alone
    done = subprocess.run([sys.executable, "-c", REOPEN, str(path)], capture_output=True, text=True, env=ENV,
                          cwd=ROOT, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["bob"] == bob_before and len(bob_before) == 12
    assert got["hit"].endswith("build 3 of the bridge passed")
    assert got["alice"] == [] and got["verified"], got
    assert byte_scan(path, [SECRET_FACT, SECRET_TURN, SECRET_META]) == []


REOPEN = """
import json, sys
from shared_core import Memory, Scope, Status
from shared_core.embed import HashingEmbedder
from shared_core.governance.access import Principal, Role
mem = Memory.open(sys.argv[1], embedder=HashingEmbedder())
bob, alice = Scope(tenant="acme", user="bob"), Scope(tenant="acme", user="alice")
out = {"bob": [r.text for r in mem.records(bob)], "hit": mem.search("bridge build 3", scope=bob, k=1)[0].record.text,
       "alice": [r.text for r in mem.records(alice)]}
out["verified"] = mem.governor.verify_erasure(Principal(id="dpo", role=Role.ADMIN), alice).ok
mem.close()
print(json.dumps(out))
"""


def test_forget_record_leaves_no_byte_of_that_record(store: tuple[Memory, Path]) -> None:
    mem, path = store
    fact = mem.records(ALICE, kinds=["fact"])[0]
    report = mem.governor.forget_record(DPO, fact.id, ALICE)
    assert report.ok, [c for c in report.checks if not c.passed]
    assert byte_scan(path, [SECRET_FACT, SECRET_META]) == []
    assert byte_scan(path, [SECRET_TURN]) != []  # the rest of Alice's data is still there


def _plant_main_db(path: Path, text: str) -> Callable[[], None]:
    con = sqlite3.connect(path / "chroma.sqlite3")
    con.execute("CREATE TABLE planted (t TEXT)")
    con.execute("INSERT INTO planted VALUES (?)", (text,))
    con.commit()
    con.close()

    def undo() -> None:
        c = sqlite3.connect(path / "chroma.sqlite3")
        c.execute("DROP TABLE planted")
        c.commit()
        c.execute("VACUUM")
        c.close()

    return undo


def _plant_log(path: Path, text: str) -> Callable[[], None]:
    con = sqlite3.connect(path / "chroma.sqlite3")
    seq, meta = con.execute(
        "SELECT seq_id, metadata FROM embeddings_queue ORDER BY seq_id DESC LIMIT 1"
    ).fetchone()
    con.execute("UPDATE embeddings_queue SET metadata = ? WHERE seq_id = ?",
                (json.dumps({"chroma:document": text}), seq))  # fmt: skip
    con.commit()
    con.close()

    def undo() -> None:
        c = sqlite3.connect(path / "chroma.sqlite3")
        c.execute("UPDATE embeddings_queue SET metadata = ? WHERE seq_id = ?", (meta, seq))
        c.commit()
        c.execute("VACUUM")
        c.close()

    return undo


def _plant_free_page(path: Path, text: str) -> Callable[[], None]:
    con = sqlite3.connect(path / "chroma.sqlite3")
    con.execute("PRAGMA secure_delete=OFF")
    con.execute("CREATE TABLE scratch (t TEXT)")
    con.executemany("INSERT INTO scratch VALUES (?)", [(text + " " * 3000,) for _ in range(8)])
    con.commit()
    con.execute("DROP TABLE scratch")
    con.commit()
    assert con.execute("PRAGMA freelist_count").fetchone()[0] > 0  # the text now sits on free pages only
    con.close()

    def undo() -> None:
        c = sqlite3.connect(path / "chroma.sqlite3")
        c.execute("VACUUM")
        c.close()

    return undo


def _plant_segment_file(path: Path, text: str) -> Callable[[], None]:
    seg = next(p for p in path.iterdir() if (p / "data_level0.bin").is_file())
    target = seg / "data_level0.bin"
    original = target.read_bytes()
    target.write_bytes(original + text.encode())

    def undo() -> None:
        target.write_bytes(original)

    return undo


def _plant_journal(path: Path, text: str) -> Callable[[], None]:
    """A journal segment a crashed process left behind, holding a change with the text."""
    seg = path / "memo_journal" / "seg-0123456789abcdef0123456789abcdef.log"
    seg.write_text("00000000 " + json.dumps({"t": "c", "seq": 1, "change": {"text": text}}) + "\n")
    return seg.unlink


def _plant_stray_file(path: Path, text: str) -> Callable[[], None]:
    stray = path / "backup-notes.txt"
    stray.write_text(f"copied by hand: {text}\n")
    return stray.unlink


@pytest.mark.parametrize(
    "plant", [_plant_main_db, _plant_log, _plant_free_page, _plant_segment_file, _plant_journal, _plant_stray_file],
    ids=["sqlite-main", "write-log", "free-page", "hnsw-segment", "journal", "stray-file"],
)  # fmt: skip
@pytest.mark.parametrize("store", ["flushed"], indirect=True)
def test_verify_erasure_finds_residue_planted_in_each_kind_of_file(
    store: tuple[Memory, Path], plant: Callable[[Path, str], Callable[[], None]]
) -> None:
    mem, path = store
    assert mem.governor.forget_user(DPO, ALICE).ok
    assert mem.governor.verify_erasure(DPO, ALICE).ok
    undo = plant(path, SECRET_TURN)  # verify keeps no text: it finds it from the ledger's probes
    report = mem.governor.verify_erasure(DPO, ALICE)
    failed = [c for c in report.checks if not c.passed]
    assert [c.name for c in failed] == ["files"], failed
    undo()
    assert mem.governor.verify_erasure(DPO, ALICE).ok


def test_same_words_said_by_another_subject_are_not_residue(tmp_path: Path) -> None:
    mem = Memory.open(tmp_path / "s", embedder=HashingEmbedder())
    shared = "We both live in the old lighthouse on the northern cliff"
    mem.remember(shared, scope=ALICE)
    mem.remember(shared, scope=BOB)
    report = mem.governor.forget_user(DPO, ALICE)
    assert report.ok, [c for c in report.checks if not c.passed]
    assert [r.text for r in mem.records(BOB)] == [shared]
    mem.close()


@pytest.mark.integration
@pytest.mark.enable_socket
def test_server_erasure_then_purge_on_the_host(tmp_path: Path) -> None:
    """A server's files are out of the client's reach: the report says so, and the operator's call
    on the host (`purge_files` + `verify_erasure(data_dir=...)`) removes and proves the rest."""
    from _servers import free_port, start_chroma, stop

    from shared_core.store.chroma import ChromaStore
    from shared_core.store.chroma_audit import audit_log_for

    data, port = tmp_path / "data", free_port()
    proc = start_chroma(data, port, tmp_path / "server.log")
    try:
        emb = HashingEmbedder()
        store = ChromaStore.server("127.0.0.1", port, dim=emb.dim, embedder_name=emb.name)
        mem = Memory(store, embedder=emb, audit=audit_log_for(store))
        mem.remember("Bob likes the harbour market on Saturdays", scope=BOB)
        mem.remember(SECRET_FACT, scope=ALICE)
        mem.add_messages([{"role": "user", "content": SECRET_TURN, "id": "a1"}], scope=ALICE, session_id="s1")
        assert byte_scan(data, [SECRET_FACT, SECRET_TURN])  # the server's files hold them
        report = mem.governor.forget_user(DPO, ALICE)
        assert report.ok and report.unverified and report.purged == {}
        assert not mem.governor.verify_erasure(DPO, ALICE, data_dir=data).ok  # the write log still has them
        purged = mem.governor.purge_files(DPO, data)  # what the operator runs on the server's host
        assert purged["log_rows_scrubbed"] > 0
        assert mem.governor.verify_erasure(DPO, ALICE, data_dir=data).ok
        assert byte_scan(data, [SECRET_FACT, SECRET_TURN]) == []
        assert [r.text for r in mem.records(BOB)] == ["Bob likes the harbour market on Saturdays"]
        mem.close()
    finally:
        stop(proc)
