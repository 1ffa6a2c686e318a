"""MeMo for LangChain and LangGraph: one thin adapter per integration style, all over `shared_core.Memory`.

| style                                   | adapter                                                |
|-----------------------------------------|--------------------------------------------------------|
| `langchain.agents.create_agent`         | `MemoMiddleware`, `create_memory_tools`                |
| `RunnableWithMessageHistory`            | `MemoChatMessageHistory`                               |
| retrieval (RAG over memories)           | `MemoRetriever`                                        |
| classic chains (`ConversationChain`)    | `MemoConversationMemory`                               |
| LangGraph long-term store               | `MemoStore`                                            |
| LangChain models inside MeMo            | `embedder_from_langchain`, `extractor_from_chat_model` |

Needs the `langchain` extra: `pip install "memo-memory[langchain]"`.
"""

try:  # the `langchain` extra; without it, say how to get it instead of a bare ModuleNotFoundError
    import langchain.agents  # noqa: F401
    import langchain_classic  # noqa: F401
    import langchain_core  # noqa: F401
    import langgraph.store.base  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f'langchain_memo needs the LangChain extra ({exc.name} is missing): pip install "memo-memory[langchain]"'
    ) from exc

from .history import MemoChatMessageHistory
from .legacy import MemoConversationMemory
from .middleware import MemoMiddleware, create_memory_tools
from .models import chat_callable, embedder_from_langchain, extractor_from_chat_model
from .retriever import MemoRetriever
from .store import MemoStore

__all__ = [
    "MemoChatMessageHistory",
    "MemoConversationMemory",
    "MemoMiddleware",
    "MemoRetriever",
    "MemoStore",
    "chat_callable",
    "create_memory_tools",
    "embedder_from_langchain",
    "extractor_from_chat_model",
]


def __getattr__(name: str) -> object:
    if name == "MemoMemory":  # the name in 0.1: one name per thing (LlamaIndex's is `MemoMemory`)
        import warnings

        warnings.warn(
            "langchain_memo.MemoMemory is now MemoConversationMemory", DeprecationWarning, stacklevel=2
        )
        return MemoConversationMemory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
