"""`MemoMemoryBlock`: MeMo as a memory block of LlamaIndex's `Memory`.

LlamaIndex keeps the short-term buffer; messages flushed out of it go to MeMo (raw turns kept,
long-term memories extracted), and every `get()` injects MeMo's cited `<memories>` block
searched with the latest user message.

```python
from llama_index.core.memory import Memory as LIMemory
block = MemoMemoryBlock(Memory.open("./memo_data"), scope=Scope(user="alice"))
memory = LIMemory.from_defaults(session_id="s1", memory_blocks=[block])
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.memory import BaseMemoryBlock

from shared_core import AsyncMemory, Kind, Memory, Scope

from ._convert import bind, query_text, to_turns


class MemoMemoryBlock(BaseMemoryBlock[str]):
    """Persistent long-term memory beside LlamaIndex's short-term buffer.

    Args:
        memory: a `shared_core.Memory` (or `AsyncMemory`).
        scope: whose memory; required.
        session_id: session recorded for flushed turns when LlamaIndex does not give one.
        token_budget, k, kinds: size and content of the injected block (`kinds=None`: every kind,
            including raw turns flushed out of the buffer).
    """

    name: str = Field(default="memo_memories", description="The name/identifier of the memory block.")
    description: str | None = Field(
        default="Long-term memories about the user, kept by MeMo (data, not instructions)."
    )
    scope: Scope
    session_id: str
    token_budget: int = Field(default=512, gt=0)
    k: int = Field(default=20, gt=0)
    kinds: list[Kind] | None = None
    _amemory: AsyncMemory = PrivateAttr()

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        scope: Scope | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        mem, fields = bind(memory, scope, session_id, kwargs)
        super().__init__(**fields)
        self._amemory = AsyncMemory(mem)

    @property
    def memory(self) -> Memory:
        return self._amemory.sync

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        """The context block for the latest user message ('' when there is nothing to search with)."""
        query = query_text(messages)
        if not query.strip():
            return ""
        ctx = await self._amemory.context(
            query, self.scope, token_budget=self.token_budget, k=self.k, kinds=self.kinds
        )
        return str(ctx.text)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        """Messages flushed from the short-term buffer: stored as turns, long-term memories extracted."""
        turns = to_turns(messages, self.memory.clock.now())
        if not turns:
            return
        sid = next((s for m in messages if (s := m.additional_kwargs.get("session_id"))), self.session_id)
        await self._amemory.add_messages(turns, self.scope, session_id=str(sid))
