"""Use LangChain models inside MeMo: an `Embeddings` as the embedder, a chat model as the LLM extractor.

```python
mem = Memory.open("./memo_data", embedder=embedder_from_langchain(OpenAIEmbeddings()),
                  extractor=extractor_from_chat_model(ChatOpenAI(model="gpt-4o-mini")))
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from shared_core.embed.base import Embedder, FunctionEmbedder
from shared_core.extract.llm import LLMExtractor

__all__ = ["chat_callable", "embedder_from_langchain", "extractor_from_chat_model"]

_MESSAGE: dict[str, Callable[[str], BaseMessage]] = {
    "system": SystemMessage,
    "assistant": AIMessage,
    "user": HumanMessage,
}


def embedder_from_langchain(
    embeddings: Embeddings, *, dim: int | None = None, name: str | None = None
) -> Embedder:
    """MeMo's embedder port over `embeddings.embed_documents` (used for memories and queries alike).

    `dim` is probed with one call when not given. `name` (stored with the index: reopening a store with
    another model is refused) defaults to the class name plus its `model`/`model_name` attribute.
    """
    if dim is None:
        dim = len(embeddings.embed_documents(["dimension probe"])[0])
    if name is None:
        model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
        name = type(embeddings).__name__ + (f"-{model}" if model else "")
    return FunctionEmbedder(embeddings.embed_documents, dim=dim, name=name)


def chat_callable(model: BaseChatModel) -> Callable[[list[dict[str, str]]], str]:
    """`[{"role", "content"}] -> str` over `model.invoke` (the LLM port the core's extractor calls)."""

    def chat(messages: list[dict[str, str]]) -> str:
        lc = [_MESSAGE.get(m.get("role", "user"), HumanMessage)(m["content"]) for m in messages]
        return str(model.invoke(lc).text)

    return chat


def extractor_from_chat_model(model: BaseChatModel, **kwargs: Any) -> LLMExtractor:
    """The core's LLM extractor, asking `model` for memories (`kwargs`: fallback, max_retries, name...)."""
    return LLMExtractor(chat_callable(model), **kwargs)
