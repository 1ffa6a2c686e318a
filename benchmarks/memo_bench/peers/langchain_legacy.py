"""`langchain-legacy`: langchain-classic's VectorStoreRetrieverMemory over langchain-chroma.

Each turn is one `save_context({speaker: content}, {})`, which the memory stores as the document
`"Speaker: content"`; retrieval is the memory's own `load_memory_variables` (its retriever's
similarity search). The legacy memory keeps no timestamps and no metadata, so documents are mapped
back to turns by their text.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..locomo import LocomoConversation
from ..systems import Item, Progress, RankedSystem
from ._common import chroma_client, line_index
from .embeddings import langchain_embeddings


class LangChainLegacySystem(RankedSystem):
    name = "langchain-legacy"

    def __init__(self, path: Path, embedder: Any) -> None:
        super().__init__()
        from langchain_chroma import Chroma
        from langchain_classic.memory import VectorStoreRetrieverMemory

        self.client = chroma_client(path)
        self.store = Chroma(
            collection_name="langchain-legacy",
            embedding_function=langchain_embeddings(embedder),
            client=self.client,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.memory = VectorStoreRetrieverMemory(
                retriever=self.store.as_retriever(search_kwargs={"k": 4}),
                memory_key="history",
                input_key="input",
                return_docs=True,
            )
        self._ids: dict[str, list[str]] = {}

    def ingest(self, conversation: LocomoConversation, progress: Progress | None = None) -> None:
        self._ids = line_index(conversation)
        for session in conversation.sessions:
            for t in session.turns:
                self.memory.save_context({t.speaker: t.content}, {})
            if progress:
                progress(len(session.turns))

    def rank(self, question: str, depth: int) -> list[Item]:
        self.memory.retriever.search_kwargs["k"] = depth
        docs = self.memory.load_memory_variables({"input": question})["history"]
        return [Item(d.page_content, tuple(self._ids.get(d.page_content, ()))) for d in docs]

    def close(self) -> None:
        super().close()
        self.client.clear_system_cache()


def make(embedder: Any) -> tuple[Callable[[Path], LangChainLegacySystem], dict[str, Any]]:
    import importlib.metadata as md

    cfg = {
        "versions": {
            p: md.version(p) for p in ("langchain-classic", "langchain-core", "langchain-chroma", "chromadb")
        },
        "document": "save_context({speaker: content}, {}) -> 'Speaker: content'",
        "retrieval": "load_memory_variables (retriever similarity search, k set per query)",
        "timestamps": "not supported by the legacy memory",
    }
    return (lambda path: LangChainLegacySystem(path, embedder)), cfg


class LangChainLegacyScale:
    """Scale adapter: one VectorStoreRetrieverMemory (one Chroma collection) per user, as the legacy
    memory has no notion of users; one `save_context` per memory."""

    name = "langchain-legacy"
    persistent = True

    def __init__(self, path: Path, embedder: Any) -> None:
        self.client = chroma_client(path)
        self.embeddings = langchain_embeddings(embedder)
        self.memories: dict[str, Any] = {}

    def _memory(self, user: str) -> Any:
        if user not in self.memories:
            from langchain_chroma import Chroma
            from langchain_classic.memory import VectorStoreRetrieverMemory

            store = Chroma(
                collection_name=f"lc-{user}", embedding_function=self.embeddings, client=self.client
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self.memories[user] = VectorStoreRetrieverMemory(
                    retriever=store.as_retriever(search_kwargs={"k": 10}), input_key="input", return_docs=True
                )
        return self.memories[user]

    def add(self, user: str, memories: Any) -> None:
        memory = self._memory(user)
        for m in memories:
            memory.save_context({"memory": m.text}, {})

    def search(self, user: str, query: str, k: int) -> list[str]:
        memory = self._memory(user)
        memory.retriever.search_kwargs["k"] = k
        docs = memory.load_memory_variables({"input": query})["history"]
        return [d.page_content.split(": ", 1)[-1] for d in docs]

    def close(self) -> None:
        self.memories.clear()
        self.client.clear_system_cache()


def make_scale(path: Path, embedder: Any) -> LangChainLegacyScale:
    return LangChainLegacyScale(path, embedder)
