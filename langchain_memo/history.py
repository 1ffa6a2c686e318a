"""`MemoChatMessageHistory`: a LangChain chat history whose messages persist in MeMo.

```python
history = MemoChatMessageHistory(mem, Scope(tenant="acme", user="alice"), session_id="s1")
chain = RunnableWithMessageHistory(prompt | model, lambda sid: MemoChatMessageHistory(mem, alice, sid), ...)
```

Messages are the session's raw turns (`recent_turns`), oldest first. Added messages also feed the
core's extraction, so facts said in one session are recalled in others. `clear()` deletes the
session's turns (`clear_session`); long-term memories drawn from them stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from shared_core import AsyncMemory, MemoryRecord, Scope, validate

from ._convert import MemoryLike, sync_memory, to_message, to_turns, window

__all__ = ["MemoChatMessageHistory"]


class MemoChatMessageHistory(BaseChatMessageHistory):
    """One session's messages, all of them by default. `max_messages` and `max_tokens` (counted with
    `token_counter`, LangChain's approximate counter by default) keep the latest that fit, like
    `trim_messages(strategy="last", start_on="human")`: a bounded window always starts on a user turn."""

    def __init__(
        self,
        memory: MemoryLike,
        scope: Scope,
        session_id: str,
        *,
        max_messages: int | None = None,
        max_tokens: int | None = None,
        token_counter: Callable[[list[BaseMessage]], int] | None = None,
    ) -> None:
        self.memory = sync_memory(memory)
        self._amemory = AsyncMemory(self.memory)
        self.scope = validate.scope(scope)
        self.session_id = validate.identifier(session_id, "session_id")
        self.max_messages, self.max_tokens = max_messages or 0, max_tokens
        self.token_counter = token_counter

    def _window(self, turns: Sequence[MemoryRecord]) -> list[BaseMessage]:
        return window(
            [to_message(t) for t in turns],
            max_tokens=self.max_tokens,
            bounded=bool(self.max_messages),
            token_counter=self.token_counter,
        )

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        return self._window(self.memory.recent_turns(self.scope, self.session_id, limit=self.max_messages))

    async def aget_messages(self) -> list[BaseMessage]:
        turns = await self._amemory.recent_turns(self.scope, self.session_id, limit=self.max_messages)
        return self._window(turns)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not messages:
            return
        self.memory.add_messages(
            to_turns(messages, self.memory.clock.now()), self.scope, session_id=self.session_id
        )

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if not messages:
            return
        turns = to_turns(messages, self.memory.clock.now())
        await self._amemory.add_messages(turns, self.scope, session_id=self.session_id)

    def __eq__(self, other: object) -> bool:  # like InMemoryChatMessageHistory: equal messages
        if not isinstance(other, MemoChatMessageHistory):
            return NotImplemented
        return self.messages == other.messages

    __hash__ = None  # type: ignore[assignment]

    def clear(self) -> None:
        self.memory.clear_session(self.scope, self.session_id)

    async def aclear(self) -> None:
        await self._amemory.clear_session(self.scope, self.session_id)
