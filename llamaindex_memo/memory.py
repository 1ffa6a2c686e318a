"""`MemoMemory`: a LlamaIndex `BaseMemory` backed by MeMo.

Short-term memory is the session's raw turns (stored by MeMo, so it survives a restart);
long-term memory is what MeMo extracted from every session of the scope. `get()` returns
both: one system message holding the cited, token-budgeted `<memories>` block, then the
session's recent turns.

```python
from shared_core import Memory, Scope
from llamaindex_memo import MemoMemory

memory = MemoMemory(Memory.open("./memo_data"), scope=Scope(user="alice"), session_id="s1")
engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory)
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.types import BaseMemory

from shared_core import AsyncMemory, InvalidInput, Kind, Memory, Scope, validate

from ._convert import (
    bind,
    query_text,
    system_message,
    to_message,
    to_turn,
    to_turns,
)

LONG_TERM_KINDS: tuple[Kind, ...] = (Kind.FACT, Kind.PREFERENCE, Kind.EVENT, Kind.COMMITMENT)


class MemoMemory(BaseMemory):
    """Chat memory for one scope (whose memory) and one session (which conversation).

    Args:
        memory: a `shared_core.Memory` (or `AsyncMemory`).
        scope: whose memory, e.g. `Scope(tenant="acme", user="alice")`; required.
        session_id: the conversation; defaults to `scope.session`, else a new id.
        token_budget: most tokens the long-term memory block may take.
        k: most long-term memories considered for the block.
        recent_turns: how many of the session's latest turns `get()` returns.
        kinds: memory kinds injected; `None` injects every kind, raw turns of past sessions included
            (the current session's turns may then appear twice).
    """

    scope: Scope
    session_id: str
    token_budget: int = Field(default=1024, gt=0)
    k: int = Field(default=50, gt=0)
    recent_turns: int = Field(default=20, ge=0)
    kinds: list[Kind] | None = Field(default_factory=lambda: list(LONG_TERM_KINDS))
    _memory: Memory = PrivateAttr()

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        scope: Scope | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        mem, fields = bind(memory, scope, session_id, kwargs)
        super().__init__(**fields)
        self._memory = mem

    @classmethod
    def class_name(cls) -> str:
        return "MemoMemory"

    @classmethod
    def from_defaults(  # type: ignore[override]
        cls,
        memory: Memory | AsyncMemory | None = None,
        scope: Scope | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        chat_history: Sequence[ChatMessage] | None = None,
        *,
        path: str | None = None,
        **kwargs: Any,
    ) -> MemoMemory:
        """`memory=` or `path=` (an embedded store, opened here). `chat_history` replaces the session's turns.

        LlamaIndex-only arguments some engines pass (`token_limit`, `llm`) are accepted and ignored.
        """
        for ignored in ("token_limit", "llm", "tokenizer_fn"):
            kwargs.pop(ignored, None)
        if memory is None:
            if path is None:
                raise InvalidInput("MemoMemory.from_defaults needs memory= (a shared_core Memory) or path=")
            memory = Memory.open(path)
        out = cls(memory, scope=scope, session_id=session_id, **kwargs)
        if chat_history:
            out.set(list(chat_history))
        return out

    @property
    def memory(self) -> Memory:
        """The MeMo `Memory` behind this adapter."""
        return self._memory

    def get(self, input: str | ChatMessage | None = None, **kwargs: Any) -> list[ChatMessage]:
        """The long-term memory block (a system message, if anything relevant) then the recent turns.

        The block is searched with `input`, else with the latest user turn. It is MeMo's rendered
        context: cited, within `token_budget`, memory text escaped and delimited as data.
        """
        turns = [
            to_message(r) for r in self._memory.recent_turns(self.scope, self.session_id, self.recent_turns)
        ]
        query = (input.content or "") if isinstance(input, ChatMessage) else (input or query_text(turns))
        if not query.strip():
            return turns
        ctx = self._memory.context(
            query, self.scope, token_budget=self.token_budget, k=self.k, kinds=self.kinds
        )
        return [system_message(ctx.text), *turns] if ctx.text else turns

    def get_all(self) -> list[ChatMessage]:
        """Every stored turn of the session, oldest first (no long-term block)."""
        return [to_message(r) for r in self._memory.recent_turns(self.scope, self.session_id, limit=0)]

    def put(self, message: ChatMessage) -> None:
        """Store one turn durably and let MeMo extract long-term memories from it.

        Tool calls and tool results (agent scratchpad) are not stored; an empty message raises `InvalidInput`.
        """
        turn = to_turn(message)
        if turn is not None:
            self._memory.add_messages([turn], self.scope, session_id=self.session_id)

    def put_messages(self, messages: list[ChatMessage]) -> None:
        """Store several turns in one write (extraction sees them together)."""
        turns = to_turns(messages, self.memory.clock.now())
        if turns:
            self._memory.add_messages(turns, self.scope, session_id=self.session_id)

    def set(self, messages: list[ChatMessage]) -> None:
        """Replace the session's turns with `messages`. Long-term memories stay."""
        turns = to_turns(messages, self.memory.clock.now())
        if turns:  # validated first: bad input fails before anything is cleared
            validate.turns(turns, self._memory.config.limits)
        self._memory.clear_session(self.scope, self.session_id)
        if turns:
            self._memory.add_messages(turns, self.scope, session_id=self.session_id)

    def reset(self) -> None:
        """Forget this session's short-term turns only.

        Long-term memories extracted from them (facts, preferences, events, commitments) are NOT
        touched; delete those with `memory.delete(...)` or MeMo's erasure tools.
        """
        self._memory.clear_session(self.scope, self.session_id)

    # The async methods (aget, aput, aput_messages, aget_all, aset, areset) are BaseMemory's:
    # each runs the sync method above in a worker thread, as AsyncMemory does; no second copy.
