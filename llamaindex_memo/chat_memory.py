"""`MemoMemory`: a LlamaIndex `BaseMemory` backed by MeMo, with `ChatMemoryBuffer`'s contract.

Short-term memory is the session's turns (kept by MeMo, so they survive a restart), bounded by
`token_limit` exactly as `ChatMemoryBuffer` bounds them; long-term memory is what MeMo extracted from
every session of the scope, injected as one cited `<memories>` block inside that same limit.

```python
memory = MemoMemory(Memory.open("./memo_data"), scope=Scope(user="alice"), session_id="s1")
engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory)
```
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms.llm import LLM
from llama_index.core.memory.types import BaseMemory
from llama_index.core.utils import get_tokenizer

from shared_core import AsyncMemory, InvalidInput, Kind, Memory, Scope, validate

from ._convert import as_scope, message_id, query_text, session_id_for, to_message, to_turns, token_counter
from ._recall import recall
from ._store import StoreRef, resolve

LONG_TERM_KINDS: tuple[Kind, ...] = (Kind.FACT, Kind.PREFERENCE, Kind.EVENT, Kind.COMMITMENT)
DEFAULT_TOKEN_LIMIT = 3000  # ChatMemoryBuffer's
DEFAULT_TOKEN_LIMIT_RATIO = 0.75  # of the LLM's context window, as ChatMemoryBuffer.from_defaults(llm=)
_Entry = tuple[ChatMessage, int, str]  # message, tokens, message id


class MemoMemory(BaseMemory):
    """Chat memory for one scope (whose memory) and one session (which conversation).

    Args:
        memory: a `shared_core.Memory` (or `AsyncMemory`); or `store=` (where it lives, as data).
        scope: whose memory, e.g. `Scope(tenant="acme", user="alice")`; required.
        session_id: the conversation; defaults to `scope.session`, else a new id.
        token_limit: most tokens `get()` returns, history and long-term block together
            (minus the `initial_token_count` an engine passes), as `ChatMemoryBuffer`.
        token_budget: most tokens of the long-term block.
        chat_history_token_ratio: share of the limit the history keeps when the block competes for it.
        k, kinds: how many long-term memories are considered, of which kinds (`None`: every kind).
        insert_method: "user" puts the block in front of the latest user message (one system message
            per prompt: the engine's); "system" returns it as a system message first.
    """

    scope: Scope
    session_id: str
    store: StoreRef
    token_limit: int = Field(default=DEFAULT_TOKEN_LIMIT, gt=0)
    token_budget: int = Field(default=1024, gt=0)
    chat_history_token_ratio: float = Field(default=0.7, ge=0, le=1)
    k: int = Field(default=50, gt=0)
    kinds: list[Kind] | None = Field(default_factory=lambda: list(LONG_TERM_KINDS))
    insert_method: Literal["user", "system"] = "user"
    tokenizer_fn: Callable[[str], list[Any]] = Field(default_factory=get_tokenizer, exclude=True)
    _memory: Memory = PrivateAttr()
    _history: list[_Entry] | None = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.RLock)

    def __init__(
        self,
        memory: Memory | AsyncMemory | None = None,
        scope: Scope | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        *,
        store: StoreRef | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("class_name", None)
        mem, ref = resolve(memory, dict(store) if isinstance(store, Mapping) else store)
        sc = as_scope(scope)
        fields: dict[str, Any] = {"scope": sc, "session_id": session_id_for(sc, session_id), "store": ref}
        super().__init__(**fields, **kwargs)
        self._memory = mem

    @classmethod
    def class_name(cls) -> str:
        return "MemoMemory"

    @classmethod
    def from_defaults(  # type: ignore[override,unused-ignore]
        cls,
        memory: Memory | AsyncMemory | None = None,
        scope: Scope | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        chat_history: Sequence[ChatMessage] | None = None,
        llm: LLM | None = None,
        token_limit: int | None = None,
        tokenizer_fn: Callable[[str], list[Any]] | None = None,
        *,
        path: str | None = None,
        **kwargs: Any,
    ) -> MemoMemory:
        """`ChatMemoryBuffer.from_defaults`' arguments, plus `memory=` or `path=` (an embedded store) and `scope=`."""
        if memory is None and path is not None:
            memory = Memory.open(path)
        if token_limit is None:
            token_limit = (
                int(llm.metadata.context_window * DEFAULT_TOKEN_LIMIT_RATIO) if llm else DEFAULT_TOKEN_LIMIT
            )
        if tokenizer_fn is not None:
            kwargs["tokenizer_fn"] = tokenizer_fn
        out = cls(memory, scope=scope, session_id=session_id, token_limit=token_limit, **kwargs)
        if chat_history:
            out.set(list(chat_history))
        return out

    # ---------------------------------------------------------------------- serialization
    def __getstate__(self) -> dict[str, Any]:  # a pickle holds the configuration, never the handle
        return {"__dict__": self.model_dump(mode="json", exclude={"class_name"})}

    def __setstate__(self, state: dict[str, Any]) -> None:
        data = dict(state["__dict__"])
        data.pop("class_name", None)
        self.__init__(**data)  # type: ignore[misc]

    def to_string(self) -> str:
        """`ChatMemoryBuffer.to_string`: the configuration as JSON."""
        return self.to_json()

    @classmethod
    def from_string(cls, json_str: str) -> MemoMemory:
        return cls.from_json(json_str)

    @property
    def memory(self) -> Memory:
        """The MeMo `Memory` behind this adapter."""
        return self._memory

    # ------------------------------------------------------------------------------ reads
    def _entries(self) -> list[_Entry]:
        """The session's turns, read once per instance, then kept current by this instance's writes."""
        with self._lock:
            if self._history is None:
                count = token_counter(self.tokenizer_fn)
                recs = self._memory.recent_turns(self.scope, self.session_id, limit=0)
                self._history = [(m, count(m), message_id(r)) for r in recs for m in [to_message(r)]]
            return list(self._history)

    @staticmethod
    def _window(entries: list[_Entry], limit: int) -> list[_Entry]:
        """The longest tail within `limit` tokens; when cut, it starts on a user turn (ChatMemoryBuffer's rule)."""
        used, start = 0, len(entries)
        while start > 0 and used + entries[start - 1][1] <= limit:
            start -= 1
            used += entries[start][1]
        if start > 0:
            while start < len(entries) and entries[start][0].role != MessageRole.USER:
                start += 1
        return entries[start:]

    def get(self, input: Any = None, initial_token_count: int = 0, **kwargs: Any) -> list[ChatMessage]:
        """The session's latest turns within `token_limit`, with the long-term block searched with `input`
        (str, ChatMessage or QueryBundle), else with the latest user turn."""
        if initial_token_count > self.token_limit:
            raise ValueError("Initial token count exceeds token limit")
        avail = self.token_limit - initial_token_count
        entries = self._entries()
        window = self._window(entries, avail)
        if self.insert_method == "user" and not any(m.role == MessageRole.USER for m, _, _ in window):
            return [m for m, _, _ in window]  # no user turn to carry the block
        query = (
            query_text(input) or query_text([m for m, _, _ in window]) or query_text([e[0] for e in entries])
        )
        used = sum(n for _, n, _ in window)
        budget = min(self.token_budget, max(avail - used, int(avail * (1 - self.chat_history_token_ratio))))
        ctx = recall(
            self._memory,
            query,
            self.scope,
            budget=budget,
            k=self.k,
            kinds=self.kinds,
            exclude={mid for _, _, mid in window},
        )
        if ctx is None:
            return [m for m, _, _ in window]
        block = TextBlock(text=ctx.text)
        cost = len(self.tokenizer_fn(ctx.text)) + 1
        window = self._window(entries, avail - cost)
        msgs = [m for m, _, _ in window]
        if self.insert_method == "system":
            return [ChatMessage(role=MessageRole.SYSTEM, blocks=[block]), *msgs]
        last = next((i for i in range(len(msgs) - 1, -1, -1) if msgs[i].role == MessageRole.USER), None)
        if last is None:  # the shorter window lost its user turns: no block
            return [m for m, _, _ in self._window(entries, avail)]
        msgs[last] = msgs[last].model_copy(update={"blocks": [block, *msgs[last].blocks]})
        return msgs

    def get_all(self, status: Any = None) -> list[ChatMessage]:
        """Every stored turn of the session, oldest first (no long-term block). `status` is `Memory`'s
        (active/archived): every MeMo turn is active."""
        return [m for m, _, _ in self._entries()]

    async def aget_all(self, status: Any = None) -> list[ChatMessage]:
        return await asyncio.to_thread(self.get_all)

    # ----------------------------------------------------------------------------- writes
    def _write(self, messages: Sequence[ChatMessage]) -> None:
        """One `add_messages` call for the batch; if MeMo refuses it, each message on its own, so one
        message it refuses never loses the others (the refusal is raised after)."""
        pairs = to_turns(messages, self._memory.clock.now())
        if not pairs:
            return
        try:
            self._remember(pairs)
        except InvalidInput:
            if len(pairs) == 1:
                raise
            refused: InvalidInput | None = None
            for pair in pairs:
                try:
                    self._remember([pair])
                except InvalidInput as exc:
                    refused = refused or exc
            if refused is not None:
                raise refused from None

    def _remember(self, pairs: list[tuple[ChatMessage, dict[str, Any]]]) -> None:
        result = self._memory.add_messages([t for _, t in pairs], self.scope, session_id=self.session_id)
        stored = result.episodes
        msgs = [to_message(e) for e in stored] if len(stored) == len(pairs) else [m for m, _ in pairs]
        count = token_counter(self.tokenizer_fn)
        with self._lock:
            if self._history is not None:
                self._history.extend((m, count(m), t.get("id", "")) for m, (_, t) in zip(msgs, pairs))

    def put(self, message: ChatMessage) -> None:
        """Store one turn durably (one MeMo write); MeMo extracts long-term memories from it."""
        self._write([message])

    def put_messages(self, messages: list[ChatMessage]) -> None:
        """Store several turns in one MeMo write (extraction sees them together)."""
        self._write(messages)

    def set(self, messages: list[ChatMessage]) -> None:
        """Replace the session's turns with `messages`. Long-term memories stay."""
        pairs = to_turns(messages, self._memory.clock.now())
        if pairs:  # validated first: bad input fails before anything is cleared
            validate.turns([t for _, t in pairs], self._memory.config.limits)
        with self._lock:
            self._memory.clear_session(self.scope, self.session_id)
            self._history = []
            if pairs:
                self._remember(pairs)

    async def areset(self, status: Any = None) -> None:
        await asyncio.to_thread(self.reset)

    def reset(self, status: Any = None) -> None:
        """Forget this session's turns only. Long-term memories extracted from them stay: delete
        those with `memory.delete(...)` or MeMo's erasure tools."""
        with self._lock:
            self._memory.clear_session(self.scope, self.session_id)
            self._history = []

    # The other async methods (aget, aput, aput_messages, aset) are BaseMemory's:
    # each runs the sync method above in a worker thread, as AsyncMemory does; no second copy.
