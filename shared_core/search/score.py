"""Ranking, all of it: distance -> similarity (the only place), fusion, recency, importance,
use, time-aware boosts and MMR diversity. Pure functions over records; the clock is a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from ..config import ScoringConfig
from ..models import Kind, MemoryRecord

_WORD = re.compile(r"[a-z0-9']+")


def similarity(distance: float) -> float:
    """Cosine distance (Chroma's `1 - cos`, may be slightly negative) -> similarity in [0, 1]."""
    if math.isnan(distance):
        return 0.0
    return min(1.0, max(0.0, 1.0 - distance))


@dataclass
class ScoredCandidate:
    record: MemoryRecord
    dense_rank: int | None = None
    lexical_rank: int | None = None
    similarity: float = 0.0
    time_match: bool = False
    about_match: bool = False  # said by, or about, a person the query names
    vector: npt.NDArray[np.float32] | None = None  # the record's unit vector, for MMR
    components: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def rrf(rank: int | None, k: int) -> float:
    return 0.0 if rank is None else 1.0 / (k + rank + 1)


def recency(record: MemoryRecord, now: datetime, half_life_days: float) -> float:
    """1.0 for now, 0.5 one half-life ago; the latest of event time and last access counts."""
    ref = record.event_time
    if record.last_accessed_at is not None and record.last_accessed_at > ref:
        ref = record.last_accessed_at
    age_days = max(0.0, (now - ref).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / half_life_days))


def use(record: MemoryRecord) -> float:
    """Saturating bonus for memories that were used: 0 unused, ~0.5 after 3 uses."""
    return 1.0 - 1.0 / (1.0 + record.access_count / 3.0)


def score_candidates(
    candidates: Sequence[ScoredCandidate], now: datetime, cfg: ScoringConfig
) -> list[ScoredCandidate]:
    """Fill each candidate's score in [0, 1] and its components; return them best first."""
    wd, wl = cfg.dense_weight, (cfg.lexical_weight if cfg.lexical_enabled else 0.0)
    best_possible = (wd + wl) * rrf(0, cfg.rrf_k) or 1.0
    weights = cfg.relevance_weight + cfg.recency_weight + cfg.importance_weight + cfg.use_weight
    for c in candidates:
        dense_rrf, lexical_rrf = wd * rrf(c.dense_rank, cfg.rrf_k), wl * rrf(c.lexical_rank, cfg.rrf_k)
        fused = (dense_rrf + lexical_rrf) / best_possible
        a = cfg.similarity_weight
        relevance = (1.0 - a) * fused + a * c.similarity
        if c.about_match:
            relevance = min(1.0, relevance * (1.0 + cfg.speaker_boost))
        if c.time_match:
            relevance = min(1.0, relevance * 1.25 + 0.05)
        comp = {
            "relevance": relevance,
            "similarity": c.similarity,
            "recency": recency(c.record, now, cfg.recency_half_life_days),
            "importance": c.record.importance,
            "use": use(c.record),
            # how retrieval found it: ranks are 1-based, 0 = not found by that retriever
            "dense_rank": float(0 if c.dense_rank is None else c.dense_rank + 1),
            "lexical_rank": float(0 if c.lexical_rank is None else c.lexical_rank + 1),
            "dense_rrf": dense_rrf,
            "lexical_rrf": lexical_rrf,
            "fused": fused,
        }
        total = (
            cfg.relevance_weight * comp["relevance"]
            + cfg.recency_weight * comp["recency"]
            + cfg.importance_weight * comp["importance"]
            + cfg.use_weight * comp["use"]
        )
        score = min(1.0, max(0.0, total / weights)) if weights > 0 else 0.0
        if c.record.kind is not Kind.EPISODE:  # measured on LoCoMo dev: raw turns answer better
            score *= cfg.memory_factor
            comp["memory_factor"] = cfg.memory_factor
        elif c.record.text.rstrip().endswith("?"):  # a question rarely holds its own answer
            score *= cfg.question_turn_factor
            comp["question_turn_factor"] = cfg.question_turn_factor
        c.components = comp
        c.score = score
    return sorted(candidates, key=lambda c: (-c.score, c.record.id))


def names_in(query: str, candidates: Sequence[ScoredCandidate]) -> None:
    """Mark candidates said by or about someone the query names ("What did Caroline paint?")."""
    words = set(_WORD.findall(query.lower()))
    for c in candidates:
        who = (c.record.provenance.speaker or c.record.subject or "").lower()
        c.about_match = bool(who) and who in words


def collapse_sources(ranked: Sequence[ScoredCandidate]) -> list[ScoredCandidate]:
    """Drop a memory read from raw turns that are already in the list above it: the turn holds
    everything the memory says, so it would add tokens but no evidence. Raw turns always stay,
    and two different memories read from one turn both stay."""
    turns: set[str] = set()
    out = []
    for c in ranked:
        sources = c.record.provenance.source_message_ids
        if c.record.kind is Kind.EPISODE:
            turns.update(sources)
        elif sources and turns.issuperset(sources):
            continue
        out.append(c)
    return out


def mmr(ranked: Sequence[ScoredCandidate], lam: float) -> list[ScoredCandidate]:
    """Maximal marginal relevance over the whole ranked list: each pick trades a little score
    for not repeating what was already picked (cosine of the candidates' vectors)."""
    if lam >= 1.0 or len(ranked) <= 1 or any(c.vector is None for c in ranked):
        return list(ranked)
    vecs = np.stack([np.asarray(c.vector, dtype=np.float32) for c in ranked])
    sims = vecs @ vecs.T
    scores = np.array([c.score for c in ranked], dtype=np.float32)
    redundancy = np.full(len(ranked), -np.inf, dtype=np.float32)
    left = np.ones(len(ranked), dtype=bool)
    order: list[int] = []
    for _ in range(len(ranked)):
        red = np.where(np.isfinite(redundancy), redundancy, 0.0)
        value = np.where(left, lam * scores - (1.0 - lam) * red, -np.inf)
        i = int(np.argmax(value))
        order.append(i)
        left[i] = False
        redundancy = np.maximum(redundancy, sims[i])
    return [ranked[i] for i in order]
