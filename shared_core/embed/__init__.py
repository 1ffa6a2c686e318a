"""Embedders: the port, the default offline MiniLM, a hashing embedder for tests."""

from .base import Embedder, FunctionEmbedder
from .hashing import HashingEmbedder

__all__ = ["Embedder", "FunctionEmbedder", "HashingEmbedder", "default_embedder", "embedder_by_name"]


def default_embedder() -> Embedder:
    """The default offline model (all-MiniLM-L6-v2, int8 ONNX). Loads lazily on first use."""
    from .onnx import MiniLMEmbedder

    return MiniLMEmbedder()


def embedder_by_name(name: str | None) -> Embedder:
    """A built-in embedder from the name a store recorded (`hashing-256`, the MiniLM name); default otherwise."""
    if name and name.startswith("hashing-") and name[8:].isdigit():
        return HashingEmbedder(dim=int(name[8:]))
    return default_embedder()
