"""The lexical (BM25) index, kept in step with the store.

Local Chroma has no full-text ranking, so MeMo ranks words itself (BM25). An index covers one
read scope; `search_index.py` keeps it, with the scope's vectors, and rebuilds it when the
scope's revision token changes, so a process sees what another process wrote (server mode)
without any extra service.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import cast

import numpy as np

from .stemmer import stem

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "let's",
        "me",
        "more",
        "most",
        "mustn't",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "wasn't",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "why",
        "why's",
        "with",
        "won't",
        "would",
        "wouldn't",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "just",
        "really",
        "yeah",
        "oh",
        "hey",
        "hi",
        "wow",
        "like",
        "get",
        "got",
        "gonna",
        "lot",
        "lots",
        "thing",
        "things",
        "so",
        "much",
        "many",
    ]
)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def tokenize(text: str) -> list[str]:
    """The analyser, for documents and queries alike: words -> lowercase terms, stopwords out,
    possessives and clitics off (`Caroline's` -> `caroline`, `mustn't` -> `must`), Porter2 stems
    (`phones`/`phone`, `hiking`/`hike`, `dogs`/`dog` meet); accents folded, CJK one term a character."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=65_536)
def _tokens(text: str) -> tuple[str, ...]:
    """Cached: an index rebuilt after another process's write re-tokenizes only what changed."""
    text = text.lower().translate(_APOSTROPHES)
    if not text.isascii():
        text = _fold(text)
    out: list[str] = []
    for word in _WORD.findall(text):
        if word in STOPWORDS:
            continue
        term = _term(word)
        if not term or term in STOPWORDS:
            continue
        if term.isascii():
            out.append(stem(term))
        elif _CJK.search(term):
            out.extend(ch for ch in term)
        else:
            out.append(term)
    return tuple(out)


def _term(word: str) -> str:
    """A word without its clitic: `caroline's` -> `caroline`, `haven't` -> `have`, `it'll` -> `it`."""
    if "'" not in word:
        return word
    base = word.split("'", 1)[0]
    if word.endswith("n't") and base.endswith("n") and len(base) > 2:
        base = base[:-1]  # "needn't" -> "need"
    return base


def _fold(text: str) -> str:
    """Accents off (`café` -> `cafe`), compatibility forms unified; letters of other scripts kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


NEGLIGIBLE = 0.01  # a query term's idf below this share of the query's highest idf is skipped


class LexicalIndex:
    """BM25 (Lucene idf, Robertson term frequency, as `bm25s` computes it) over (id, text)
    documents, updated in place: `add` and `remove` change postings and statistics without a
    rebuild, so a write is searchable at once."""

    k1 = 1.5
    b = 0.75

    def __init__(self, docs: Sequence[tuple[str, str]] = ()) -> None:
        self.ids: list[str | None] = []  # slot -> id (None: removed)
        self._slot: dict[str, int] = {}
        self._lens = np.zeros(16, dtype=np.float32)  # slot -> its length in terms (spare capacity)
        self._terms: list[tuple[str, ...]] = []  # slot -> its distinct terms (what a removal touches)
        self._total = 0
        self._postings: dict[str, dict[int, int]] = {}
        for rid, text in docs:
            self.add(rid, text)

    def __len__(self) -> int:
        return len(self._slot)

    def add(self, rid: str, text: str) -> None:
        """Index a document (replacing the one with the same id)."""
        if rid in self._slot:
            self.remove(rid)
        slot = len(self.ids)
        self.ids.append(rid)
        self._slot[rid] = slot
        toks = tokenize(text)
        if slot >= len(self._lens):
            self._lens = np.concatenate([self._lens, np.zeros(len(self._lens), dtype=np.float32)])
        self._lens[slot] = len(toks)
        self._terms.append(tuple(dict.fromkeys(toks)))
        self._total += len(toks)
        for t in toks:
            post = self._postings.setdefault(t, {})
            post[slot] = post.get(slot, 0) + 1

    def remove(self, rid: str) -> None:
        slot = self._slot.pop(rid, None)
        if slot is None:
            return
        self.ids[slot] = None
        self._total -= int(self._lens[slot])
        for t in self._terms[slot]:
            post = self._postings.get(t)
            if post is None:
                continue
            post.pop(slot, None)
            if not post:
                del self._postings[t]
        self._lens[slot] = 0
        self._terms[slot] = ()

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        terms = [t for t in tokenize(query) if t in self._postings]
        n = len(self._slot)
        if not n or not terms:
            return []
        idfs = {
            t: math.log(1.0 + (n - len(self._postings[t]) + 0.5) / (len(self._postings[t]) + 0.5))
            for t in terms
        }
        # a term in (nearly) every document weighs under NEGLIGIBLE of the query's rarest term: it
        # cannot reorder what the other terms found, and scoring it would cost a pass over the index
        floor = NEGLIGIBLE * max(idfs.values())
        avg = max(self._total / n, 1e-9)
        # only the postings of the query's terms are read: the cost follows how many documents
        # hold those terms, not the size of the index
        slot_parts, score_parts = [], []
        for t in terms:
            idf = idfs[t]
            if idf < floor:
                continue
            post = self._postings[t]
            slots = np.fromiter(post.keys(), dtype=np.int64, count=len(post))
            tf = np.fromiter(post.values(), dtype=np.float32, count=len(post))
            norm = self.k1 * ((1 - self.b) + self.b * self._lens[slots] / avg)
            slot_parts.append(slots)
            score_parts.append(idf * tf / (norm + tf))
        if len(slot_parts) == 1:
            live, sub = slot_parts[0], score_parts[0].astype(np.float32)
        else:
            live, where = np.unique(np.concatenate(slot_parts), return_inverse=True)
            sub = np.bincount(where, weights=np.concatenate(score_parts)).astype(np.float32)
        keep = sub > 0
        live, sub = live[keep], sub[keep]
        if not len(live):
            return []
        k = min(k, len(live))
        top = np.argpartition(-sub, k - 1)[:k] if k < len(sub) else np.arange(len(sub))
        top = top[np.lexsort((live[top], -sub[top]))]
        ids = self.ids
        return [(cast(str, ids[j]), x) for j, x in zip(live[top].tolist(), sub[top].tolist())]
