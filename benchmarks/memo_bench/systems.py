"""The systems the benchmarks compare, behind one small protocol.

    ingest(conversation)            feed a LoCoMo conversation, session by session, turn by turn
    search(question, k) -> [Item]   the k best items, best first
    context(question, budget)       the items the system would inject within `budget` cl100k tokens
    close()

In-process baselines live here (`bm25-turns`, `dense-turns`, `fused-turns`) and so does `memo`,
which only uses MeMo's public API. Third-party peers live in `memo_bench.peers` and are
imported lazily, so the library never needs them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shared_core.embed.base import embed_with_queries
from shared_core.tokens import count_tokens

from .locomo_data import LocomoConversation
from .protocol import BenchSystem, Item, Progress

if TYPE_CHECKING:
    from shared_core.embed.base import Embedder


RRF_K = 60
RANK_DEPTH = 256  # how deep peers rank when packing a budget (4096 tokens is ~120 turns)


def render_lines(items: Sequence[Item]) -> str:
    return "\n".join(it.text for it in items)


def pack_greedy(items: Sequence[Item], budget: int) -> list[Item]:
    """Take items best-first, one line each, skipping any that no longer fits; the joined lines
    never exceed `budget` cl100k tokens."""
    out: list[Item] = []
    used = 0
    for it in items:
        cost = count_tokens(it.text) + (1 if out else 0)  # the newline before every line but the first
        if cost <= 0 or used + cost > budget:
            continue
        out.append(it)
        used += cost
        if budget - used < 4:
            break
    while out and count_tokens(render_lines(out)) > budget:  # tokenizer merges across lines: be exact
        out.pop()
    return out


class RankedSystem:
    """Base for peers: `rank(question, depth)` once per question; `context` packs it greedily."""

    name = "ranked"

    def __init__(self) -> None:
        self._cache_key: tuple[str, int] | None = None
        self._cache: list[Item] = []

    def rank(self, question: str, depth: int) -> list[Item]:
        raise NotImplementedError

    def _ranked(self, question: str, depth: int) -> list[Item]:
        if self._cache_key is None or self._cache_key[0] != question or self._cache_key[1] < depth:
            self._cache = self.rank(question, depth)
            self._cache_key = (question, depth)
        return self._cache[:depth]

    def search(self, question: str, k: int) -> list[Item]:
        return self.rank(question, k)[:k]  # timed: never served from the cache

    def context(self, question: str, budget: int) -> list[Item]:
        return pack_greedy(self._ranked(question, RANK_DEPTH), budget)

    def context_tokens(self, items: Sequence[Item]) -> int:
        return count_tokens(render_lines(items))

    def close(self) -> None:
        self._cache = []
        self._cache_key = None


# --------------------------------------------------------------------------- raw-turn baselines


def _bm25_tokens(texts: list[str]) -> list[list[str]]:
    import bm25s

    return list(bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False))


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Reciprocal-rank fusion of index rankings (best first); ties keep first-seen order."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, idx in enumerate(ranking):
            scores[idx] = scores.get(idx, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores, key=lambda i: -scores[i])


class TurnIndexSystem(RankedSystem):
    """Every raw turn indexed as `Speaker: text [image: caption]`: BM25, cosine, or both fused (RRF)."""

    def __init__(self, mode: str, embedder: Embedder | None = None, rrf_k: int = RRF_K) -> None:
        super().__init__()
        if mode not in ("bm25", "dense", "fused"):
            raise ValueError(f"unknown mode {mode!r}")
        if mode != "bm25" and embedder is None:
            raise ValueError(f"{mode} needs an embedder")
        self.mode = mode
        self.name = f"{mode}-turns"
        self.embedder = embedder
        self.rrf_k = rrf_k
        self._lines: list[str] = []
        self._ids: list[str] = []
        self._bm25: Any = None
        self._vectors: np.ndarray | None = None

    def ingest(self, conversation: LocomoConversation, progress: Progress | None = None) -> None:
        turns = conversation.turns
        self._lines = [t.line for t in turns]
        self._ids = [t.dia_id for t in turns]
        if self.mode in ("bm25", "fused"):
            import bm25s

            self._bm25 = bm25s.BM25()
            self._bm25.index(_bm25_tokens(self._lines), show_progress=False)
        if self.mode in ("dense", "fused"):
            assert self.embedder is not None
            self._vectors = self.embedder.embed(self._lines)
        if progress:
            progress(len(turns))

    def _bm25_order(self, question: str) -> list[int]:
        if not self._lines:
            return []
        tokens = _bm25_tokens([question])[0]
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    def _dense_order(self, question: str) -> list[int]:
        if self._vectors is None or not len(self._vectors):
            return []
        assert self.embedder is not None
        q = embed_with_queries(self.embedder, [], [question])[0]
        sims = self._vectors @ q
        return [int(i) for i in np.argsort(-sims, kind="stable")]

    def rank(self, question: str, depth: int) -> list[Item]:
        if self.mode == "bm25":
            order = self._bm25_order(question)
        elif self.mode == "dense":
            order = self._dense_order(question)
        else:
            order = rrf([self._bm25_order(question), self._dense_order(question)], self.rrf_k)
        return [Item(self._lines[i], (self._ids[i],)) for i in order[:depth]]


# --------------------------------------------------------------------------- MeMo


class MemoSystem:
    """MeMo through its public API only: a fresh embedded store per conversation, one scope each."""

    name = "memo"

    def __init__(
        self, path: Path, embedder: Embedder | None = None, config: Any = None, max_k: int = 200
    ) -> None:
        from shared_core import MemoConfig, Memory

        self.config = config if config is not None else MemoConfig()
        self.mem = Memory.open(str(path), embedder=embedder, config=self.config)
        self.max_k = min(max_k, int(getattr(getattr(self.config, "limits", None), "max_k", max_k)))
        self.scope: Any = None
        self._last: tuple[list[Item], int] | None = None

    def ingest(self, conversation: LocomoConversation, progress: Progress | None = None) -> None:
        from shared_core import Scope

        self.scope = Scope(tenant="bench", user=conversation.sample_id)
        for session in conversation.sessions:
            if not session.turns:
                continue
            messages = [
                {
                    "role": "user",
                    "content": t.content,
                    "id": t.dia_id,
                    "name": t.speaker,
                    **({"timestamp": t.timestamp} if t.timestamp is not None else {}),
                }
                for t in session.turns
            ]
            self.mem.add_messages(messages, scope=self.scope, session_id=f"session_{session.number}")
            if progress:
                progress(len(session.turns))
        # extraction and the applier run in the background: ingest time includes them
        self.mem.flush()

    @staticmethod
    def _item(hit: Any) -> Item:
        rec = hit.record
        return Item(rec.text, tuple(rec.provenance.source_message_ids), float(hit.score))

    def search(self, question: str, k: int) -> list[Item]:
        hits = self.mem.search(question, scope=self.scope, k=min(k, self.max_k))
        return [self._item(h) for h in hits]

    def context(self, question: str, budget: int) -> list[Item]:
        """MeMo packs its own context: `Memory.context` renders the cited block within the budget."""
        if hasattr(self.mem, "context"):
            ctx = self.mem.context(question, scope=self.scope, token_budget=budget, k=self.max_k)
            hits, tokens = list(ctx.hits), int(ctx.tokens)
        else:
            hits = self.mem.search(question, scope=self.scope, k=self.max_k, token_budget=budget)
            tokens = -1
        items = [self._item(h) for h in hits]
        self._last = (items, tokens if tokens >= 0 else count_tokens(render_lines(items)))
        return items

    def context_tokens(self, items: Sequence[Item]) -> int:
        if self._last is not None and items is self._last[0]:
            return self._last[1]
        return count_tokens(render_lines(items))

    def close(self) -> None:
        self.mem.close()


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class SystemSpec:
    name: str
    description: str
    needs: tuple[str, ...] = ()  # modules that must be importable
    uses_embedder: bool = True
    own_env: bool = False  # runs in benchmarks/peers-venv when `needs` is missing here
    options: dict[str, Any] = field(default_factory=dict)


SYSTEMS: dict[str, SystemSpec] = {
    s.name: s
    for s in (
        SystemSpec("memo", "MeMo (public API: add_messages / search / token_budget)", ("chromadb",)),
        SystemSpec(
            "bm25-turns", "every raw turn, plain BM25 (bm25s, lucene, English stopwords)", ("bm25s",), False
        ),
        SystemSpec("dense-turns", "every raw turn, plain cosine over the shared embedder", ()),
        SystemSpec("fused-turns", f"BM25 + dense over raw turns, RRF k={RRF_K}", ("bm25s",)),
        SystemSpec(
            "langchain-legacy",
            "langchain-classic VectorStoreRetrieverMemory over langchain-chroma",
            ("langchain_classic", "langchain_chroma"),
        ),
        SystemSpec(
            "llamaindex",
            "llama-index Memory with a VectorMemoryBlock on Chroma",
            ("llama_index.core", "llama_index.vector_stores.chroma"),
        ),
        SystemSpec(
            "mem0", "mem0ai Memory, add(infer=False), local Chroma, telemetry off", ("mem0",), own_env=True
        ),
    )
}


def missing_modules(spec: SystemSpec) -> list[str]:
    out = []
    for mod in spec.needs:
        try:
            found = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(mod)
    return out


def make_embedder(name: str) -> Embedder:
    """`minilm` (the default, shared by every system), `e5` (the optional multilingual-e5-small)
    or `hashing` (fast, for tests)."""
    from shared_core.embed import HashingEmbedder, default_embedder, e5_embedder

    if name == "minilm":
        emb = default_embedder()
    elif name == "e5":
        emb = e5_embedder()
    elif name.startswith("hashing"):
        dim = int(name.split("-", 1)[1]) if "-" in name else 256
        emb = HashingEmbedder(dim)
    else:
        raise ValueError(f"unknown embedder {name!r} (minilm, e5, hashing)")
    emb.embed(["warm-up"])  # load the model outside any timed section
    return emb


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = (
            _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def system_factory(
    name: str, embedder: Embedder | None, memo_overrides: dict[str, Any] | None = None
) -> tuple[Callable[[Path], BenchSystem], dict[str, Any]]:
    """A `path -> fresh system` factory and the configuration it records in the report.
    `memo_overrides` (nested dict) changes fields of MeMo's default `MemoConfig` (ablations)."""
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
    spec = SYSTEMS[name]
    cfg: dict[str, Any] = {"description": spec.description}
    if spec.uses_embedder and embedder is not None:
        cfg["embedder"] = {"name": embedder.name, "dim": embedder.dim}
    if name in ("bm25-turns", "dense-turns", "fused-turns"):
        mode = name.split("-")[0]
        cfg.update(turn_text="Speaker: text [image: caption]", rank_depth=RANK_DEPTH)
        if mode != "dense":
            cfg["bm25"] = {"impl": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75, "stopwords": "en"}
        if mode == "fused":
            cfg["rrf_k"] = RRF_K
        return (lambda path: TurnIndexSystem(mode, embedder)), cfg
    if name == "memo":
        from shared_core import MemoConfig

        memo_cfg = MemoConfig()
        if memo_overrides:
            memo_cfg = MemoConfig.model_validate(_merged(memo_cfg.model_dump(), memo_overrides))
            cfg["memo_overrides"] = memo_overrides
        cfg["memo_config"] = memo_cfg.model_dump(mode="json")
        return (lambda path: MemoSystem(path, embedder, memo_cfg)), cfg
    module = importlib.import_module(f"memo_bench.peers.{name.replace('-', '_')}")
    factory, extra = module.make(embedder)
    cfg.update(extra)
    cfg["rank_depth"] = RANK_DEPTH
    return factory, cfg
