"""The embedder port. Vectors are L2-normalised float32 rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .._boundary import translate
from ..errors import EmbeddingError

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts into an (n, dim) float32 array of unit vectors."""
        ...


@runtime_checkable
class QueryEmbedder(Embedder, Protocol):
    """An asymmetric embedder (E5): a question is embedded otherwise than a stored text. Without
    `embed_queries`, an embedder embeds both alike. An embedder may also declare `cosine_floor`,
    the cosine unrelated texts get (0 when absent; see `search.score.similarities`)."""

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions into an (n, dim) float32 array of unit vectors."""
        ...


def embed_with_queries(embedder: Embedder, texts: Sequence[str], queries: Sequence[str] = ()) -> Vectors:
    """Vectors of `texts` (stored texts) then of `queries`: one embedder call for a symmetric
    embedder, one per side for an asymmetric one."""
    if not isinstance(embedder, QueryEmbedder):
        return embedder.embed([*texts, *queries])
    parts = [
        embedder.embed(list(texts)) if texts else None,
        embedder.embed_queries(list(queries)) if queries else None,
    ]
    rows = [p for p in parts if p is not None]
    return np.concatenate(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)


def cosine_floor(embedder: object) -> float:
    """The cosine an embedder gives unrelated texts (its `cosine_floor`, 0 by default)."""
    floor = float(getattr(embedder, "cosine_floor", 0.0) or 0.0)
    return floor if 0.0 <= floor < 1.0 else 0.0


def normalise(rows: npt.ArrayLike) -> Vectors:
    arr = np.asarray(rows, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: Vectors = (arr / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


class FunctionEmbedder:
    """Wraps any `texts -> vectors` callable (the adapters use it for LangChain / LlamaIndex models)."""

    def __init__(self, fn: Callable[[list[str]], Sequence[Sequence[float]]], dim: int, name: str) -> None:
        self._fn = fn
        self.dim = dim
        self.name = name

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with translate("embedding", self.name):
            rows = normalise(self._fn(list(texts)))
        if rows.shape != (len(texts), self.dim):
            raise EmbeddingError(
                f"{self.name} returned shape {rows.shape}, expected ({len(texts)}, {self.dim})"
            )
        return rows
