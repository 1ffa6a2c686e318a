"""The foundation's cost figure: N conversation turns through `add_messages`, then searches.

    python -m memo_bench.turns --turns 1000 --batch 10 --searches 200 --out benchmarks/results/turns.json

Embedded Chroma, the default embedder (MiniLM int8), the rule extractor and every governance step
(PII redaction, policy, consolidation, history, audit) on: the cost a user pays per turn.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SUBJECTS = [
    "the deploy pipeline",
    "our OAuth flow",
    "the billing service",
    "my sister",
    "the new laptop",
    "the team offsite",
    "my marathon training",
    "the garden",
    "our release process",
    "the kids' school",
]
TEMPLATES = [
    "I think {s} needs more tests before Friday.",
    "Yesterday I spent the whole afternoon on {s}.",
    "I prefer to handle {s} first thing in the morning.",
    "Next week I'm going to finish the work on {s}.",
    "Do you remember what we decided about {s}?",
    "I love how {s} turned out, honestly.",
    "My manager asked me to write a summary of {s}.",
    "I moved the meeting about {s} to Thursday at 3 pm.",
]


def synthetic_turns(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
    return [
        {
            "role": "user" if i % 2 == 0 else "assistant",
            "content": rng.choice(TEMPLATES).format(s=rng.choice(SUBJECTS)),
            "id": f"t{i}",
            "name": "Sam",
            "timestamp": start + timedelta(minutes=7 * i),
        }
        for i in range(n)
    ]


def run(turns: int, batch: int, searches: int) -> dict[str, Any]:
    from shared_core.embed import default_embedder
    from shared_core.memory import Memory
    from shared_core.models import Scope

    embedder = default_embedder()
    embedder.embed(["warm up"])  # model load is not part of the per-turn cost
    data = synthetic_turns(turns)
    scope = Scope(tenant="bench", user="sam")
    with tempfile.TemporaryDirectory(prefix="memo-turns-") as path:
        mem = Memory.open(path, embedder=embedder)
        t0 = time.perf_counter()
        for i in range(0, len(data), batch):
            mem.add_messages(data[i : i + batch], scope=scope, session_id=f"s{i // 50}")
        mem.flush()  # extraction and the applier run in the background: the cost includes them
        ingest_s = time.perf_counter() - t0
        rng = random.Random(11)
        queries = [f"what happened with {rng.choice(SUBJECTS)}?" for _ in range(searches)]
        mem.search(queries[0], scope=scope, k=10)
        lat = []
        for q in queries:
            t = time.perf_counter()
            mem.search(q, scope=scope, k=10)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        records = len(mem.records(scope, statuses=["active", "pending_review", "superseded"]))
        mem.close()
    return {
        "turns": turns,
        "batch": batch,
        "ingest_seconds": round(ingest_s, 2),
        "ingest_turns_per_s": round(turns / ingest_s, 1),
        "records_after": records,
        "search_ms": {"p50": round(lat[len(lat) // 2], 2), "p95": round(lat[int(len(lat) * 0.95)], 2)},
        "searches": searches,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": _cpus()},
        "command": " ".join(["python -m memo_bench.turns", *sys.argv[1:]]),
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m memo_bench.turns", description=__doc__)
    p.add_argument("--turns", type=int, default=1000)
    p.add_argument("--batch", type=int, default=10, help="turns per add_messages call")
    p.add_argument("--searches", type=int, default=200)
    p.add_argument("--out", type=Path)
    ns = p.parse_args(argv)
    result = run(ns.turns, ns.batch, ns.searches)
    text = json.dumps(result, indent=2)
    if ns.out:
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
