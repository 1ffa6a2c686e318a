"""LoCoMo evidence-retrieval benchmark: data loading, normalisation, metrics, and the protocol.

The data is read at run time from a file in LoCoMo's own JSON format (a list of conversations,
as in `locomo10.json`); nothing of it is stored in the repository (the data is CC BY-NC 4.0).

Protocol, per conversation: a fresh store (a new system in a new directory); every session is
fed in order, each turn with its speaker, its `dia_id` and its session's date; then every
question of categories 1-4 with resolvable evidence is asked. A hit credits the first
`MAX_CREDIT_PER_HIT` source turns of its provenance, so an item citing fifty turns cannot buy
recall. Everything below `load_locomo` except `run_locomo` is a pure function.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .locomo_data import (
    ADVERSARIAL,
    CATEGORIES,
    LocomoConversation,
    LocomoQuestion,
    LocomoSession,
    LocomoTurn,
    load_locomo,
    normalise_evidence,
    parse_conversation,
    parse_locomo_datetime,
    turn_content,
)
from .protocol import BenchSystem, Item, Progress

__all__ = [
    "ADVERSARIAL",
    "CATEGORIES",
    "LocomoConversation",
    "LocomoQuestion",
    "LocomoSession",
    "LocomoTurn",
    "load_locomo",
    "normalise_evidence",
    "parse_conversation",
    "parse_locomo_datetime",
    "turn_content",
]

K_VALUES: tuple[int, ...] = (5, 10, 20, 30)
BUDGETS: tuple[int, ...] = (256, 512, 1024, 2048, 4096)
MAX_CREDIT_PER_HIT = 3
ALL_AT = 10


# --------------------------------------------------------------------------- metrics (pure)


def credited(source_ids_per_item: Iterable[Sequence[str]], per_item: int = MAX_CREDIT_PER_HIT) -> set[str]:
    """The turns a list of items credits: the first `per_item` source ids of each item."""
    out: set[str] = set()
    for ids in source_ids_per_item:
        out.update(list(ids)[:per_item])
    return out


def recall(evidence: Sequence[str], source_ids_per_item: Iterable[Sequence[str]]) -> float:
    """Found evidence / all evidence of the question (0 for no evidence)."""
    if not evidence:
        return 0.0
    found = credited(source_ids_per_item)
    return sum(1 for e in set(evidence) if e in found) / len(set(evidence))


def recall_at(evidence: Sequence[str], ranked: Sequence[Sequence[str]], k: int) -> float:
    return recall(evidence, ranked[:k])


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), q in [0, 100]; 0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class QuestionResult:
    """What one question produced: the ranked source ids (top-k) and each budget's context."""

    sample_id: str
    index: int
    category: int
    evidence: tuple[str, ...]
    ranked: list[list[str]]
    budget_items: dict[int, list[list[str]]] = field(default_factory=dict)
    budget_tokens: dict[int, int] = field(default_factory=dict)
    search_ms: float = 0.0
    context_ms: float = 0.0

    def metrics(self) -> dict[str, float]:
        out = {f"recall@{k}": recall_at(self.evidence, self.ranked, k) for k in K_VALUES}
        out[f"all@{ALL_AT}"] = 1.0 if recall_at(self.evidence, self.ranked, ALL_AT) >= 1.0 else 0.0
        for b, items in self.budget_items.items():
            out[f"budget@{b}"] = recall(self.evidence, items)
        return out


def metric_keys(budgets: Sequence[int] = BUDGETS) -> list[str]:
    return [f"recall@{k}" for k in K_VALUES] + [f"all@{ALL_AT}"] + [f"budget@{b}" for b in budgets]


def aggregate(results: Sequence[QuestionResult], budgets: Sequence[int] = BUDGETS) -> dict[str, Any]:
    """Mean of every metric over the questions, overall and per category (4 decimals)."""
    keys = metric_keys(budgets)

    def mean_of(rs: Sequence[QuestionResult]) -> dict[str, Any]:
        per = [r.metrics() for r in rs]
        out: dict[str, Any] = {
            k: (round(statistics.fmean(m.get(k, 0.0) for m in per), 4) if per else 0.0) for k in keys
        }
        out["questions"] = len(rs)
        return out

    return {
        "overall": mean_of(results),
        "by_category": {
            name: mean_of([r for r in results if r.category == c]) for c, name in CATEGORIES.items()
        },
    }


# --------------------------------------------------------------------------- protocol


SystemFactory = Callable[[Path], BenchSystem]


@dataclass
class RunStats:
    turns: int = 0
    ingest_s: float = 0.0
    skipped_questions: int = 0
    adversarial_questions: int = 0
    full_context_tokens: list[int] = field(default_factory=list)


def _item_ids(items: Sequence[Item], back: Mapping[str, str] | None = None) -> list[list[str]]:
    if back is None:
        return [list(it.source_ids) for it in items]
    return [[back.get(i, i) for i in it.source_ids] for it in items]


def with_uuid_ids(conv: LocomoConversation) -> tuple[LocomoConversation, dict[str, str]]:
    """The conversation with each turn's id replaced by a UUID (as applications send message ids),
    and the way back to LoCoMo's ids (evidence is scored in those)."""
    back: dict[str, str] = {}
    sessions = []
    for s in conv.sessions:
        turns = []
        for t in s.turns:
            new = str(uuid.uuid5(uuid.NAMESPACE_URL, f"locomo:{conv.sample_id}:{t.dia_id}"))
            back[new] = t.dia_id
            turns.append(dataclasses.replace(t, dia_id=new))
        sessions.append(dataclasses.replace(s, turns=tuple(turns)))
    return dataclasses.replace(conv, sessions=tuple(sessions)), back


def evaluate_conversation(
    system: BenchSystem,
    conv: LocomoConversation,
    *,
    k: int = max(K_VALUES),
    budgets: Sequence[int] = BUDGETS,
    progress: Progress | None = None,
    uuid_ids: bool = False,
) -> tuple[float, list[QuestionResult]]:
    """Ingest one conversation into `system` (fresh) and ask its usable questions. Returns ingest
    seconds. `uuid_ids`: the system sees UUID message ids (`with_uuid_ids`), scored in LoCoMo's."""
    back: dict[str, str] | None = None
    fed = conv
    if uuid_ids:
        fed, back = with_uuid_ids(conv)
    t0 = time.perf_counter()
    system.ingest(fed, progress=progress)
    ingest_s = time.perf_counter() - t0
    out: list[QuestionResult] = []
    for q in conv.usable_questions:
        t = time.perf_counter()
        hits = system.search(q.question, k)
        search_ms = (time.perf_counter() - t) * 1000.0
        res = QuestionResult(
            conv.sample_id, q.index, q.category, q.evidence, _item_ids(hits[:k], back), search_ms=search_ms
        )
        t = time.perf_counter()
        for b in budgets:
            ctx = system.context(q.question, b)
            res.budget_items[b] = _item_ids(ctx, back)
            res.budget_tokens[b] = system.context_tokens(ctx)
        res.context_ms = (time.perf_counter() - t) * 1000.0 / max(1, len(budgets))
        out.append(res)
        if progress:
            progress(1)
    return ingest_s, out


def run_locomo(
    conversations: Sequence[LocomoConversation],
    make_system: SystemFactory,
    *,
    system_name: str,
    k: int = max(K_VALUES),
    budgets: Sequence[int] = BUDGETS,
    workdir: str | Path | None = None,
    show_progress: bool = True,
    uuid_ids: bool = False,
) -> dict[str, Any]:
    """Run the protocol over every conversation and return the report (without `config`/`git_sha`)."""
    from tqdm import tqdm

    from shared_core.tokens import count_tokens

    stats = RunStats()
    results: list[QuestionResult] = []
    total = sum(len(c.turns) + len(c.usable_questions) for c in conversations)
    bar = tqdm(
        total=total, desc=f"locomo {system_name}", unit="step", disable=not show_progress, dynamic_ncols=True
    )
    try:
        with tempfile.TemporaryDirectory(prefix="memo-bench-", dir=workdir) as tmp:
            for i, conv in enumerate(conversations):
                bar.set_postfix_str(conv.sample_id)
                stats.turns += len(conv.turns)
                stats.full_context_tokens.append(count_tokens(conv.full_text()))
                stats.skipped_questions += sum(
                    1 for q in conv.questions if q.category in CATEGORIES and not q.usable
                )
                stats.adversarial_questions += sum(1 for q in conv.questions if q.category == ADVERSARIAL)
                path = Path(tmp) / f"{i:03d}"
                path.mkdir()
                system = make_system(path)
                try:
                    ingest_s, res = evaluate_conversation(
                        system, conv, k=k, budgets=budgets, progress=bar.update, uuid_ids=uuid_ids
                    )
                finally:
                    system.close()
                stats.ingest_s += ingest_s
                results.extend(res)
    finally:
        bar.close()
    return build_report(
        results, stats, system_name=system_name, budgets=budgets, conversations=len(conversations)
    )


def build_report(
    results: Sequence[QuestionResult],
    stats: RunStats,
    *,
    system_name: str,
    budgets: Sequence[int] = BUDGETS,
    conversations: int = 0,
) -> dict[str, Any]:
    agg = aggregate(results, budgets)
    lat = [r.search_ms for r in results]
    ctx = [r.context_ms for r in results]
    report: dict[str, Any] = {
        "system": system_name,
        "overall": agg["overall"],
        "by_category": agg["by_category"],
        "questions": len(results),
        "skipped_questions": stats.skipped_questions,
        "adversarial_questions_excluded": stats.adversarial_questions,
        "conversations": conversations,
        "turns": stats.turns,
        "ingest_s": round(stats.ingest_s, 3),
        "ingest_turns_per_s": round(stats.turns / stats.ingest_s, 2) if stats.ingest_s > 0 else 0.0,
        "search_ms": {"p50": round(percentile(lat, 50), 3), "p95": round(percentile(lat, 95), 3)},
        "context_ms": {"p50": round(percentile(ctx, 50), 3), "p95": round(percentile(ctx, 95), 3)},
        "full_context_tokens_mean": (
            round(statistics.fmean(stats.full_context_tokens), 1) if stats.full_context_tokens else 0.0
        ),
        "budget_tokens_used_mean": {
            f"budget@{b}": (
                round(statistics.fmean(r.budget_tokens.get(b, 0) for r in results), 1) if results else 0.0
            )
            for b in budgets
        },
    }
    return report
