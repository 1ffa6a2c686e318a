"""Embedders: the port, the default offline MiniLM, a hashing embedder for tests."""

from .base import Embedder, FunctionEmbedder
from .hashing import HashingEmbedder

__all__ = ["Embedder", "FunctionEmbedder", "HashingEmbedder", "default_embedder"]


def default_embedder() -> Embedder:
    """The default offline model (all-MiniLM-L6-v2, int8 ONNX). Loads lazily on first use."""
    from .onnx import MiniLMEmbedder

    return MiniLMEmbedder()
