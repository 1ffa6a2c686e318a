"""MeMo for `langchain.agents.create_agent`: a middleware that recalls and remembers, and memory tools.

```python
from langchain.agents import create_agent
from langchain_memo import MemoMiddleware
agent = create_agent(model, tools, middleware=[MemoMiddleware(Memory.open("./memo_data"))])
agent.invoke({"messages": [("user", "hi")]}, {"configurable": {"user_id": "alice", "thread_id": "t1"}})
```

**Whose memory** a run uses is read from the run, in this order:

1. `runtime.context` (the `context=` of `invoke`, typed by `create_agent(context_schema=...)`):
   attributes or keys `user_id`, `tenant` (or `tenant_id`), `agent_id`, `session_id` (or `thread_id`);
2. `config["configurable"]`: the same names; LangGraph's `thread_id` is the session.

The scope is `Scope(tenant, user=user_id, agent=agent_id)` (tenant defaults to the middleware's
`tenant`); the session only tags the stored turns, it does not narrow recall. Pass `scope=` (a fixed
`Scope`, or a `(context, config) -> Scope` resolver) to decide otherwise. A run without a user or
agent raises `ScopeError`.

Before every model call the latest human message is the query; the core's `context()` block (cited,
delimited, escaped, within `token_budget` tokens; never a pending-review memory) is appended to the
system prompt. After the run, the latest human message and the final AI answer are stored with
`add_messages` (raw turns plus whatever the core's extractor draws from them).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.config import get_config
from langgraph.runtime import Runtime, get_runtime

from shared_core import AsyncMemory, Context, Kind, Memory, Scope
from shared_core.render import as_data

from ._convert import MemoryLike, ScopeResolver, resolver_for, run_session, sync_memory, text_of, to_turns

__all__ = ["MemoMiddleware", "create_memory_tools"]


def _config() -> dict[str, Any]:
    try:
        return dict(get_config())
    except RuntimeError:  # called outside a LangGraph run
        return {}


def _latest_human(messages: Sequence[BaseMessage]) -> str | None:
    for m in reversed(messages):
        if isinstance(m, HumanMessage):
            return text_of(m)
    return None


def _exchange(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The latest human message and the final AI answer after it (if it has text)."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            answers = [m for m in messages[i + 1 :] if isinstance(m, AIMessage)]
            return [messages[i], *([answers[-1]] if answers and text_of(answers[-1]).strip() else [])]
    return []


class MemoMiddleware(AgentMiddleware[AgentState[Any], Any]):
    """Injects the user's relevant memories into the system prompt and stores each exchange."""

    def __init__(
        self,
        memory: MemoryLike,
        *,
        scope: Scope | ScopeResolver | None = None,
        tenant: str = "default",
        token_budget: int = 1024,
        k: int = 50,
        kinds: Sequence[Kind | str] | None = None,
        save: bool = True,
        tools: bool = False,
    ) -> None:
        """`save=False` only recalls; `tools=True` also gives the agent search/save/forget tools."""
        super().__init__()
        self.memory = sync_memory(memory)
        self._amemory = AsyncMemory(self.memory)
        self._resolve = resolver_for(scope, tenant)
        self.token_budget, self.k, self.kinds, self.save = token_budget, k, kinds, save
        self.tools = create_memory_tools(self.memory, self._resolve) if tools else []

    def _ask(self, request: ModelRequest[Any]) -> dict[str, Any] | None:
        """The `context()` arguments for this model call (None: no human message to search for)."""
        query = _latest_human(request.messages)
        if query is None:
            return None
        scope = self._resolve(getattr(request.runtime, "context", None), _config())
        return {
            "query": query,
            "scope": scope,
            "token_budget": self.token_budget,
            "k": self.k,
            "kinds": self.kinds,
        }

    def _inject(self, request: ModelRequest[Any], ctx: Context, scope: Scope) -> ModelRequest[Any]:
        if not ctx.text:
            return request
        record_use(self.memory, ctx.hits, scope)  # the core batches it off the reply's path
        base = request.system_prompt
        return request.override(system_message=SystemMessage(f"{base}\n\n{ctx.text}" if base else ctx.text))

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> Any:
        ask = self._ask(request)
        return handler(
            request if ask is None else self._inject(request, self.memory.context(**ask), ask["scope"])
        )

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> Any:
        ask = self._ask(request)
        return await handler(
            request
            if ask is None
            else self._inject(request, await self._amemory.context(**ask), ask["scope"])
        )

    def _to_store(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """The `add_messages()` arguments for this run's exchange (None: nothing to store)."""
        exchange = _exchange(state["messages"]) if self.save else []
        if not exchange:
            return None
        config, context = _config(), getattr(runtime, "context", None)
        return {
            "messages": to_turns(exchange, self.memory.clock.now()),
            "scope": self._resolve(context, config),
            "session_id": run_session(context, config),
        }

    def after_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        todo = self._to_store(state, runtime)
        if todo is not None:
            self.memory.add_messages(**todo)
        return None

    async def aafter_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        todo = self._to_store(state, runtime)
        if todo is not None:
            await self._amemory.add_messages(**todo)
        return None


def record_use(memory: Memory, hits: Sequence[Any], scope: Scope) -> None:
    """Tell the core which memories went into a prompt (`Memory.record_use`: batched, non-blocking)."""
    if hits:
        memory.record_use([h.id for h in hits], scope=scope)


def create_memory_tools(
    memory: MemoryLike, scope: Scope | ScopeResolver | None = None, *, k: int = 5
) -> list[BaseTool]:
    """`search_memory`, `save_memory` and `forget_memory` tools, scoped like the middleware.

    With a fixed `Scope` they are plain tools (`tool.invoke({"query": ...})`, classic agents, any tool
    runner). With a `(context, config) -> Scope` resolver or None (read `user_id`... from the run), they
    read the LangGraph run they are called in (`get_runtime().context`, `get_config()`)."""
    mem = sync_memory(memory)
    amem = AsyncMemory(mem)
    resolve = resolver_for(scope)

    def _run() -> tuple[Any, dict[str, Any]]:
        try:
            runtime = get_runtime()
        except RuntimeError:  # not inside a LangGraph run
            runtime = None
        return getattr(runtime, "context", None), _config()

    def _scope() -> Scope:
        return resolve(None, {}) if isinstance(scope, Scope) else resolve(*_run())

    def _saving(text: str) -> dict[str, Any]:  # provenance: the run's session, when there is one
        return {"text": text, "scope": _scope(), "session_id": run_session(*_run())}

    def _hits(hits: Sequence[Any], sc: Scope) -> str:  # JSON: memory text stays data (quoted, escaped)
        record_use(mem, hits, sc)
        return json.dumps([{"id": h.id, "text": as_data(h.text), "score": h.score} for h in hits])

    def search_memory(query: str) -> str:
        """Search the user's long-term memory. Returns JSON [{id, text, score}]."""
        sc = _scope()
        return _hits(mem.search(query, sc, k=k), sc)

    async def asearch_memory(query: str) -> str:
        sc = _scope()
        return _hits(await amem.search(query, sc, k=k), sc)

    def save_memory(text: str) -> str:
        """Save one self-contained fact about the user to long-term memory."""
        return f"saved memory {mem.remember(**_saving(text)).id}"

    async def asave_memory(text: str) -> str:
        return f"saved memory {(await amem.remember(**_saving(text))).id}"

    def forget_memory(memory_id: str) -> str:
        """Delete one memory by the id search_memory returned."""
        return f"forgot {mem.delete([memory_id], _scope()) or 'nothing'}"

    async def aforget_memory(memory_id: str) -> str:
        return f"forgot {await amem.delete([memory_id], _scope()) or 'nothing'}"

    pairs = [(search_memory, asearch_memory), (save_memory, asave_memory), (forget_memory, aforget_memory)]
    return [StructuredTool.from_function(func=f, coroutine=af) for f, af in pairs]
