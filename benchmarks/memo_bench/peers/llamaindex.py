"""`llamaindex`: LlamaIndex's current `Memory` with its `VectorMemoryBlock` on Chroma.

Turns are put session by session (`put_messages`); the Memory's FIFO flushes the oldest messages to
the vector block in batches of `token_flush_size` tokens, and the block stores one node per batch
(that is how the block works). After the last session the rest of the FIFO is flushed the same way,
so every turn is searchable. A question is answered by the block's own `aget` (the call Memory
makes), with `similarity_top_k` set to the depth asked for; each retrieved node is one item crediting
the turns it holds (at most 3, by the harness's rule).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared_core.tokens import count_tokens

from ..locomo import LocomoConversation
from ..systems import Item, Progress, RankedSystem
from ._common import chroma_client, line_index
from .embeddings import llamaindex_embedding

TOKEN_LIMIT = 1000
CHAT_HISTORY_TOKEN_RATIO = 0.7
TOKEN_FLUSH_SIZE = 100
_MESSAGE = re.compile(r"<message role='[a-z]+'>(.*?)</message>", re.DOTALL)
_NODE_BREAK = re.compile(r"(?<=</message>)\n\n(?=<message role=)")


class LlamaIndexSystem(RankedSystem):
    name = "llamaindex"

    def __init__(self, path: Path, embedder: Any) -> None:
        super().__init__()
        from llama_index.core.memory import VectorMemoryBlock
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.client = chroma_client(path)
        collection = self.client.get_or_create_collection(
            "llamaindex", configuration={"hnsw": {"space": "cosine"}}
        )
        self.block = VectorMemoryBlock(
            name="retrieved_messages",
            vector_store=ChromaVectorStore(chroma_collection=collection),
            embed_model=llamaindex_embedding(embedder),
            similarity_top_k=2,
        )
        self.memory: Any = None
        self.session_id = ""
        self._ids: dict[str, list[str]] = {}

    def ingest(self, conversation: LocomoConversation, progress: Progress | None = None) -> None:
        from llama_index.core.async_utils import asyncio_run
        from llama_index.core.llms import ChatMessage
        from llama_index.core.memory import Memory

        self._ids = line_index(conversation)
        self.session_id = f"{conversation.sample_id}-{uuid.uuid4().hex[:8]}"
        self.memory = Memory.from_defaults(
            session_id=self.session_id,
            token_limit=TOKEN_LIMIT,
            chat_history_token_ratio=CHAT_HISTORY_TOKEN_RATIO,
            token_flush_size=TOKEN_FLUSH_SIZE,
            memory_blocks=[self.block],
        )
        for session in conversation.sessions:
            self.memory.put_messages([ChatMessage(role="user", content=t.line) for t in session.turns])
            if progress:
                progress(len(session.turns))
        asyncio_run(self._flush_rest())

    async def _flush_rest(self) -> None:
        """Waterfall what is still in the FIFO to the block, in flush-size batches, as Memory does."""
        from llama_index.core.storage.chat_store.sql import MessageStatus

        store = self.memory.sql_store
        rest = await store.get_messages(self.session_id, status=MessageStatus.ACTIVE)
        batch: list[Any] = []
        tokens = 0
        for i, msg in enumerate(rest):
            batch.append(msg)
            tokens += count_tokens(msg.content or "")
            if tokens >= TOKEN_FLUSH_SIZE or i == len(rest) - 1:
                await store.archive_oldest_messages(self.session_id, n=len(batch))
                await self.block.aput(batch, from_short_term_memory=True, session_id=self.session_id)
                batch, tokens = [], 0

    def rank(self, question: str, depth: int) -> list[Item]:
        from llama_index.core.async_utils import asyncio_run
        from llama_index.core.llms import ChatMessage

        self.block.similarity_top_k = depth
        text = asyncio_run(
            self.block.aget([ChatMessage(role="user", content=question)], session_id=self.session_id)
        )
        if not text:
            return []
        items = []
        for node in _NODE_BREAK.split(text):
            ids: list[str] = []
            for line in _MESSAGE.findall(node):
                for dia in self._ids.get(line, ()):
                    if dia not in ids:
                        ids.append(dia)
            items.append(Item(node, tuple(ids)))
        return items

    def close(self) -> None:
        super().close()
        self.client.clear_system_cache()


def make(embedder: Any) -> tuple[Callable[[Path], LlamaIndexSystem], dict[str, Any]]:
    import importlib.metadata as md

    cfg = {
        "versions": {
            p: md.version(p) for p in ("llama-index-core", "llama-index-vector-stores-chroma", "chromadb")
        },
        "memory": {
            "token_limit": TOKEN_LIMIT,
            "chat_history_token_ratio": CHAT_HISTORY_TOKEN_RATIO,
            "token_flush_size": TOKEN_FLUSH_SIZE,
        },
        "message": "ChatMessage(role='user', content='Speaker: text [image: caption]')",
        "retrieval": "VectorMemoryBlock.aget(question), similarity_top_k = depth; one item per node",
        "timestamps": "not supported by ChatMessage / VectorMemoryBlock",
    }
    return (lambda path: LlamaIndexSystem(path, embedder)), cfg


class LlamaIndexScale:
    """Scale adapter: one `Memory` per user (session_id = user) over one shared Chroma collection;
    the VectorMemoryBlock filters on the session id. Memories are put as user messages and flushed to
    the block like the LoCoMo system does."""

    name = "llamaindex"
    persistent = True

    def __init__(self, path: Path, embedder: Any) -> None:
        self.inner = LlamaIndexSystem(path, embedder)
        self.sessions: set[str] = set()

    def add(self, user: str, memories: Any) -> None:
        from llama_index.core.async_utils import asyncio_run
        from llama_index.core.llms import ChatMessage
        from llama_index.core.memory import Memory

        inner = self.inner
        inner.session_id = user
        inner.memory = Memory.from_defaults(
            session_id=user,
            token_limit=TOKEN_LIMIT,
            chat_history_token_ratio=CHAT_HISTORY_TOKEN_RATIO,
            token_flush_size=TOKEN_FLUSH_SIZE,
            memory_blocks=[inner.block],
        )
        for m in memories:
            inner.memory.put(ChatMessage(role="user", content=m.text))
        asyncio_run(inner._flush_rest())
        self.sessions.add(user)

    def search(self, user: str, query: str, k: int) -> list[str]:
        from llama_index.core.async_utils import asyncio_run
        from llama_index.core.llms import ChatMessage

        block = self.inner.block
        block.similarity_top_k = k
        # VectorMemoryBlock keeps the first session's filter in `query_kwargs` and never replaces it
        # (llama-index-core 0.14.25): one block serving many sessions would search the first one only.
        block.query_kwargs = {}
        text = asyncio_run(block.aget([ChatMessage(role="user", content=query)], session_id=user))
        return _NODE_BREAK.split(text) if text else []

    def close(self) -> None:
        self.inner.close()


def make_scale(path: Path, embedder: Any) -> LlamaIndexScale:
    return LlamaIndexScale(path, embedder)
