"""The one place where LangChain types become MeMo types and back (messages, documents, run scope).

Nothing here scores, filters or decides anything: it only converts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Union

from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    message_to_dict,
    messages_from_dict,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately

from shared_core import AsyncMemory, Hit, InvalidInput, Memory, MemoryRecord, Scope, ScopeError, validate
from shared_core.render import as_data  # the one rule for showing stored text as data

MemoryLike = Union[Memory, AsyncMemory]
ScopeResolver = Callable[[Any, Mapping[str, Any]], Scope]
"""`(runtime context, RunnableConfig) -> Scope`: whose memory a run reads and writes."""

_ROLE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_MESSAGE: dict[str, Callable[..., BaseMessage]] = {
    "user": HumanMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
    "tool": lambda content, **kw: ToolMessage(content, tool_call_id=kw.get("id") or "unknown", **kw),
}


def sync_memory(memory: MemoryLike) -> Memory:
    """Adapters accept either facade; they keep the `Memory` and offload async calls via `AsyncMemory`."""
    if isinstance(memory, AsyncMemory):
        return memory.sync
    if not isinstance(memory, Memory):
        raise InvalidInput(f"a shared_core Memory or AsyncMemory is required, got {type(memory).__name__}")
    return memory


def text_of(message: BaseMessage) -> str:
    """The plain text of a message (string content, or the text blocks of list content)."""
    return str(message.text)


LC_MESSAGE = "lc_message"  # the turn's metadata key holding the serialized LangChain message


def stand_in(message: BaseMessage) -> str:
    """The searchable text of a message: its text, else what it carries (tool calls, non-text blocks)."""
    text = text_of(message)
    if text.strip():
        return text
    calls = [
        f"{c['name']}({json.dumps(c['args'], ensure_ascii=False)})"
        for c in getattr(message, "tool_calls", [])
    ]
    blocks = (
        [str(b.get("type", "block")) for b in message.content if isinstance(b, dict)]
        if isinstance(message.content, list)
        else []
    )
    return f"[{message.type}: " + ", ".join(["tool call " + c for c in calls] + blocks or ["empty"]) + "]"


def to_turns(messages: Sequence[BaseMessage], now: datetime | None = None) -> list[dict[str, Any]]:
    """LangChain messages -> `add_messages` turns. With `now`, turn i is stamped `now + i µs` so the
    order of messages given in one call survives in `recent_turns` (the core stamps them all `now`).
    The whole message (tool calls, `tool_call_id`, content blocks) rides in the turn's metadata."""
    turns = []
    for i, m in enumerate(messages):
        turn: dict[str, Any] = {
            "role": _ROLE.get(m.type, "user"),
            "content": stand_in(m),
            "id": m.id,
            "name": m.name,
            "metadata": {LC_MESSAGE: json.dumps(message_to_dict(m), ensure_ascii=False)},
        }
        if now is not None:
            turn["timestamp"] = now + timedelta(microseconds=i)
        turns.append(turn)
    return turns


def window(
    messages: list[BaseMessage],
    *,
    max_tokens: int | None,
    bounded: bool,
    token_counter: Callable[[list[BaseMessage]], int] | None = None,
) -> list[BaseMessage]:
    """The latest messages within `max_tokens` (like `trim_messages(strategy="last")`); a bounded window
    (a token or message limit) always starts on a user turn."""
    if max_tokens is not None:
        messages = trim_messages(
            messages,
            max_tokens=max_tokens,
            strategy="last",
            start_on="human",
            token_counter=token_counter or count_tokens_approximately,
        )
    if bounded or max_tokens is not None:
        while messages and not isinstance(messages[0], HumanMessage):
            messages = messages[1:]
    return messages


def to_message(record: MemoryRecord) -> BaseMessage:
    """A raw turn (kind episode) -> the LangChain message it was stored from."""
    raw = record.metadata.get(LC_MESSAGE)
    if isinstance(raw, str):
        try:
            return messages_from_dict([json.loads(raw)])[0]
        except (ValueError, KeyError, TypeError):  # not a message: rebuild it from the text below
            pass
    role = str(record.metadata.get("role", "user"))
    speaker = record.provenance.speaker
    name = speaker if speaker and speaker != role else None
    ids = record.provenance.source_message_ids
    return _MESSAGE.get(role, HumanMessage)(record.text, name=name, id=ids[0] if ids else record.id)


def to_document(hit: Hit) -> Document:
    """A search hit -> a `Document` with its score and provenance in `metadata`."""
    rec = hit.record
    return Document(
        id=rec.id,
        page_content=as_data(rec.text),  # shown as data: no line can pose as another turn
        metadata={
            "id": rec.id,
            "score": hit.score,
            "kind": rec.kind.value,
            "created_at": rec.created_at.isoformat(),
            "valid_from": rec.valid_from.isoformat() if rec.valid_from else None,
            "provenance": rec.provenance.model_dump(mode="json"),
            **({"metadata": dict(rec.metadata)} if rec.metadata else {}),
        },
    )


def _pick(context: Any, configurable: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = context.get(name) if isinstance(context, Mapping) else getattr(context, name, None)
        if value is None:
            value = configurable.get(name)
        if value is not None:
            return value
    return None


def run_scope(context: Any, config: Mapping[str, Any] | None, tenant: str = "default") -> Scope:
    """The scope of a run: `user_id`, `tenant` (or `tenant_id`), `agent_id` read from the runtime context
    (attribute or key) first, then from `config["configurable"]`. Raises `ScopeError` (a `MemoError`)
    when no user or agent is given."""
    conf = (config or {}).get("configurable") or {}
    user, agent = _pick(context, conf, "user_id", "langgraph_user_id"), _pick(context, conf, "agent_id")
    if user is None and agent is None:
        raise ScopeError(
            'this run names no user_id: pass config={"configurable": {"user_id": ...}} (or context=... with a '
            "user_id) to invoke, or give the adapter a fixed scope=Scope(tenant=..., user=...)"
        )
    return validate.scope(
        {"tenant": _pick(context, conf, "tenant", "tenant_id") or tenant, "user": user, "agent": agent}
    )


def run_session(context: Any, config: Mapping[str, Any] | None) -> str | None:
    """The session of a run: `session_id` or `thread_id` (context first, then `configurable`)."""
    value = _pick(context, (config or {}).get("configurable") or {}, "session_id", "thread_id")
    return None if value is None else str(value)


def resolver_for(scope: Scope | ScopeResolver | None, tenant: str = "default") -> ScopeResolver:
    """A fixed `Scope`, a resolver, or None (read the run: see `run_scope`)."""
    if isinstance(scope, Scope):
        fixed = validate.scope(scope)
        return lambda _ctx, _cfg: fixed
    if scope is None:
        return lambda ctx, cfg: run_scope(ctx, cfg, tenant)
    return scope
