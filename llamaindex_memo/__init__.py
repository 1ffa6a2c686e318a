"""MeMo for LlamaIndex: persistent, governed memory for chat engines, agents and query pipelines.

- `MemoMemory`: a `BaseMemory` for `SimpleChatEngine`, `ContextChatEngine`,
  `CondensePlusContextChatEngine` and agents (`memory=`).
- `MemoMemoryBlock`: long-term memory block for LlamaIndex's `Memory.from_defaults(memory_blocks=[...])`.
- `MemoRetriever`: MeMo search as a `BaseRetriever` (provenance in node metadata).
- `memory_tools`: search / save / forget `FunctionTool`s for agents.
- `embedder_from_llamaindex`, `extractor_from_llm`: LlamaIndex models behind MeMo's ports.
"""

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # the extra is missing: say how to get it
    raise ImportError('llamaindex_memo needs LlamaIndex: pip install "memo-memory[llamaindex]"') from exc

from ._store import StoreRef
from .block import MemoMemoryBlock
from .chat_memory import LONG_TERM_KINDS, MemoMemory
from .models import embedder_from_llamaindex, extractor_from_llm
from .retriever import MemoRetriever
from .tools import memory_tools

__all__ = [
    "LONG_TERM_KINDS",
    "MemoMemory",
    "MemoMemoryBlock",
    "MemoRetriever",
    "StoreRef",
    "embedder_from_llamaindex",
    "extractor_from_llm",
    "memory_tools",
]
