"""`MemoRetriever`: a LangChain retriever over one scope's memories.

```python
retriever = MemoRetriever(memory=mem, scope=Scope(tenant="acme", user="alice"), k=5)
docs = retriever.invoke("where does alice live?", k=3)   # k per call overrides the constructor's
docs[0].metadata  # {"id", "score", "kind", "created_at", "valid_from", "provenance": {...}}
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from shared_core import AsyncMemory, Kind, Memory, Scope, validate

from ._convert import sync_memory, to_document

__all__ = ["MemoRetriever"]


class MemoRetriever(BaseRetriever):
    """Documents are memories, best first, with `score` and `provenance` in their metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory
    scope: Scope
    k: int = 4
    token_budget: int | None = None
    kinds: Sequence[Kind | str] | None = None

    def __init__(self, **data: Any) -> None:  # bad input raises a MemoError, not a pydantic error
        data["memory"] = sync_memory(data.get("memory"))  # type: ignore[arg-type]
        data["scope"] = validate.scope(data.get("scope"))
        super().__init__(**data)

    def _args(self, k: int | None) -> dict[str, Any]:
        return {"k": self.k if k is None else k, "token_budget": self.token_budget, "kinds": self.kinds}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return [to_document(h) for h in self.memory.search(query, self.scope, **self._args(k))]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        hits = await AsyncMemory(self.memory).search(query, self.scope, **self._args(k))
        return [to_document(h) for h in hits]
