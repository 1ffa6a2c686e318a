"""`memo bench adapters`: what one adapter operation costs as one user's items grow, next to the built-ins.

    memo bench adapters [--sizes 50,400,5000] [--ops 20] [--out benchmarks/results/adapters.json]

For each size N (items of one user already stored) it times, in milliseconds (median of `--ops` calls):

| adapter | put | get | search |
|---|---|---|---|
| `MemoStore` / LangGraph `InMemoryStore` | `put` of a new key and of an existing key | `get` by key | `search(prefix, query=...)` and the third page without query |
| `MemoChatMessageHistory` / `InMemoryChatMessageHistory` | `add_messages` (one exchange) | `messages` (a 20-message window) | — |

The stores are filled with the records a `MemoStore.put` writes (MeMo: upserted in batches as fixture data,
so filling 5,000 items takes seconds); the history with N messages of one session. MeMo runs on embedded Chroma with the
hashing embedder, so the figures are the adapters' and the store's cost, not a model's. `growth` is the cost at
the largest size over the cost at the smallest (issue #12 asks for at most 1.5). If
`memo_bench.adapters_llamaindex` exists, its `rows(sizes)` are added.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (50, 400, 5000)
NS = ("memories", "bench-user")


def _median_ms(fn: Callable[[int], object], ops: int) -> float:
    times = []
    for i in range(ops):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3)


def _value(i: int) -> dict[str, Any]:
    return {
        "text": f"note {i}: the user mentioned topic {i % 37} on day {i % 11}",
        "n": i,
        "tag": f"t{i % 5}",
    }


def _store_rows(size: int, ops: int, tmp: Path) -> list[dict[str, Any]]:
    from langchain_core.embeddings.fake import DeterministicFakeEmbedding
    from langgraph.store.base import PutOp
    from langgraph.store.memory import InMemoryStore

    from langchain_memo import MemoStore
    from shared_core import Memory, MemoryRecord, Scope
    from shared_core.embed import HashingEmbedder

    mem = Memory.open(tmp / f"store-{size}", embedder=HashingEmbedder(256))
    memo = MemoStore(mem, tenant="bench")
    scope = Scope(tenant="bench", user=NS[1])
    for start in range(0, size, 500):  # fixture data: the records MemoStore.put writes, upserted in batches
        recs = []
        for i in range(start, min(size, start + 500)):
            text, meta = memo._record(PutOp(NS, f"k{i}", _value(i)), _value(i))
            now = mem.clock.now() + timedelta(microseconds=i)
            recs.append(
                MemoryRecord(
                    scope=scope, text=text, created_at=now, updated_at=now, pinned=True, metadata=meta
                )
            )
        mem.store.upsert(recs, mem.engine.embedder.embed([r.text for r in recs]))
    mem.flush()
    builtin = InMemoryStore(
        index={"dims": 64, "embed": DeterministicFakeEmbedding(size=64), "fields": ["text"]}
    )
    builtin.batch([PutOp(NS, f"k{i}", _value(i)) for i in range(size)])
    rows = [
        _store_metrics("MemoStore", memo, size, ops, mem.flush),
        _store_metrics("InMemoryStore", builtin, size, ops),
    ]
    mem.close()
    return rows


def _store_metrics(
    name: str, store: Any, size: int, ops: int, settle: Callable[[], object] = lambda: None
) -> dict[str, Any]:
    """`settle` runs after the puts: reads then meet the store as an application meets it (MeMo's
    background applier has written the puts; read from its journal overlay, they would look cheap)."""
    row: dict[str, Any] = {
        "adapter": name,
        "n": size,
        "put_new_ms": _median_ms(lambda i: store.put(NS, f"new{i}", _value(size + i)), ops),
        "put_existing_ms": _median_ms(lambda i: store.put(NS, f"k{i * 7 % size}", _value(i)), ops),
    }
    settle()
    row["get_ms"] = _median_ms(lambda i: store.get(NS, f"k{i * 13 % size}"), ops)
    row["search_query_ms"] = _median_ms(lambda i: store.search(NS, query=f"topic {i % 37}", limit=10), ops)
    row["search_page_ms"] = _median_ms(lambda i: store.search(NS, limit=10, offset=20), ops)
    return row


def _history_metrics(
    name: str,
    h: Any,
    size: int,
    ops: int,
    pair: Callable[[int], Any],
    settle: Callable[[], object] = lambda: None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "adapter": name,
        "n": size,
        "put_new_ms": _median_ms(lambda i: h.add_messages(pair(size + i)), ops),
    }
    settle()
    row["get_ms"] = _median_ms(lambda i: h.messages[-20:], ops)
    return row


def _history_rows(size: int, ops: int, tmp: Path) -> list[dict[str, Any]]:
    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

    from langchain_memo import MemoChatMessageHistory
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder

    def pair(i: int) -> list[BaseMessage]:
        return [HumanMessage(f"question {i} about topic {i % 37}"), AIMessage(f"answer {i}")]

    mem = Memory.open(tmp / f"history-{size}", embedder=HashingEmbedder(256))
    memo = MemoChatMessageHistory(mem, Scope(tenant="bench", user="u"), "s1", max_messages=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        builtin = InMemoryChatMessageHistory()
    for start in range(0, size, 500):
        batch = [m for i in range(start // 2, min(size, start + 500) // 2) for m in pair(i)]
        memo.add_messages(batch)
        builtin.add_messages(batch)
    mem.flush()  # the seeded turns' background extraction is done before anything is timed
    rows = [
        _history_metrics("MemoChatMessageHistory", memo, size, ops, pair, mem.flush),
        _history_metrics("InMemoryChatMessageHistory", builtin, size, ops, pair),
    ]
    mem.close()
    return rows


def _growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    rows = [
        r for r in rows if "n" in r
    ]  # LangChain rows; the LlamaIndex rows (`items`, p50/p95) have their own shape
    for name in dict.fromkeys(r["adapter"] for r in rows):
        mine = sorted((r for r in rows if r["adapter"] == name), key=lambda r: r["n"])
        small, large = mine[0], mine[-1]
        for metric in (k for k in small if k.endswith("_ms")):
            ratio = large[metric] / small[metric] if small[metric] else None
            out.append(
                {
                    "adapter": name,
                    "metric": metric,
                    "n_small": small["n"],
                    "n_large": large["n"],
                    "growth": None if ratio is None else round(ratio, 2),
                    "within_1_5x": None if ratio is None else ratio <= 1.5,
                }
            )
    return out


def run_adapters(sizes: list[int], ops: int, llamaindex: bool = True) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memo-bench-adapters-") as tmp:
        for size in sizes:
            rows += _store_rows(size, ops, Path(tmp))
            rows += _history_rows(size, ops, Path(tmp))
            print(f"adapters N={size}: done", file=sys.stderr)
    try:
        llama = importlib.import_module("memo_bench.adapters_llamaindex")
        rows += llama.rows(sizes)
    except ModuleNotFoundError:
        pass
    from shared_core import Memory

    pushdown = "metadata" in inspect.signature(Memory.list).parameters  # core's metadata filters (issue #13)
    return {
        "sizes": sizes,
        "ops_per_metric": ops,
        "memostore_metadata_pushdown": pushdown,
        "rows": rows,
        "growth": _growth(rows),
    }


def markdown(report: dict[str, Any]) -> str:
    metrics = ["put_new_ms", "put_existing_ms", "get_ms", "search_query_ms", "search_page_ms"]
    lines = [
        "# Adapter cost against items of one user (median ms per call)",
        "",
        f"Command: `{report.get('command', '')}`  ",
        f"Git: `{report.get('git_sha')}`  ",
        "MemoStore: an item is the record of its key (`remember(key=...)`), so get/put are one keyed "
        "read; a page without query and the chat history read the scope's cached index. "
        "`search_page_ms` is the third page (offset 20, limit 10).",
        "",
        "| adapter | N | " + " | ".join(metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for r in (r for r in report["rows"] if "n" in r):
        lines.append(
            f"| {r['adapter']} | {r['n']} | " + " | ".join(str(r.get(m, "—")) for m in metrics) + " |"
        )
    lines += ["", "| adapter | metric | growth (largest / smallest N) | within 1.5x |", "|---|---|---|---|"]
    for g in report["growth"]:
        lines.append(f"| {g['adapter']} | {g['metric']} | {g['growth']} | {g['within_1_5x']} |")
    return "\n".join(lines) + "\n"


def cmd_adapters(args: argparse.Namespace) -> int:
    from .runinfo import _run_info, _write_json, machine_info

    sizes = [int(x.replace("_", "")) for x in str(args.sizes).split(",") if x.strip()]
    machine, t0 = machine_info(), time.perf_counter()
    report = {
        **run_adapters(sizes, args.ops, llamaindex=not args.no_llamaindex),
        **_run_info(args, machine, t0),
    }
    out = Path(args.out)
    _write_json(out, report)
    out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    for g in report["growth"]:
        print(f"{g['adapter']} {g['metric']}: x{g['growth']}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register `adapters` on the `memo bench` subparsers (one line in cli.py calls this)."""
    from .runinfo import RESULTS_DIR

    p = sub.add_parser("adapters", help="adapter put/get/search cost at 50, 400, 5,000 items of one user")
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    p.add_argument("--ops", type=int, default=20, help="timed calls per metric and size")
    p.add_argument("--out", default=str(Path(RESULTS_DIR) / "adapters.json"))
    p.add_argument(
        "--no-llamaindex",
        action="store_true",
        help="LangChain adapters only (the LlamaIndex "
        "part fills each size through extraction with the MiniLM model: minutes at 5,000)",
    )
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_adapters)
