# Brought from LlamaIndex's own tests: llama-index-core/tests/memory/blocks/test_vector.py
# (run-llama/llama_index, commit 312cdfb6a3596a8fe194a32126d6f54f9c26d840; run here against the installed llama-index-core 0.14.25)
# and run twice, with the built-in class and with MeMo's in its place (see conftest.py).
# MeMo's MemoMemoryBlock takes VectorMemoryBlock's place (both recall stored messages by similarity).
# Not brought: test_vector_memory_block_put (reads VectorMemoryBlock.vector_store's nodes), and the
# tests of VectorMemoryBlock-only parameters (retrieval_context_window, node_postprocessors, format_template).
# Changes: the class under test comes from the `impl` fixture; other edits are marked "# MeMo:".
#
# The MIT License
#
# Copyright (c) Jerry Liu
#
# Permission is hereby granted, free of charge, to any person obtaining a copy
# of this software and associated documentation files (the "Software"), to deal
# in the Software without restriction, including without limitation the rights
# to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
# copies of the Software, and to permit persons to whom the Software is
# furnished to do so, subject to the following conditions:
#
# The above copyright notice and this permission notice shall be included in
# all copies or substantial portions of the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
# AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
# LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
# THE SOFTWARE.

"""Upstream `VectorMemoryBlock` tests; MeMo's `MemoMemoryBlock` takes its place in the memo run."""

from collections.abc import Sequence
from typing import Any

import pytest
from li_upstream_support import SCOPE, Impl, excused
from llama_index.core.base.llms.types import ChatMessage, TextBlock
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.memory.memory_blocks.vector import VectorMemoryBlock
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    VectorStoreQuery,
    VectorStoreQueryResult,
)

from llamaindex_memo import MemoMemoryBlock
from shared_core import Kind


class MockVectorStore(BasePydanticVectorStore):
    """Mock vector store for testing."""

    stores_text: bool = True
    is_embedding_query: bool = True

    def __init__(self):
        super().__init__()
        self._nodes = {}

    @property
    def client(self) -> Any:
        return self

    @property
    def nodes(self) -> dict[str, BaseNode]:
        return self._nodes

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Add nodes to vector store."""
        ids = []
        for node in nodes:
            self._nodes[node.id_] = node
            ids.append(node.id_)
        return ids

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Async add nodes to vector store."""
        return self.add(nodes, **kwargs)

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete nodes with ref_doc_id."""
        for node_id in list(self._nodes.keys()):
            if self._nodes[node_id].ref_doc_id == ref_doc_id:
                del self._nodes[node_id]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Query vector store."""
        # For simplicity, return all nodes
        nodes = list(self._nodes.values())
        if query.similarity_top_k and len(nodes) > query.similarity_top_k:
            nodes = nodes[: query.similarity_top_k]

        # Simulate similarity scores
        similarities = [0.9 - 0.1 * i for i in range(len(nodes))]
        ids = [node.id_ for node in nodes]

        return VectorStoreQueryResult(nodes=nodes, similarities=similarities, ids=ids)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Async query vector store."""
        return self.query(query, **kwargs)


@pytest.fixture
def mock_embedding():
    """Create a mock embedding model."""
    return MockEmbedding(embed_dim=10)


@pytest.fixture
def mock_vector_store():
    """Create a mock vector store."""
    return MockVectorStore()


@pytest.fixture
def vector_memory_block(impl, mock_vector_store, mock_embedding):
    """Create a vector memory block."""
    if impl.name == "memo":  # MeMo: the block from `impl` (every kind recalled, raw turns included)
        return MemoMemoryBlock(impl.semantic_mem, scope=SCOPE, k=2, kinds=None)
    return VectorMemoryBlock(
        vector_store=mock_vector_store,
        embed_model=mock_embedding,
        similarity_top_k=2,
    )


def stored(impl: Impl, block: Any) -> int:
    """MeMo: how many items the block stored (the vector store's nodes, or MeMo's turns)."""
    if impl.name == "memo":
        return len(impl.semantic_mem.records(SCOPE, kinds=[Kind.EPISODE]))
    return len(block.vector_store.nodes)


def create_chat_message(role: str, content: str) -> ChatMessage:
    """Helper to create a chat message."""
    return ChatMessage(role=role, content=None, blocks=[TextBlock(text=content)])


@pytest.mark.asyncio
async def test_vector_memory_block_get(vector_memory_block):
    """Test getting messages from the vector memory block."""
    # Create and store some messages
    history_messages = [
        create_chat_message("user", "What's the capital of France?"),
        create_chat_message("assistant", "The capital of France is Paris."),
        create_chat_message("user", "What about Germany?"),
        create_chat_message("assistant", "The capital of Germany is Berlin."),
    ]

    await vector_memory_block.aput(messages=history_messages)

    # Create a new query
    query_messages = [create_chat_message("user", "Tell me about Paris.")]

    # Get relevant information
    result = await vector_memory_block.aget(messages=query_messages)

    # Check that we got a result
    assert result != ""
    assert "capital of France is Paris" in result


@pytest.mark.asyncio
async def test_empty_messages(impl, vector_memory_block):
    """Test with empty messages."""
    # Test empty get
    result = await vector_memory_block.aget(messages=[])
    assert result == ""

    # Test empty put
    await vector_memory_block.aput(messages=[])
    assert stored(impl, vector_memory_block) == 0  # MeMo: `stored` instead of vector_store.nodes


@pytest.mark.asyncio
async def test_message_without_text(impl, vector_memory_block):
    """Test with a message that has no text blocks."""
    excused(impl, "MeMo keeps every message LlamaIndex accepts, an empty one too (it round-trips)")
    # Create a message with no text blocks
    message = ChatMessage(role="user", content=None, blocks=[])

    # Put the message in memory
    await vector_memory_block.aput(messages=[message])

    # Check that nothing was added
    assert stored(impl, vector_memory_block) == 0  # MeMo: `stored` instead of vector_store.nodes
