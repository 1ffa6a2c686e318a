"""`memo bench loop`: the agent loop as a chat app runs it (issue #13).

N simulated users each run chat exchanges: write the exchange's 2 turns (user, assistant), then
search (the context for the next reply). Per call: p50/p95/p99 of the write, of the search right
after that write, and of the same search again on an unchanged index; exchanges per second with
1 and 4 threads. The same loop runs for the peers installed here, on the same machine in the same
run, with the same embedder:

- `memo`: `Memory.add_messages` (2 turns, extraction in the background) then `Memory.search`;
- `memo-noextract`: the same without extraction (the work the peers do: store and search turns);
- `langchain-legacy`: `VectorStoreRetrieverMemory` over langchain-chroma, one memory per user:
  `save_context(input, output)` then `load_memory_variables`;
- `llamaindex`: LlamaIndex `Memory` with a `VectorMemoryBlock` on Chroma, one per user: two
  `put` then `get(input=...)`;
- `mem0`: `add(infer=False)` then `search`, only when `benchmarks/peers-venv` exists.

Each store is prefilled (untimed) with `--prefill` exchanges per user before the timed loop.
Memo's background work (extraction, applying the journal to Chroma) competes for the same cores
during the loop; the time to drain it afterwards is reported as `drain_s`.

`--think-ms` is the model call of each exchange (untimed sleep after the search, before the next
write): `0` is a loop with no model at all, the worst case for background work, which then always
competes with the next call (on CPython the store's writes hold the interpreter lock); a few
hundred milliseconds is what the fastest hosted models take to answer. Each value is a separate
set of runs, and the targets are computed per value. With a pause, the unchanged search is also
taken after a pause (a call right after another one meets a warmer CPU: on these machines the
embedder alone takes 4 ms hot and 13 ms after 300 ms idle, for every system alike).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOPICS = [
    "hiking",
    "sourdough",
    "chess",
    "kayaking",
    "jazz",
    "gardening",
    "pottery",
    "cycling",
    "astronomy",
    "tea",
]
CITIES = ["Lyon", "Porto", "Oslo", "Kyoto", "Quito", "Perth", "Tunis", "Riga", "Cusco", "Hanoi"]


def exchange(user: int, i: int) -> tuple[str, str, str]:
    """(user turn, assistant turn, next question) of exchange `i` of `user` (deterministic)."""
    rng = random.Random(user * 100_003 + i)
    topic, city = rng.choice(TOPICS), rng.choice(CITIES)
    u = f"Last weekend I went {topic} near {city} with my friend number {rng.randint(1, 99)}."
    a = f"That sounds lovely! How long have you been into {topic}?"
    q = f"what did I do near {city}?"
    return u, a, q


class System:
    name = ""

    def write(self, user: int, u: str, a: str) -> None: ...

    def search(self, user: int, query: str) -> int:
        raise NotImplementedError

    def drain(self) -> None:
        """Wait for background work (only MeMo has any)."""

    def close(self) -> None: ...


class MemoSystem(System):
    name = "memo"

    def __init__(
        self, path: Path, embedder: Any, *, extract: bool = True, embed_wait_ms: float = 0.0
    ) -> None:
        from shared_core import MemoConfig, Memory, Scope
        from shared_core.config import ExtractionConfig, WriteConfig

        cfg = MemoConfig(
            extraction=ExtractionConfig(extract=extract), write=WriteConfig(embed_wait_ms=embed_wait_ms)
        )
        self.mem = Memory.open(path, embedder=embedder, config=cfg)
        self.scope = [Scope(tenant="bench", user=f"u{i}") for i in range(10_000)]

    def write(self, user: int, u: str, a: str) -> None:
        self.mem.add_messages(
            [{"role": "user", "content": u}, {"role": "assistant", "content": a}],
            scope=self.scope[user],
            session_id="s1",
        )

    def search(self, user: int, query: str) -> int:
        return len(self.mem.search(query, scope=self.scope[user], k=5))

    def drain(self) -> None:
        self.mem.flush()

    def close(self) -> None:
        self.mem.close()


class LangChainSystem(System):
    name = "langchain-legacy"

    def __init__(self, path: Path, embedder: Any) -> None:
        from .peers._common import chroma_client
        from .peers.embeddings import langchain_embeddings

        self.client = chroma_client(path)
        self.emb = langchain_embeddings(embedder)
        self.mems: dict[int, Any] = {}
        self.lock = threading.Lock()

    def _mem(self, user: int) -> Any:
        import warnings

        from langchain_chroma import Chroma
        from langchain_classic.memory import VectorStoreRetrieverMemory

        with self.lock:
            if user not in self.mems:
                store = Chroma(collection_name=f"lc-u{user}", embedding_function=self.emb, client=self.client)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.mems[user] = VectorStoreRetrieverMemory(
                        retriever=store.as_retriever(search_kwargs={"k": 5}),
                        memory_key="history",
                        input_key="input",
                        return_docs=True,
                    )
            return self.mems[user]

    def write(self, user: int, u: str, a: str) -> None:
        self._mem(user).save_context({"input": u}, {"output": a})

    def search(self, user: int, query: str) -> int:
        return len(self._mem(user).load_memory_variables({"input": query})["history"])

    def close(self) -> None:
        self.client.clear_system_cache()


class LlamaIndexSystem(System):
    name = "llamaindex"

    def __init__(self, path: Path, embedder: Any) -> None:
        from .peers._common import chroma_client
        from .peers.embeddings import llamaindex_embedding

        self.client = chroma_client(path)
        self.emb = llamaindex_embedding(embedder)
        self.mems: dict[int, Any] = {}
        self.lock = threading.Lock()

    def _mem(self, user: int) -> Any:
        from llama_index.core.memory import Memory, VectorMemoryBlock
        from llama_index.vector_stores.chroma import ChromaVectorStore

        with self.lock:
            if user not in self.mems:
                col = self.client.get_or_create_collection(
                    f"li-u{user}", configuration={"hnsw": {"space": "cosine"}}
                )
                block = VectorMemoryBlock(
                    name="retrieved_messages",
                    vector_store=ChromaVectorStore(chroma_collection=col),
                    embed_model=self.emb,
                    similarity_top_k=5,
                )
                self.mems[user] = Memory.from_defaults(
                    session_id=f"u{user}",
                    token_limit=1000,
                    chat_history_token_ratio=0.7,
                    token_flush_size=100,
                    memory_blocks=[block],
                )
            return self.mems[user]

    def write(self, user: int, u: str, a: str) -> None:
        from llama_index.core.llms import ChatMessage

        m = self._mem(user)
        m.put(ChatMessage(role="user", content=u))
        m.put(ChatMessage(role="assistant", content=a))

    def search(self, user: int, query: str) -> int:
        return len(self._mem(user).get(input=query))

    def close(self) -> None:
        self.client.clear_system_cache()


class MemoRawSystem(MemoSystem):
    """MeMo without extraction: the raw write path alone, the work the peers do."""

    name = "memo-noextract"

    def __init__(self, path: Path, embedder: Any) -> None:
        super().__init__(path, embedder, extract=False)


class MemoEmbedWaitSystem(MemoSystem):
    """MeMo with `write.embed_wait_ms=50`: the write waits for its turns' vectors (the search
    after it embeds only its query)."""

    name = "memo-embedwait"

    def __init__(self, path: Path, embedder: Any) -> None:
        super().__init__(path, embedder, embed_wait_ms=50.0)


FACTORIES: dict[str, Callable[[Path, Any], System]] = {
    "memo": MemoSystem,
    "memo-noextract": MemoRawSystem,
    "memo-embedwait": MemoEmbedWaitSystem,
    "langchain-legacy": LangChainSystem,
    "llamaindex": LlamaIndexSystem,
}


def pct(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    s = sorted(xs)

    def at(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))] * 1000, 2)

    return {
        "n": len(s),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.fmean(s) * 1000, 2),
    }


def run(
    system: str,
    embedder: Any,
    users: int,
    exchanges: int,
    prefill: int,
    threads: int,
    *,
    again: bool,
    think_ms: float = 0.0,
) -> dict[str, Any]:
    """One loop on a fresh store: prefill, then `exchanges` timed exchanges per user."""
    base = Path(tempfile.mkdtemp(prefix=f"memo-loop-{system}-"))
    sys_ = FACTORIES[system](base / "store", embedder)
    for user in range(users):
        for i in range(prefill):
            u, a, _ = exchange(user, -1 - i)
            sys_.write(user, u, a)
    sys_.drain()
    for user in range(users):
        sys_.search(user, "warm up the index")
    lat: dict[str, list[float]] = {
        "write": [],
        "search_after_write": [],
        "exchange": [],
        "search_unchanged": [],
    }
    lock = threading.Lock()
    work = [(user, i) for i in range(exchanges) for user in range(users)]
    per_thread = [work[t::threads] for t in range(threads)]

    def loop(items: list[tuple[int, int]]) -> None:
        mine: dict[str, list[float]] = {k: [] for k in lat}
        for user, i in items:
            u, a, q = exchange(user, i)
            t0 = time.perf_counter()
            sys_.write(user, u, a)
            t1 = time.perf_counter()
            sys_.search(user, q)
            t2 = time.perf_counter()
            mine["write"].append(t1 - t0)
            mine["search_after_write"].append(t2 - t1)
            mine["exchange"].append(t2 - t0)
            if think_ms:
                time.sleep(think_ms / 1000)  # the model writes its reply
            if again:  # after the same pause as the write, so both meet the machine equally idle
                t3 = time.perf_counter()
                sys_.search(user, q)
                mine["search_unchanged"].append(time.perf_counter() - t3)
                if think_ms:
                    time.sleep(think_ms / 1000)
        with lock:
            for k, v in mine.items():
                lat[k] += v

    t0 = time.perf_counter()
    ts = [threading.Thread(target=loop, args=(items,)) for items in per_thread]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    sys_.drain()
    drain = time.perf_counter() - t1
    sys_.close()
    out: dict[str, Any] = {
        "system": system,
        "threads": threads,
        "think_ms": think_ms,
        "users": users,
        "exchanges": len(work),
        "prefill_per_user": prefill,
        "wall_s": round(wall, 3),
        "exchanges_per_s": round(len(work) / wall, 2),
        "drain_s": round(drain, 3),
    }
    for k, v in lat.items():
        if v:
            out[k] = pct(v)
    return out


def cmd_loop(args: argparse.Namespace) -> int:
    from .runinfo import RESULTS_DIR, _run_info, _write_json, machine_info
    from .systems import make_embedder

    t0 = time.perf_counter()
    machine = machine_info()
    embedder = make_embedder(args.embedder)
    systems = [s for s in args.systems.split(",") if s]
    runs = []
    for name in systems:
        if name not in FACTORIES:
            print(f"[loop] {name}: not available in this environment, skipped")
            continue
        for think in [float(x) for x in str(args.think_ms).split(",")]:
            for threads in [int(x) for x in args.threads.split(",")]:
                r = run(
                    name,
                    embedder,
                    args.users,
                    args.exchanges,
                    args.prefill,
                    threads,
                    again=threads == 1,
                    think_ms=think,
                )
                print(f"[loop] {json.dumps(r)}", flush=True)
                runs.append(r)
    result = {
        "benchmark": "loop",
        "embedder": args.embedder,
        "runs": runs,
        "targets": targets(runs),
        **_run_info(args, machine, t0),
    }
    out = Path(args.out) if args.out else RESULTS_DIR / "loop.json"
    _write_json(out, result)
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    plot(runs, out.with_suffix(".png"))
    print(markdown(result))
    return 0


def targets(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's targets for each think time (1 thread), for memo and, when it ran, for
    memo-embedwait (the same write path with the write waiting for its vectors)."""
    thinks = sorted({float(r.get("think_ms", 0.0)) for r in runs})
    systems = [s for s in ("memo", "memo-embedwait") if any(r["system"] == s for r in runs)]
    out = {}
    for s in systems:
        for t in thinks:
            label = f"think {t:g} ms" if s == "memo" else f"{s}, think {t:g} ms"
            out[label] = _targets([r for r in runs if float(r.get("think_ms", 0.0)) == t], s)
    return out


def _targets(runs: list[dict[str, Any]], system: str = "memo") -> dict[str, Any]:
    one = {r["system"]: r for r in runs if r["threads"] == 1}
    memo = one.get(system)
    if memo is None:
        return {}
    peers = [r["write"]["p95_ms"] for s, r in one.items() if not s.startswith("memo")]
    fastest = min(peers) if peers else None
    w95 = memo["write"]["p95_ms"]
    s_after, s_same = memo["search_after_write"]["p95_ms"], memo["search_unchanged"]["p95_ms"]
    return {
        "write_p95_ms": w95,
        "write_p95_le_25ms": w95 <= 25.0,
        "fastest_peer_write_p95_ms": fastest,
        "write_p95_le_half_fastest_peer": None if fastest is None else w95 <= 0.5 * fastest,
        "search_after_write_over_unchanged_p95": round(s_after / s_same, 2) if s_same else None,
        "search_after_write_le_1_3x": s_after <= 1.3 * s_same,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# memo bench loop: the agent loop (write 2 turns, then search)",
        "",
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine'].get('cpu')}, "
        f"{result['machine'].get('cpu_count')} cores; load average at start "
        f"{result['machine'].get('loadavg_1_5_15')}, at end {result.get('loadavg_at_end')}; embedder {result['embedder']}",
        "",
        "| system | think ms | threads | exchanges/s | write p50 / p95 / p99 ms | search after write p50 / p95 ms "
        "| write + search after p50 / p95 ms | search unchanged p50 / p95 ms | drain s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        w, s, u = r["write"], r["search_after_write"], r.get("search_unchanged", {})
        x = r.get("exchange", {})
        lines.append(
            f"| {r['system']} | {r.get('think_ms', 0):g} | {r['threads']} | {r['exchanges_per_s']} | {w['p50_ms']} / {w['p95_ms']} / {w['p99_ms']} "
            f"| {s['p50_ms']} / {s['p95_ms']} | {x.get('p50_ms', '-')} / {x.get('p95_ms', '-')} "
            f"| {u.get('p50_ms', '-')} / {u.get('p95_ms', '-')} | {r['drain_s']} |"
        )
    for think, t in result["targets"].items():
        lines += ["", f"Targets, {think} (1 thread): " + ", ".join(f"{k} = {v}" for k, v in t.items())]
    lines.append("")
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    one = [r for r in runs if r["threads"] == 1 and not r.get("think_ms")]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    names = [r["system"] for r in one]
    for j, (key, label) in enumerate((("write", "write"), ("search_after_write", "search after write"))):
        ax[j].bar([n for n in names], [r[key]["p95_ms"] for r in one], color="#4c72b0", label="p95")
        ax[j].bar([n for n in names], [r[key]["p50_ms"] for r in one], color="#dd8452", label="p50")
        ax[j].set_title(f"{label} (ms, 1 thread)")
        ax[j].set_yscale("log")
        ax[j].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("loop", help="the agent loop: write 2 turns then search, p50/p95/p99, 1 and 4 threads")
    p.add_argument("--users", type=int, default=4)
    p.add_argument("--exchanges", type=int, default=25, help="timed exchanges per user")
    p.add_argument("--prefill", type=int, default=60, help="untimed exchanges per user first (2 turns each)")
    p.add_argument("--threads", default="1,4")
    p.add_argument("--systems", default="memo,memo-noextract,langchain-legacy,llamaindex")
    p.add_argument("--embedder", default="minilm")
    p.add_argument(
        "--think-ms", default="0,300", help="model time per exchange, ms (untimed), comma-separated"
    )
    p.add_argument("--out", default=None, help="default benchmarks/results/loop.json (+ .md, .png)")
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_loop)
