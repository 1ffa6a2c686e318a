"""The shared MeMo embedder wrapped for LangChain and LlamaIndex, so every peer embeds alike."""

from __future__ import annotations

from typing import Any

from shared_core.embed.base import Embedder


def langchain_embeddings(embedder: Embedder) -> Any:
    from langchain_core.embeddings import Embeddings

    class MemoLangChainEmbeddings(Embeddings):
        def __init__(self, inner: Embedder) -> None:
            self.inner = inner

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.inner.embed(list(texts)).tolist()

        def embed_query(self, text: str) -> list[float]:
            return self.inner.embed([text])[0].tolist()

    return MemoLangChainEmbeddings(embedder)


def llamaindex_embedding(embedder: Embedder) -> Any:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class MemoLlamaIndexEmbedding(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, inner: Embedder, **kwargs: Any) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=32, **kwargs)
            self._inner = inner

        @classmethod
        def class_name(cls) -> str:
            return "MemoLlamaIndexEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._inner.embed(list(texts)).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return MemoLlamaIndexEmbedding(embedder)
