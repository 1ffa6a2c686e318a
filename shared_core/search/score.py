"""Ranking, all of it: distance -> similarity (the only place), fusion, recency, importance,
use, time-aware boosts and MMR diversity. Pure functions over records; the clock is a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..config import ScoringConfig
from ..models import Kind, MemoryRecord
from .features import IMPORTANCE, MEMORY, QUESTION, SEEN, USES


def similarity(distance: float, floor: float = 0.0) -> float:
    """Cosine distance (Chroma's `1 - cos`, may be slightly negative) -> similarity in [0, 1].
    `floor`: the embedder's `cosine_floor` (the cosine of unrelated texts, 0.7 for E5), read as 0;
    similarity is the cosine's share of the way from it to 1."""
    return float(similarities(np.array([1.0 - distance]), floor)[0])


def similarities(cosines: npt.NDArray[np.floating], floor: float = 0.0) -> npt.NDArray[np.float64]:
    """Cosines of unit vectors -> similarities in [0, 1], as `similarity` does one distance."""
    cos = np.nan_to_num(np.asarray(cosines, dtype=np.float64), nan=floor)
    return np.clip((cos - floor) / (1.0 - floor), 0.0, 1.0)


@dataclass
class ScoredCandidate:
    record: MemoryRecord
    dense_rank: int | None = None
    lexical_rank: int | None = None
    similarity: float = 0.0
    vector: npt.NDArray[np.float32] | None = None  # the record's unit vector, for MMR
    score: float = 0.0
    # what `score_candidates` computed: relevance, similarity, recency, importance, use, dense_rrf,
    # lexical_rrf, fused (`components` names them)
    parts: tuple[float, float, float, float, float, float, float, float] = (0.0,) * 8
    factor: tuple[str, float] | None = None  # the kind's factor applied to the score, if any

    @property
    def components(self) -> dict[str, float]:
        """Why it scored what it did (built on demand: only the hits returned need it)."""
        relevance, similarity, rec, importance, used, dense_rrf, lexical_rrf, fused = self.parts
        comp = {
            "relevance": relevance,
            "similarity": similarity,
            "recency": rec,
            "importance": importance,
            "use": used,
            # how retrieval found it: ranks are 1-based, 0 = not found by that retriever
            "dense_rank": float(0 if self.dense_rank is None else self.dense_rank + 1),
            "lexical_rank": float(0 if self.lexical_rank is None else self.lexical_rank + 1),
            "dense_rrf": dense_rrf,
            "lexical_rrf": lexical_rrf,
            "fused": fused,
        }
        if self.factor is not None:
            comp[self.factor[0]] = self.factor[1]
        return comp


def rrf(rank: npt.NDArray[np.int64], k: int) -> npt.NDArray[np.float64]:
    """Reciprocal rank fusion term per 0-based rank; -1 (not found by that retriever) gives 0."""
    return np.where(rank >= 0, 1.0 / (k + rank + 1.0), 0.0)


def recency(seen: npt.NDArray[np.float64], now: float, half_life_days: float) -> npt.NDArray[np.float64]:
    """1.0 for now, 0.5 one half-life ago; `seen` is the latest of event time and last access
    (seconds since the epoch, as `now`)."""
    age_days = np.maximum(0.0, (now - seen) / 86400.0)
    return np.asarray(0.5 ** (age_days / half_life_days), dtype=np.float64)


def use(uses: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Saturating bonus for memories that were used: 0 unused, ~0.5 after 3 uses."""
    return 1.0 - 1.0 / (1.0 + uses / 3.0)


_TOKEN = re.compile(r"[\w'’-]+")
_POSSESSIVE = re.compile(r"['’]s?$")


def named(query: str, people: set[str]) -> tuple[set[str], str]:
    """Who of `people` (lower case) the query names, and the query without those names (for its
    embedding; the query itself when nothing else would remain). A name has up to three words and
    may carry a possessive ("Melanie's"); when the query has capitals, only a capitalised word
    starts a name ("Will" is a person, "will" is not)."""
    tokens = list(_TOKEN.finditer(query)) if people else []
    words = [m.group().lower() for m in tokens]
    capitals = query != query.lower()
    found: set[str] = set()
    cut: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            if i + n > len(tokens) or (capitals and not tokens[i].group()[0].isupper()):
                continue
            name = " ".join([*words[i : i + n - 1], _POSSESSIVE.sub("", words[i + n - 1])])
            if name in people:
                found.add(name)
                cut.append((tokens[i].start(), tokens[i + n - 1].end()))
                i += n - 1
                break
        i += 1
    if not cut:
        return found, query
    parts, last = [], 0
    for start, end in cut:
        parts.append(query[last:start])
        last = end
    parts.append(query[last:])
    rest = " ".join("".join(parts).split())
    return found, rest if _TOKEN.search(rest) else query


@dataclass(frozen=True)
class Scored:
    """Scores of m candidates (arrays of length m) and why: `parts` has one row per candidate
    (the order `ScoredCandidate.parts` names)."""

    score: npt.NDArray[np.float64]
    parts: npt.NDArray[np.float64]
    memory: npt.NDArray[np.bool_]
    question: npt.NDArray[np.bool_]


def score_candidates(
    rows: npt.NDArray[np.float64],
    dense_rank: npt.NDArray[np.int64],
    lexical_rank: npt.NDArray[np.int64],
    similarity: npt.NDArray[np.float64],
    about: npt.NDArray[np.bool_],
    time_match: npt.NDArray[np.bool_],
    now: float,
    cfg: ScoringConfig,
) -> Scored:
    """Every candidate's score in [0, 1], all at once: `rows` are their `Features.table` rows,
    ranks are 0-based (-1: not found by that retriever), `now` in seconds since the epoch."""
    wd, wl = cfg.dense_weight, (cfg.lexical_weight if cfg.lexical_enabled else 0.0)
    best_possible = (wd + wl) / (cfg.rrf_k + 1.0) or 1.0
    weights = cfg.relevance_weight + cfg.recency_weight + cfg.importance_weight + cfg.use_weight
    dense_rrf, lexical_rrf = wd * rrf(dense_rank, cfg.rrf_k), wl * rrf(lexical_rank, cfg.rrf_k)
    fused = (dense_rrf + lexical_rrf) / best_possible
    a = cfg.similarity_weight
    relevance = (1.0 - a) * fused + a * similarity
    relevance = np.where(about, np.minimum(1.0, relevance * (1.0 + cfg.speaker_boost)), relevance)
    relevance = np.where(time_match, np.minimum(1.0, relevance * 1.25 + 0.05), relevance)
    rec = recency(rows[:, SEEN], now, cfg.recency_half_life_days)
    importance, used = rows[:, IMPORTANCE], use(rows[:, USES])
    total = (
        cfg.relevance_weight * relevance
        + cfg.recency_weight * rec
        + cfg.importance_weight * importance
        + cfg.use_weight * used
    )
    score = np.clip(total / weights, 0.0, 1.0) if weights > 0 else np.zeros(len(rows))
    memory, question = rows[:, MEMORY] > 0, rows[:, QUESTION] > 0
    # measured on LoCoMo dev: raw turns answer better; a question rarely holds its own answer
    score = score * np.where(memory, cfg.memory_factor, np.where(question, cfg.question_turn_factor, 1.0))
    parts = np.column_stack([relevance, similarity, rec, importance, used, dense_rrf, lexical_rrf, fused])
    return Scored(score=score, parts=parts, memory=memory, question=question)


def _by_score_then_id(score: npt.NDArray[np.float64], records: Sequence[MemoryRecord]) -> Iterator[int]:
    """Positions by score, highest first; equal scores by record id (read only where scores tie)."""
    order = np.argsort(-score, kind="stable").tolist()
    values = score.tolist()
    i = 0
    while i < len(order):
        end = i + 1
        while end < len(order) and values[order[end]] == values[order[i]]:
            end += 1
        run = order[i:end] if end - i == 1 else sorted(order[i:end], key=lambda j: records[j].id)
        yield from run
        i = end


def best_first(
    records: Sequence[MemoryRecord],
    vectors: npt.NDArray[np.float32],
    dense_rank: npt.NDArray[np.int64],
    lexical_rank: npt.NDArray[np.int64],
    scored: Scored,
    cfg: ScoringConfig,
    limit: int | None,
) -> list[ScoredCandidate]:
    """The candidates best first (ties: smaller id first), without those under `min_score` and,
    when `cfg.collapse_sources`, without a memory whose source turns are all above it (the turns
    hold everything it says: it would add tokens but no evidence; raw turns always stay, and two
    memories read from one turn both stay). Only the first `limit` are built (all when None)."""
    scores = scored.score.tolist()
    turns: set[str] = set()
    out: list[ScoredCandidate] = []
    for j in _by_score_then_id(scored.score, records):
        if limit is not None and len(out) >= limit:
            break
        if scores[j] < cfg.min_score:
            break  # best first: the rest are lower
        rec = records[j]
        if cfg.collapse_sources:
            sources = rec.provenance.source_message_ids
            if rec.kind is Kind.EPISODE:
                turns.update(sources)
            elif sources and turns.issuperset(sources):
                continue
        factor = None
        if scored.memory[j]:
            factor = ("memory_factor", cfg.memory_factor)
        elif scored.question[j]:
            factor = ("question_turn_factor", cfg.question_turn_factor)
        d, lx = int(dense_rank[j]), int(lexical_rank[j])
        row = scored.parts[j].tolist()
        out.append(
            ScoredCandidate(
                record=rec,
                dense_rank=None if d < 0 else d,
                lexical_rank=None if lx < 0 else lx,
                similarity=row[1],
                vector=vectors[j],
                score=scores[j],
                parts=(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]),
                factor=factor,
            )
        )
    return out


def mmr(ranked: Sequence[ScoredCandidate], lam: float, floor: float = 0.0) -> list[ScoredCandidate]:
    """Maximal marginal relevance over the whole ranked list: each pick trades a little score
    for not repeating what was already picked (similarity of the candidates' vectors; `floor`
    as in `similarities`)."""
    if lam >= 1.0 or len(ranked) <= 1 or any(c.vector is None for c in ranked):
        return list(ranked)
    vecs = np.stack([np.asarray(c.vector, dtype=np.float32) for c in ranked])
    # without a floor, raw cosines as always (a negative one, an opposite vector, is no redundancy)
    sims = vecs @ vecs.T if floor == 0.0 else similarities(vecs @ vecs.T, floor).astype(np.float32)
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
