"""`MemoConversationMemory`: MeMo behind the classic `BaseMemory` interface (`langchain_classic`), so
ConversationChain-style code keeps working.

```python
memory = MemoConversationMemory(memory=mem, scope=Scope(tenant="acme", user="alice"), session_id="s1")
chain = ConversationChain(llm=llm, memory=memory)       # deprecated by LangChain, still works
```

`load_memory_variables` returns, under `memory_key` ("history"), the relevant long-term memories
(the core's cited `<memories>` block for the current input, within `token_budget`) followed by the
session's recent turns; as one string (`Human: ...` / `AI: ...` lines) or, with
`return_messages=True`, as messages (the block as a `SystemMessage`). `save_context` stores the
exchange; `clear` deletes the session's turns (long-term memories stay).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_classic.base_memory import BaseMemory
from langchain_classic.memory.utils import get_prompt_input_key
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, get_buffer_string
from pydantic import ConfigDict

from shared_core import AsyncMemory, Context, InvalidInput, Kind, Memory, MemoryRecord, Scope, validate
from shared_core.render import as_data

from ._convert import sync_memory, text_of, to_message, to_turns, window

__all__ = ["MemoConversationMemory"]


class MemoConversationMemory(BaseMemory):
    """Recent turns of one session plus relevant long-term memories of the scope."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory
    scope: Scope
    session_id: str
    memory_key: str = "history"
    input_key: str | None = None
    output_key: str | None = None
    return_messages: bool = False
    max_turns: int = 10
    max_token_limit: int | None = None  # ConversationTokenBufferMemory's bound on the recent turns
    token_budget: int = 512
    k: int = 20
    kinds: Sequence[Kind | str] | None = None
    human_prefix: str = "Human"
    ai_prefix: str = "AI"

    def __init__(self, **data: Any) -> None:  # bad input raises a MemoError, not a pydantic error
        data["memory"] = sync_memory(data.get("memory"))  # type: ignore[arg-type]
        data["scope"] = validate.scope(data.get("scope"))
        data["session_id"] = validate.identifier(data.get("session_id"), "session_id")
        super().__init__(**data)

    @property
    def memory_variables(self) -> list[str]:
        return [self.memory_key]

    def _input(self, inputs: dict[str, Any]) -> str:
        try:
            return str(inputs[self.input_key or get_prompt_input_key(inputs, self.memory_variables)])
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"cannot tell the chain's input ({exc}); set input_key") from None

    def _output(self, outputs: dict[str, Any]) -> str:
        if self.output_key is None and len(outputs) != 1:
            raise InvalidInput(f"several outputs {sorted(outputs)}; set output_key")
        return str(outputs[self.output_key] if self.output_key else next(iter(outputs.values())))

    def _variables(self, ctx: Context, turns: list[MemoryRecord]) -> dict[str, Any]:
        messages = window([to_message(t) for t in turns], max_tokens=self.max_token_limit, bounded=True)
        if self.return_messages:
            return {self.memory_key: ([SystemMessage(ctx.text)] if ctx.text else []) + messages}
        lines = [m.model_copy(update={"content": as_data(text_of(m))}) for m in messages]  # one line each
        chat = get_buffer_string(lines, human_prefix=self.human_prefix, ai_prefix=self.ai_prefix)
        return {self.memory_key: "\n".join(x for x in (ctx.text, chat) if x)}

    def _exchange(self, inputs: dict[str, Any], outputs: dict[str, Any]) -> list[dict[str, Any]]:
        pair: list[BaseMessage] = [HumanMessage(self._input(inputs)), AIMessage(self._output(outputs))]
        return to_turns(pair, self.memory.clock.now())

    def load_memory_variables(self, inputs: dict[str, Any]) -> dict[str, Any]:
        ctx = self.memory.context(
            self._input(inputs), self.scope, token_budget=self.token_budget, k=self.k, kinds=self.kinds
        )
        return self._variables(
            ctx, self.memory.recent_turns(self.scope, self.session_id, limit=self.max_turns)
        )

    async def aload_memory_variables(self, inputs: dict[str, Any]) -> dict[str, Any]:
        amem = AsyncMemory(self.memory)
        query = self._input(inputs)
        ctx = await amem.context(
            query, self.scope, token_budget=self.token_budget, k=self.k, kinds=self.kinds
        )
        return self._variables(
            ctx, await amem.recent_turns(self.scope, self.session_id, limit=self.max_turns)
        )

    def save_context(self, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.memory.add_messages(self._exchange(inputs, outputs), self.scope, session_id=self.session_id)

    async def asave_context(self, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        await AsyncMemory(self.memory).add_messages(
            self._exchange(inputs, outputs), self.scope, session_id=self.session_id
        )

    def clear(self) -> None:
        self.memory.clear_session(self.scope, self.session_id)

    async def aclear(self) -> None:
        await AsyncMemory(self.memory).clear_session(self.scope, self.session_id)
