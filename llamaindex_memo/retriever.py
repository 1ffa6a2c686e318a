"""`MemoRetriever`: MeMo search as a LlamaIndex retriever (query engines, pipelines, agents).

Each `NodeWithScore` is one memory: `node.id_` is the memory id, `score` is MeMo's score in
[0, 1], and `node.metadata` carries the provenance (session, source message ids, turn times,
speaker, extractor, origin). The LLM sees only kind, date and session of each node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from shared_core import AsyncMemory, Kind, Memory, Scope
from shared_core.models import Hit

from ._convert import as_scope, to_node
from ._store import as_memory


class MemoRetriever(BaseRetriever):
    """Retrieve the `k` best memories of a scope (within `token_budget` tokens, if given)."""

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        scope: Scope | Mapping[str, Any] | None = None,
        *,
        k: int = 10,
        token_budget: int | None = None,
        kinds: Sequence[Kind | str] | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        super().__init__(callback_manager=callback_manager)
        self._amemory = AsyncMemory(as_memory(memory))
        self.scope = as_scope(scope)
        self.k = k
        self.token_budget = token_budget
        self.kinds = list(kinds) if kinds else None

    @property
    def memory(self) -> Memory:
        return self._amemory.sync

    def _kwargs(self) -> dict[str, Any]:
        return {"k": self.k, "token_budget": self.token_budget, "kinds": self.kinds}

    def _nodes(self, hits: list[Hit]) -> list[NodeWithScore]:
        if hits:  # reported as used: core's batched use reinforcement
            self.memory.record_use([h.id for h in hits], scope=self.scope)
        return [to_node(h) for h in hits]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._nodes(self.memory.search(query_bundle.query_str, self.scope, **self._kwargs()))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._nodes(await self._amemory.search(query_bundle.query_str, self.scope, **self._kwargs()))
