"""The lexical (BM25) index, kept in step with the store.

Local Chroma has no full-text ranking, so MeMo ranks words with `bm25s`. An index covers one
read scope; `search_index.py` keeps it, with the scope's vectors, and rebuilds it when the
scope's revision token changes, so a process sees what another process wrote (server mode)
without any extra service.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

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
    """Cached: an index is rebuilt after every write to its scope, and most of its texts are unchanged."""
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


class LexicalIndex:
    """BM25 over a fixed corpus of (id, text)."""

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        import bm25s

        self.ids = [d[0] for d in docs]
        tokens = [tokenize(t) or ["\x00"] for _, t in docs]
        self._bm25 = bm25s.BM25()
        if docs:
            self._bm25.index(tokens, show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        terms = tokenize(query)
        if not self.ids or not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float32)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
