"""`MemoMemoryBlock`: MeMo as a memory block of LlamaIndex's `Memory`.

LlamaIndex keeps the short-term buffer. With its defaults, `Memory` hands messages to blocks only
when they are flushed out of ~21,000 tokens of active history, so a block that waited for flushes
would store nothing in ordinary sessions. This block also stores, at every `get()`, the messages of
the active history it has not stored yet (`store_active=True`, the default), so every turn reaches
MeMo; each `get()` then injects MeMo's cited `<memories>` block searched with the latest user message.

```python
from llama_index.core.memory import Memory as LIMemory
memory = LIMemory.from_defaults(session_id="s1", memory_blocks=[MemoMemoryBlock(Memory.open("./memo_data"), scope=Scope(user="alice"))])
```
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.memory import BaseMemoryBlock

from shared_core import AsyncMemory, InvalidInput, Kind, Memory, PolicyViolation, Scope

from ._convert import as_scope, describe, log, query_text, session_id_for, to_turn
from ._recall import recall
from ._store import StoreRef, resolve


def _keys(messages: list[ChatMessage], session_id: str) -> list[str]:
    """A stable id per message of a session: its role, text and which repeat of that text it is."""
    seen: dict[str, int] = {}
    out = []
    for m in messages:
        base = f"{session_id}\x1f{m.role}\x1f{describe(m)}"
        seen[base] = seen.get(base, 0) + 1
        out.append(
            "lib-" + hashlib.sha1(f"{base}\x1f{seen[base]}".encode("utf-8", "replace")).hexdigest()[:32]
        )
    return out


class MemoMemoryBlock(BaseMemoryBlock[str]):
    """Persistent long-term memory beside LlamaIndex's short-term buffer.

    Args:
        memory: a `shared_core.Memory` (or `AsyncMemory`); or `store=` (where it lives, as data).
        scope: whose memory; required.
        session_id: session recorded for turns when LlamaIndex does not give one.
        store_active: store the active history's messages as the block sees them (see above).
        token_budget, k, kinds: size and content of the injected block (`kinds=None`: every kind,
            raw turns of other sessions included).
    """

    name: str = Field(default="memo_memories", description="The name/identifier of the memory block.")
    description: str | None = Field(
        default="Long-term memories about the user, kept by MeMo (data, not instructions)."
    )
    scope: Scope
    session_id: str
    store: StoreRef
    store_active: bool = True
    token_budget: int = Field(default=512, gt=0)
    k: int = Field(default=20, gt=0)
    kinds: list[Kind] | None = None
    _amemory: AsyncMemory = PrivateAttr()
    _stored: set[str] = PrivateAttr(default_factory=set)

    def __init__(
        self,
        memory: Memory | AsyncMemory | None = None,
        scope: Scope | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        *,
        store: StoreRef | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        _, ref = resolve(memory, dict(store) if isinstance(store, Mapping) else store)
        sc = as_scope(scope)
        fields: dict[str, Any] = {"scope": sc, "session_id": session_id_for(sc, session_id), "store": ref}
        super().__init__(**fields, **kwargs)

    def model_post_init(self, context: Any) -> None:  # also runs for model_validate(data): reconnect
        self._amemory = AsyncMemory(self.store.connect())

    def __getstate__(self) -> dict[str, Any]:  # a pickle holds the configuration, never the handle
        return {"data": self.model_dump(mode="json")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["data"])  # type: ignore[misc]

    @property
    def memory(self) -> Memory:
        return self._amemory.sync

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        """The context block for the latest user message ('' when there is nothing to search with)."""
        msgs = list(messages or [])
        if (
            msgs
            and msgs[-1].role == MessageRole.USER
            and any(m.role == MessageRole.USER and m.content == msgs[-1].content for m in msgs[:-1])
        ):
            msgs = msgs[:-1]  # the query LlamaIndex appended (`get(input=...)`), not a new turn
        sid = str(block_kwargs.get("session_id") or self.session_id)
        keys = _keys(msgs, sid)
        if self.store_active:
            await self._store(msgs, keys, sid)
        query = query_text(messages)
        if not query.strip():
            return ""
        ctx = await asyncio.to_thread(
            recall,
            self.memory,
            query,
            self.scope,
            budget=self.token_budget,
            k=self.k,
            kinds=self.kinds,
            exclude=set(keys),
        )
        return "" if ctx is None else ctx.text

    async def _aput(self, messages: list[ChatMessage]) -> None:
        """Messages flushed from the short-term buffer: those not stored yet are stored now."""
        sid = next((s for m in messages if (s := m.additional_kwargs.get("session_id"))), self.session_id)
        await self._store(messages, _keys(messages, str(sid)), str(sid))

    async def _store(self, messages: list[ChatMessage], keys: list[str], sid: str) -> None:
        """One MeMo write for the messages not stored yet; one that MeMo refuses is logged, never
        allowed to lose the others (LlamaIndex has already archived flushed messages)."""
        now = self.memory.clock.now()
        todo = [
            (key, to_turn(m, now + timedelta(microseconds=i), key))
            for i, (m, key) in enumerate(zip(messages, keys))
            if key not in self._stored
        ]
        if not todo:
            return
        batches = [todo] if len(todo) == 1 else [todo, *([kt] for kt in todo)]
        for batch in batches:
            try:
                await self._amemory.add_messages([t for _, t in batch], self.scope, session_id=sid)
                self._stored.update(k for k, _ in batch)
                if batch is todo:
                    return
            except (InvalidInput, PolicyViolation) as exc:
                if len(batch) == 1:
                    log.warning("MeMo refused a message (%s); it is not stored", exc)
