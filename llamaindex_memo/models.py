"""LlamaIndex models plugged into MeMo's ports: an embedding model as MeMo's `Embedder`,
an LLM as the chat callable of MeMo's `LLMExtractor`.

```python
mem = Memory.open("./memo_data", embedder=embedder_from_llamaindex(embed_model),
                  extractor=extractor_from_llm(llm))
```
Neither reads LlamaIndex's global `Settings`: pass the models explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms.llm import LLM

from shared_core._boundary import translate
from shared_core.embed.base import Embedder, FunctionEmbedder
from shared_core.extract.llm import LLMExtractor


def embedder_from_llamaindex(
    embed_model: BaseEmbedding, *, dim: int | None = None, name: str | None = None
) -> Embedder:
    """Wrap a LlamaIndex embedding model; its errors surface as `EmbeddingError`.

    `dim` is probed with one embedding when not given. `name` is recorded in the store, so keep it
    stable for a store (default: class and model name). Queries and memories are embedded alike
    (`get_text_embedding_batch`): MeMo's embedder port has no query/document distinction.
    """

    def embed(texts: list[str]) -> Sequence[Sequence[float]]:
        with translate("embedding", type(embed_model).__name__):
            return embed_model.get_text_embedding_batch(texts)

    if dim is None:
        dim = len(embed(["dimension probe"])[0])
    return FunctionEmbedder(
        embed, dim, name or f"llamaindex:{type(embed_model).__name__}:{embed_model.model_name}"
    )


def extractor_from_llm(llm: LLM, **kwargs: Any) -> LLMExtractor:
    """MeMo's LLM extractor calling `llm.chat` (dict messages -> ChatMessage, reply text back).

    `kwargs` go to `LLMExtractor` (`fallback`, `max_retries`, `name`, `version`). A failing or
    unparseable model falls back to the rule extractor unless `fallback=None`.
    """

    def chat(messages: list[dict[str, str]]) -> str:
        reply = llm.chat([ChatMessage(role=MessageRole(m["role"]), content=m["content"]) for m in messages])
        return reply.message.content or ""

    kwargs.setdefault("name", f"llamaindex:{llm.metadata.model_name}")
    return LLMExtractor(chat, **kwargs)
