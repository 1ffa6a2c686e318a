"""kill -9 while the journal is applied and while extraction runs: nothing acknowledged is lost,
nothing is duplicated, every record has its audit event, the chain verifies.

Used by `test_journal_kill.py` (a few kill points in CI) and runnable for a long series:

    python tests/unit/kill_harness.py --kills 20 [--dir /tmp/kills]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    from shared_core.store.chroma import ChromaStore
    from shared_core.governance.audit import AuditLog

    path, kill_at, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    calls = {"n": 0}

    def bomb(name, fn, after):
        def wrapped(*a, **k):
            calls["n"] += 1
            if calls["n"] >= after:
                os.kill(os.getpid(), signal.SIGKILL)  # in the middle of applying a batch
            return fn(*a, **k)
        return wrapped

    after = 3 + start % 4
    if kill_at == "audit":
        AuditLog.append_many = bomb("audit", AuditLog.append_many, after)
    elif kill_at == "history":
        ChromaStore.append_history = bomb("history", ChromaStore.append_history, after)
    elif kill_at == "records":
        ChromaStore.upsert = bomb("records", ChromaStore.upsert, after)
    elif kill_at == "revision":
        ChromaStore.set_meta = bomb("revision", ChromaStore.set_meta, after + 6)
    elif kill_at == "embed":  # acknowledged raw turns are embedded after the call returned
        HashingEmbedder.embed = bomb("embed", HashingEmbedder.embed, after + 4)
    mem = Memory.open(path, embedder=HashingEmbedder(dim=64))
    alice = Scope(tenant="acme", user="alice")
    i = start
    while True:
        res = mem.add_messages(
            [{"role": "user", "content": f"I live in Town{i}", "id": f"u{i}", "name": "Alice"},
             {"role": "assistant", "content": f"Noted, Town{i}", "id": f"a{i}"}],
            scope=alice, session_id="s1",
        )
        print(f"ack {i} " + " ".join(e.id for e in res.episodes), flush=True)
        if i % 3 == 0:
            r = mem.remember(f"note {i}", scope=alice, consolidate=False)
            print(f"ack-note {i} {r.id}", flush=True)
        i += 1
    """
)


def run_once(path: Path, kill_at: str, start: int, rng: random.Random) -> tuple[dict[str, list[str]], int]:
    """Start a writer, let it acknowledge some writes, kill it; returns acknowledged ids by kind."""
    p = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), kill_at, str(start)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    assert p.stdout is not None
    acked: dict[str, list[str]] = {"turns": [], "notes": []}
    last = start - 1
    target = rng.randint(2, 12)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break  # the writer killed itself inside the applier
        parts = line.split()
        if parts[0] == "ack":
            last = int(parts[1])
            acked["turns"] += parts[2:]
        elif parts[0] == "ack-note":
            acked["notes"].append(parts[2])
        if kill_at in ("random", "extract") and last - start >= target:
            if kill_at == "random":
                time.sleep(rng.random() * 0.05)
            os.kill(p.pid, signal.SIGKILL)
            break
    p.kill()
    p.wait(timeout=30)
    return acked, last


def verify(path: Path, acked: dict[str, list[str]]) -> dict[str, Any]:
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    from shared_core.models import Kind
    from shared_core.store.base import ALL_STATUSES

    alice = Scope(tenant="acme", user="alice")
    mem = Memory.open(path, embedder=HashingEmbedder(dim=64))
    mem.flush(timeout=120)
    recs = mem.store.list_records(alice, ALL_STATUSES)
    ids = Counter(r.id for r in recs)
    lost = [i for i in acked["turns"] + acked["notes"] if i not in ids]
    facts = Counter(
        (r.text, r.status.value) for r in recs if r.kind is not Kind.EPISODE and r.text.startswith("Alice")
    )
    dup_facts = [t for t, n in facts.items() if n > 1]
    audit = mem.engine.audit
    assert audit is not None
    events = audit.events()
    audited = {e.record_id for e in events}
    unaudited = [r.id for r in recs if r.id not in audited]
    per_change = Counter(
        (e.payload.get("change"), e.record_id, e.action) for e in events if e.payload.get("change")
    )
    dup_audit = [k for k, n in per_change.items() if n > 1]
    report = audit.verify()
    pending_jobs = mem.stats().get("worker_queue", 0)
    out = {
        "records": len(recs), "acknowledged": len(acked["turns"]) + len(acked["notes"]), "lost": len(lost),
        "duplicate_ids": sum(n - 1 for n in ids.values()), "duplicate_facts": len(dup_facts),
        "unaudited": len(unaudited), "duplicate_audit": len(dup_audit), "audit_ok": report.ok,
        "replayed": mem.recovered.replayed, "requeued_jobs": mem.recovered.requeued_jobs,
        "pending_jobs_after_flush": pending_jobs,
    }  # fmt: skip
    mem.close()
    return out


KILL_POINTS = ("audit", "history", "records", "revision", "embed", "extract", "random")


def series(base: Path, kills: int, seed: int = 7) -> list[dict[str, Any]]:
    """`kills` kill -9 in a row on one store, cycling through the kill points; verified after each."""
    rng = random.Random(seed)
    path = base / "store"
    acked: dict[str, list[str]] = {"turns": [], "notes": []}
    start = 0
    results = []
    for k in range(kills):
        point = KILL_POINTS[k % len(KILL_POINTS)]
        got, last = run_once(path, point, start, rng)
        acked["turns"] += got["turns"]
        acked["notes"] += got["notes"]
        start = last + 1
        res = {"kill": k, "point": point, **verify(path, acked)}
        results.append(res)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="memo-kills-"))
    t0 = time.monotonic()
    results = series(base, args.kills)
    bad = [r for r in results if r["lost"] or r["duplicate_ids"] or r["duplicate_facts"] or r["unaudited"]
           or r["duplicate_audit"] or not r["audit_ok"]]  # fmt: skip
    summary = {
        "kills": len(results), "failures": len(bad), "acknowledged": results[-1]["acknowledged"],
        "records": results[-1]["records"], "replayed_changes": sum(r["replayed"] for r in results),
        "requeued_jobs": sum(r["requeued_jobs"] for r in results), "seconds": round(time.monotonic() - t0, 1),
        "load_average": os.getloadavg(), "command": " ".join(sys.argv),
    }  # fmt: skip
    print(json.dumps({"summary": summary, "runs": results}, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "runs": results}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
